// The Reservoir page: an echo state network forecasting a series. The recurrent weights
// are drawn once and never trained; only the linear readout is fitted, in one solve, so
// every slider redraws the prediction, the states and the eigenvalues of W at once.
"use strict";

const Reservoir = {
  result: null,

  init() {
    for (const id of ["esn-radius", "esn-leak", "esn-scaling", "esn-ridge"]) {
      $(id).oninput = debounce(() => this.fit(), 150);
    }
    for (const id of ["esn-units", "esn-horizon", "esn-seed", "esn-data"]) $(id).onchange = () => this.fit();
    $("esn-file").onchange = async () => {
      this.csv = await readFile($("esn-file"));
      $("esn-data").value = "csv";
      this.fit();
    };
    this.seq = 0;
    this.csv = null;
  },

  shown() {
    if (!this.started) { this.started = true; this.fit(); }
  },

  body() {
    const body = {
      data: $("esn-data").value, units: num("esn-units"), spectral_radius: num("esn-radius"),
      leak: num("esn-leak"), input_scaling: num("esn-scaling"), log_ridge: num("esn-ridge"),
      horizon: num("esn-horizon"), seed: num("esn-seed"),
    };
    if (body.data === "csv") body.csv = this.csv || "";
    return body;
  },

  async fit() {
    const body = this.body();
    $("esn-radius-v").textContent = body.spectral_radius.toFixed(2);
    $("esn-leak-v").textContent = body.leak.toFixed(2);
    $("esn-scaling-v").textContent = body.input_scaling.toFixed(2);
    $("esn-ridge-v").textContent = `1e${body.log_ridge}`;
    const seq = ++this.seq;
    setStatusKey("esn-status", "st-fitting");
    try {
      const r = await api("/api/reservoir/fit", body);
      if (seq !== this.seq) return; // a newer request is on its way
      this.result = r;
      this.draw(r, body);
    } catch (err) {
      if (seq === this.seq) setStatus("esn-status", err.message, true);
    }
  },

  draw(r, body) {
    linePlot($("esn-prediction"), [
      { x: r.t, y: r.target, label: tr("l-target"), color: "#333" },
      { x: r.t, y: r.prediction, label: "ESN", color: COLORS[1], dash: [5, 3] },
    ], { title: tr("g-esn-pred", { h: body.horizon, nrmse: this.show(r.nrmse), pers: this.show(r.persistence_nrmse) }),
      xLabel: tr("ax-step"), yLabel: tr("ax-value") });
    linePlot($("esn-states"), r.states.map((s, k) => ({ x: s.map((_, i) => i), y: s, label: k < 4 ? tr("l-unit", { k }) : undefined, width: 1 })),
      { title: tr("g-esn-states", { n: r.states.length, units: body.units, steps: r.states[0].length }), xLabel: tr("ax-step"), yLabel: "x", yRange: [-1, 1] });
    const circle = Array.from({ length: 129 }, (_, i) => (2 * Math.PI * i) / 128);
    const lim = Math.max(1.1, 1.05 * r.spectral_radius);
    const box = $("esn-eig"); // equal scales on both axes: the unit circle drawn round
    const xlim = lim * Math.max(1, (box.clientWidth - PAD.l - PAD.r) / (box.clientHeight - PAD.t - PAD.b));
    linePlot($("esn-eig"), [
      { x: circle.map(Math.cos), y: circle.map(Math.sin), label: tr("l-circle"), color: "#bbb" },
      { x: r.eig_re, y: r.eig_im, label: tr("l-eig"), dots: true, color: COLORS[0] },
    ], { title: tr("g-esn-eig", { rho: r.spectral_radius.toFixed(3), eff: r.effective_radius.toFixed(3) }),
      xLabel: tr("ax-real"), yLabel: tr("ax-imag"), xRange: [-xlim, xlim], yRange: [-lim, lim] });
    const esp = tr(r.effective_radius < 1 ? "st-esn-below" : "st-esn-above");
    setStatus("esn-status", tr("st-esn", {
      data: r.data, steps: r.steps, train: r.train_steps, ridge: r.ridge.toExponential(0), rho: r.effective_radius.toFixed(3), esp,
    }));
  },

  show(v) { return v === null ? tr("st-na") : v.toFixed(4); },

  // the language changed: the status line and the plots again, in the new one
  relang() { if (this.result) this.draw(this.result, this.body()); },
};
