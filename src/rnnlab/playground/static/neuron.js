// The Neuron page: an MLP trained live (decision boundary, loss), Hebb/Oja on a cloud,
// gradient descent and momentum on a quadratic.
"use strict";

const Neuron = {
  points: null,
  losses: null,
  snap: null,

  init() {
    this.training = new Training({
      progress: (s, curves) => {
        setStatus("mlp-status", describe(s, curves), troubled(s));
        showInit("mlp-init", s);
        this.losses = curves;
        this.drawLoss();
      },
      data: (d) => { this.points = d; },
      snapshot: (snap) => { this.snap = snap; this.drawField(snap); },
      end: () => {},
      failed: (err) => setStatus("mlp-status", err.message, true),
    });
    wireControls("mlp", this);
    for (const id of ["mlp-layers", "mlp-dataset"]) $(id).addEventListener("input", () => { if (!this.snap) this.drawNet(); });
    for (const id of ["hebb-rule", "hebb-eta", "hebb-angle", "hebb-steps"]) $(id).oninput = debounce(() => this.hebb(), 150);
    for (const id of ["mom-kappa", "mom-alpha", "mom-beta", "mom-steps"]) $(id).oninput = debounce(() => this.momentum(), 100);
    $("mom-optimal").onclick = () => this.momentum(true);
  },

  // the language changed: the status lines and the plots again, in the new one
  relang() {
    restatus("mlp", this.training);
    if (this.started) { this.shown(); this.hebb(); this.momentum(); }
  },

  shown() {
    if (!this.started) { this.started = true; this.hebb(); this.momentum(); }
    // A plot drawn while its page was hidden has no size: draw again when it shows.
    this.drawLoss();
    if (this.snap) this.drawField(this.snap);
    else emptyPlot($("mlp-field"), tr("g-field"), tr("g-field-empty"));
    this.drawNet();
  },

  drawLoss() { lossPlot($("mlp-loss"), this.losses, tr("g-loss-mlp")); },

  async train() {
    const layers = $("mlp-layers").value.split(",").map((s) => s.trim()).filter(Boolean).map(Number);
    const spec = {
      kind: "mlp", dataset: $("mlp-dataset").value, noise: num("mlp-noise"), layers,
      activation: $("mlp-activation").value, optimizer: $("mlp-optimizer").value,
      lr: num("mlp-lr"), momentum: num("mlp-momentum"),
      steps: $("mlp-forever").checked ? 20000 : num("mlp-steps"), seed: num("mlp-seed"),
    };
    try {
      if (spec.dataset === "csv") {
        spec.csv = await readFile($("mlp-csv"));
        if (!spec.csv) throw new Error(tr("st-csv-mlp"));
      }
      this.points = null; this.snap = null; this.losses = null;
      await this.training.start(spec);
      setStatusKey("mlp-status", "st-starting");
    } catch (err) {
      setStatus("mlp-status", err.message, true);
    }
  },

  // the network's diagram: the trained weights, or the controls' layers before training
  drawNet() {
    if (this.snap && this.snap.weights) { drawMLP($("mlp-net"), this.snap.sizes, this.snap.weights); return; }
    const hidden = $("mlp-layers").value.split(",").map((v) => Math.round(Number(v))).filter((v) => v > 0);
    drawMLP($("mlp-net"), [2, ...hidden.slice(0, 3), 1], null); // two classes: one logit
  },

  drawField(snap) {
    this.drawNet();
    const d = this.points || {};
    field($("mlp-field"), {
      grid: snap.grid, extent: snap.extent, points: d.points, labels: d.labels, classes: d.classes,
      title: tr("g-accuracy", { acc: (100 * snap.accuracy).toFixed(1), step: snap.step }),
    });
  },

  async hebb() {
    const body = { rule: $("hebb-rule").value, eta: num("hebb-eta"), angle: num("hebb-angle"), steps: num("hebb-steps") };
    try {
      const r = await api("/api/neuron/hebb", body);
      const w = r.weights[r.weights.length - 1];
      const norm = Math.hypot(w[0], w[1]);
      const scale = Math.max(1.0, norm);
      field($("hebb-field"), {
        extent: [-3, 3, -3, 3], points: r.points,
        arrows: [{ x: 2.5 * r.pc[0], y: 2.5 * r.pc[1], color: "#bbb" }, { x: (2.5 * w[0]) / scale, y: (2.5 * w[1]) / scale, color: "#d62728" }],
        paths: [{ pts: r.weights.map((v) => [(2.5 * v[0]) / Math.max(1, Math.hypot(...v)), (2.5 * v[1]) / Math.max(1, Math.hypot(...v))]), color: "#ff7f0e" }],
        title: tr("g-hebb", { rule: r.rule }),
      });
      const norms = r.weights.map((v) => Math.hypot(v[0], v[1]));
      linePlot($("hebb-norm"), [{ x: norms.map((_, i) => i), y: norms, label: "‖w‖" }],
        { title: tr("g-hebb-norm"), xLabel: tr("ax-epoch"), yLabel: "‖w‖", logY: r.rule === "hebb" });
      const cos = Math.abs(w[0] * r.pc[0] + w[1] * r.pc[1]) / norm;
      setStatus("hebb-status", tr("st-hebb", { step: r.weights.length - 1, steps: body.steps, norm: norm.toPrecision(4), cos: cos.toFixed(4) }));
    } catch (err) {
      setStatus("hebb-status", err.message, true);
    }
  },

  async momentum(optimal) {
    const body = { kappa: num("mom-kappa"), alpha: num("mom-alpha"), beta: num("mom-beta"), steps: num("mom-steps") };
    try {
      let r = await api("/api/neuron/momentum", body);
      if (optimal === true) {
        $("mom-alpha").value = r.optimal_momentum.alpha; $("mom-beta").value = r.optimal_momentum.beta;
        body.alpha = r.optimal_momentum.alpha; body.beta = r.optimal_momentum.beta;
        r = await api("/api/neuron/momentum", body);
      }
      this.drawQuadratic(r);
      const rate = (v) => (v === null ? tr("st-diverges") : v.toFixed(4));
      const om = r.optimal_momentum;
      setStatus("mom-status", tr("st-mom", {
        steps: body.steps, alpha: r.alpha.toFixed(4), beta: r.beta.toFixed(2), gd: rate(r.gd_rate), mom: rate(r.momentum_rate),
        rate: om.rate.toFixed(4), oa: om.alpha.toFixed(4), ob: om.beta.toFixed(3),
      }));
      const series = ["gd", "momentum"].map((k, i) => ({
        x: r[`${k}_error`].map((_, j) => j), y: r[`${k}_error`], label: tr(k === "gd" ? "l-descent" : "l-momentum"), color: COLORS[i],
      }));
      linePlot($("mom-error"), series, { title: tr("g-mom-error"), xLabel: tr("ax-step"), yLabel: "‖w − w*‖ (log)", logY: true });
    } catch (err) {
      setStatus("mom-status", err.message, true);
    }
  },

  drawQuadratic(r) {
    const [l1, l2] = r.eigenvalues;
    const f0 = 0.5 * (l1 + l2); // f at the start (-1, 1)
    // contours f = f0 / 2^k: ellipses with semi-axes sqrt(2c / lambda)
    const ellipses = Array.from({ length: 12 }, (_, k) => {
      const c = f0 / Math.pow(2, k);
      return { rx: Math.sqrt((2 * c) / l1), ry: Math.sqrt((2 * c) / l2) };
    });
    const clip = (pts) => pts.filter((p) => Math.abs(p[0]) < 5 && Math.abs(p[1]) < 5);
    field($("mom-field"), {
      extent: [-1.3, 1.3, -1.3, 1.3], ellipses,
      paths: [{ pts: clip(r.gd), color: COLORS[0] }, { pts: clip(r.momentum), color: COLORS[1] }],
      title: tr("g-mom-paths"), xLabel: "w₁", yLabel: "w₂",
    });
  },
};
