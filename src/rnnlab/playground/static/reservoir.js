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
    setStatus("esn-status", "fitting… (a new number of units or steps compiles first: a few seconds)");
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
      { x: r.t, y: r.target, label: "target", color: "#333" },
      { x: r.t, y: r.prediction, label: "ESN", color: COLORS[1], dash: [5, 3] },
    ], { title: `${body.horizon} steps ahead on the test steps: NRMSE ${this.show(r.nrmse)} (persistence ${this.show(r.persistence_nrmse)})`,
      xLabel: "step", yLabel: "value" });
    linePlot($("esn-states"), r.states.map((s, k) => ({ x: s.map((_, i) => i), y: s, label: k < 4 ? `unit ${k}` : undefined, width: 1 })),
      { title: `states x(t) of ${r.states.length} of the ${body.units} units (first ${r.states[0].length} steps)`, xLabel: "step", yLabel: "x", yRange: [-1, 1] });
    const circle = Array.from({ length: 129 }, (_, i) => (2 * Math.PI * i) / 128);
    const lim = Math.max(1.1, 1.05 * r.spectral_radius);
    linePlot($("esn-eig"), [
      { x: circle.map(Math.cos), y: circle.map(Math.sin), label: "unit circle", color: "#bbb" },
      { x: r.eig_re, y: r.eig_im, label: "eigenvalues of W", dots: true, color: COLORS[0] },
    ], { title: `eigenvalues of W: spectral radius ${r.spectral_radius.toFixed(3)}, with the leak ${r.effective_radius.toFixed(3)}`,
      xLabel: "real part", yLabel: "imaginary part", xRange: [-lim, lim], yRange: [-lim, lim] });
    const esp = r.effective_radius < 1 ? "below 1: the echo state property holds without input"
      : "above 1: without input the states may not forget their start (input drive often restores it)";
    setStatus("esn-status", `${r.data}: ${r.steps} steps, the readout fitted on the first ${r.train_steps} (ridge ${r.ridge.toExponential(0)}), scored on the rest · ρ(lr W + (1 − lr) I) = ${r.effective_radius.toFixed(3)}, ${esp}`);
  },

  show(v) { return v === null ? "n/a" : v.toFixed(4); },
};
