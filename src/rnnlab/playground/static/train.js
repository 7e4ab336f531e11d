// A training on the server, followed live: the losses and the step arrive as server-sent
// events; the latest look inside the model is fetched when a new one is announced.
"use strict";

const LIVE = ["starting", "running", "paused"]; // a training that has not ended

class Training {
  // hooks: {progress(state, {losses, val}), snapshot(snap), data(points), end(state)}
  constructor(hooks) {
    this.hooks = hooks;
    this.id = null;
    this.losses = [];
    this.source = null;
    this.shown = 0; // snapshot version drawn
    this.fetching = false;
    this.dataLoaded = false;
  }

  async start(spec) {
    this.close();
    this.losses = []; this.val = []; this.shown = 0; this.wanted = 0; this.dataLoaded = false;
    const job = await api("/api/jobs", spec);
    this.id = job.id;
    this.source = new EventSource(`/api/jobs/${job.id}/events`);
    this.source.onmessage = (e) => this.update(JSON.parse(e.data));
    // The stream ends when the training does; anything else: follow by polling.
    this.source.onerror = () => { if (this.source) { this.close(); this.poll(); } };
    return job;
  }

  async poll() {
    if (!this.id) return;
    const id = this.id;
    const state = await api(`/api/jobs/${id}?since=${this.losses.length}`).catch(() => null);
    if (!state || id !== this.id) return;
    this.update(state);
    if (LIVE.includes(state.status)) setTimeout(() => this.poll(), 500);
  }

  update(state) {
    if (state.id !== this.id) return;
    this.losses.push(...state.losses);
    this.val = state.val_losses || [];
    this.status = state.status;
    this.state = state; // for the status line written again in another language
    this.hooks.progress(state, { losses: this.losses, val: this.val });
    if (state.snapshot_version > this.shown) this.fetchSnapshot(state.snapshot_version);
    if (!LIVE.includes(state.status)) {
      this.close();
      this.hooks.end(state);
    }
  }

  async fetchSnapshot(version) {
    this.wanted = Math.max(this.wanted || 0, version);
    if (this.fetching) return; // the loop below picks the newer version up
    this.fetching = true;
    const id = this.id;
    try {
      if (this.hooks.data && !this.dataLoaded) {
        this.hooks.data(await api(`/api/jobs/${id}/data`));
        this.dataLoaded = true;
      }
      while (this.shown < this.wanted && id === this.id) {
        const v = this.wanted;
        const snap = await api(`/api/jobs/${id}/snapshot`);
        if (id !== this.id) break;
        this.shown = v;
        this.hooks.snapshot(snap);
      }
    } catch (err) {
      if (this.hooks.failed) this.hooks.failed(err);
    } finally {
      this.fetching = false;
    }
  }

  async stop() {
    if (this.id) await api(`/api/jobs/${this.id}/stop`, {});
  }

  // "pause", "step" (to the next logged step, then paused) or "resume"
  async control(action) {
    if (this.id) return api(`/api/jobs/${this.id}/${action}`, {});
  }

  close() {
    if (this.source) { this.source.close(); this.source = null; }
  }
}

// A page's Train, Stop, Pause, Step, Play and Reset buttons (ids `${p}-train` ...).
// Reset ends the training and starts a fresh one from new weights: the seed field goes
// up by one when "new seed" is ticked, else the same seed draws the same weights again.
function wireControls(p, page) {
  const fail = (err) => setStatus(`${p}-status`, err.message, true);
  $(`${p}-train`).onclick = () => page.train();
  $(`${p}-stop`).onclick = () => page.training.stop().catch(fail);
  for (const action of ["pause", "step", "resume"]) {
    $(`${p}-${action}`).onclick = () => page.training.control(action).catch(fail);
  }
  $(`${p}-reset`).onclick = async () => {
    if ($(`${p}-new-seed`).checked) $(`${p}-seed`).value = num(`${p}-seed`) + 1;
    await page.training.stop().catch(() => {});
    await page.train();
  };
}

// The initial weights of a training, in a line: which seed drew them, how many, their
// norm and first values (a reset with a new seed changes them; with the same seed not).
function showInit(id, state) {
  const el = $(id), init = state.init;
  if (!init || (el.dataset.job === `${state.id}` && el.dataset.lang === LANG)) return;
  el.dataset.lang = LANG;
  el.dataset.job = state.id; el.dataset.seed = init.seed; el.dataset.first = init.first.join(" ");
  el.textContent = tr("st-init", { seed: init.seed, params: init.params, norm: init.norm.toPrecision(4), first: init.first.map((v) => v.toFixed(4)).join(", ") });
}

// "step 40 / 300 · running · loss 0.123" for a training's status line; a diverged run
// says where, with the engine's hint ("diverged at step 17: ... lower the learning rate").
function describe(state, curves) {
  const losses = curves.losses;
  const last = losses.length ? losses[losses.length - 1][1] : null;
  const loss = last === null ? "" : tr("st-loss", { v: Number(last).toPrecision(4) });
  const err = state.error ? ` · ${state.error}` : "";
  // the engine's line stays in English but for its start ("diverged at step N")
  const why = state.message ? ` · ${engineLine(state.message)}` : "";
  const line = tr("st-job", { step: state.step, steps: state.steps, status: statusWord(state.status), loss, elapsed: state.elapsed });
  return `${line}${err}${why}`;
}

// The engine's divergence line in the page's language (its known start; the rest as is).
function engineLine(msg) {
  const m = /^diverged at step (\d+): the loss became (\S+); lower the learning rate or clip the gradients/.exec(msg);
  return m ? tr("st-diverged", { step: m[1], loss: m[2] }) + msg.slice(m[0].length) : msg;
}

// Worth a red status line: the training failed or blew up.
function troubled(state) { return state.status === "failed" || state.status === "diverged"; }

// The training loss and the validation loss against the step (log scale); before the
// first losses, what will appear there.
function lossPlot(canvas, state, title) {
  if (!state || !state.losses.length) {
    emptyPlot(canvas, title, tr("g-loss-empty"));
    return;
  }
  const train = state.losses, val = state.val || [];
  linePlot(canvas, [
    { x: train.map((p) => p[0]), y: train.map((p) => p[1]), label: tr("g-loss-train") },
    { x: val.map((p) => p[0]), y: val.map((p) => p[1]), label: tr("g-loss-val"), color: COLORS[1], dots: val.length < 30 },
  ], { title, xLabel: tr("ax-train-step"), yLabel: tr("ax-loss"), logY: true });
}

// A page's training status line again, in the page's language (after a switch).
function restatus(p, training) {
  const s = training.state;
  if (!s) { // before the first state: "not trained yet", "starting a worker" or an error
    const el = $(`${p}-status`);
    if (!el.textContent || el.dataset.k) setStatusKey(`${p}-status`, el.dataset.k || "st-not-trained");
    return;
  }
  setStatus(`${p}-status`, describe(s, { losses: training.losses }), troubled(s));
  showInit(`${p}-init`, s);
}
