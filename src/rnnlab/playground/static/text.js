// The Text page: pick a trained char-model run, sample with a temperature and a prime,
// open its `rnnlab inspect` view when it has one.
"use strict";

const TextPage = {
  runs: [],

  init() {
    $("text-sample").onclick = () => this.sample();
    $("text-run").onchange = () => this.pick();
    $("text-temp").oninput = () => { $("text-temp-v").textContent = num("text-temp").toFixed(2); };
    $("text-temp").oninput();
  },

  async shown() {
    try {
      this.runs = (await api("/api/runs")).runs;
    } catch (err) {
      setStatus("text-status", err.message, true);
      return;
    }
    const sel = $("text-run"), keep = sel.value;
    sel.innerHTML = this.runs.map((r) => (r.broken
      ? `<option value="${r.name}" disabled>${r.name} ${tr("o-broken", { why: r.broken })}</option>`
      : `<option value="${r.name}">${r.name} (${r.cell}-${r.hidden} x${r.layers}, ${r.corpus})</option>`)).join("");
    if (keep) sel.value = keep;
    this.pick();
    if (!this.runs.length) setStatusKey("text-status", "st-no-runs");
  },

  // the language changed: a status line that is one of the page's texts, again
  relang() { const el = $("text-status"); if (el.dataset.k) setStatusKey("text-status", el.dataset.k); },

  pick() {
    const run = this.runs.find((r) => r.name === $("text-run").value);
    const link = $("text-inspect");
    link.hidden = !(run && run.inspect);
    if (run && run.inspect) link.href = `/runs/${encodeURIComponent(run.name)}/inspect.html`;
  },

  async sample() {
    const body = {
      run: $("text-run").value, temperature: num("text-temp"), prime: $("text-prime").value,
      length: num("text-length"), seed: num("text-seed"),
    };
    setStatusKey("text-status", "st-sampling");
    try {
      const r = await api("/api/text/sample", body);
      $("text-out").textContent = r.prime + r.text;
      setStatus("text-status", tr("st-sampled", { n: r.text.length, length: body.length, run: r.run, temp: r.temperature }));
    } catch (err) {
      setStatus("text-status", err.message, true);
    }
  },
};
