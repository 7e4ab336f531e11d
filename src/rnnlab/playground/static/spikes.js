// The Spikes page: the LIF neuron (membrane trace, f-I curve) and Poisson trains with
// their time histogram and kernel estimate, the optimal bin width and bandwidth marked.
"use strict";

const Spikes = {
  rates: null,

  init() {
    for (const id of ["lif-current", "lif-tau", "lif-steps"]) $(id).oninput = debounce(() => this.lif(), 80);
    for (const id of ["rate-profile", "rate-rate", "rate-trains", "rate-duration", "rate-bin", "rate-bw"]) {
      $(id).oninput = debounce(() => this.estimate(), 80);
    }
    $("rate-optimal").onclick = () => {
      if (!this.rates) return;
      $("rate-bin").value = Math.round(1000 * this.rates.optimal_bin);
      $("rate-bw").value = Math.round(1000 * this.rates.optimal_bandwidth);
      this.estimate();
    };
    this.seq = 0;
  },

  shown() {
    if (!this.started) { this.started = true; this.lif(); this.estimate(); }
  },

  // the language changed: the status lines and the plots again, in the new one
  relang() { if (this.started) { this.lif(); this.estimate(); } },

  async lif() {
    const body = { current_nA: num("lif-current"), tau_ms: num("lif-tau"), t_stop: num("lif-steps") * 1e-4 };
    $("lif-current-v").textContent = `${body.current_nA.toFixed(2)} nA`;
    try {
      const r = await api("/api/spikes/lif", body);
      linePlot($("lif-trace"), [{ x: r.t.map((t) => 1000 * t), y: r.u.map((u) => 1000 * u), label: "u (mV)" }],
        { title: tr("g-lif", { n: r.spikes.length }), xLabel: tr("ax-time-ms"), yLabel: "u (mV)", hlines: [{ y: 1000 * r.theta, color: "#d62728" }],
          vlines: r.spikes.slice(0, 60).map((s) => ({ x: 1000 * s, color: "#bbb" })) });
      const nA = r.currents.map((c) => 1e9 * c);
      linePlot($("lif-fi"), [
        { x: nA, y: r.fi_theory, label: tr("l-closed") },
        { x: nA, y: r.fi_simulated, label: tr("l-simulated"), dots: true, color: COLORS[1] },
      ], { title: tr("g-fi"), xLabel: tr("ax-current"), yLabel: tr("ax-rate"), vlines: [{ x: body.current_nA, color: "#2ca02c", label: "I" }] });
      setStatus("lif-status", tr("st-lif", { steps: num("lif-steps"), n: r.spikes.length, t: (1000 * body.t_stop).toFixed(0) }));
    } catch (err) {
      setStatus("lif-status", err.message, true);
    }
  },

  async estimate() {
    const body = {
      profile: $("rate-profile").value, rate: num("rate-rate"), n_trains: num("rate-trains"),
      duration: num("rate-duration"), bin_ms: num("rate-bin"), bandwidth_ms: num("rate-bw"),
    };
    $("rate-bin-v").textContent = `${body.bin_ms} ms`;
    $("rate-bw-v").textContent = `${body.bandwidth_ms} ms`;
    const seq = ++this.seq;
    try {
      const r = await api("/api/spikes/rates", body);
      if (seq !== this.seq) return; // a newer request is on its way
      this.rates = r;
      // the optimal values as tick marks on the sliders
      $("rate-bin-best").innerHTML = r.optimal_bin === null ? "" : `<option value="${Math.round(1000 * r.optimal_bin)}">`;
      $("rate-bw-best").innerHTML = r.optimal_bandwidth === null ? "" : `<option value="${Math.round(1000 * r.optimal_bandwidth)}">`;
      raster($("rate-raster"), r.trains, r.duration, tr("g-raster", { n: r.trains.length }));
      const truth = { x: r.true_t, y: r.true_rate, label: tr("l-true-rate"), color: "#333", dash: [4, 3] };
      const half = r.bin_size / 2;
      linePlot($("rate-psth"), [{ x: r.psth_t.map((t) => t + half), y: r.psth, label: tr("l-histogram"), color: COLORS[0] }, truth],
        { title: tr("g-psth", { bin: body.bin_ms, opt: this.ms(r.optimal_bin) }), xLabel: tr("ax-time-s"), yLabel: tr("ax-rate"), yRange: [0, 1.05 * Math.max(...r.psth, ...r.true_rate)] });
      linePlot($("rate-kernel"), [{ x: r.kernel_t, y: r.kernel, label: tr("l-kernel"), color: COLORS[2] }, truth],
        { title: tr("g-kernel", { bw: body.bandwidth_ms, opt: this.ms(r.optimal_bandwidth) }), xLabel: tr("ax-time-s"), yLabel: tr("ax-rate") });
      const spikes = r.trains.reduce((a, t) => a + t.length, 0);
      setStatus("rate-status", tr("st-rates", { n: spikes, bin: this.ms(r.optimal_bin), bw: this.ms(r.optimal_bandwidth) }));
    } catch (err) {
      setStatus("rate-status", err.message, true);
    }
  },

  ms(s) { return s === null ? tr("st-na") : `${(1000 * s).toFixed(0)} ms`; },
};
