// The Recurrent page: a task, a cell, truncation; the loss curve live, and for one input
// sequence the hidden state and every gate over time, the gradient norm through time
// (log scale) and the predictions against the targets.
"use strict";

// What a pooled heatmap shows: the server averages blocks of steps x units beyond
// 128 x 32 cells (the page has no more pixels than that per plot).
function pooledNote(p) {
  if (!p || (p.steps === 1 && p.units === 1)) return "";
  return `, means of ${p.steps} steps × ${p.units} units`;
}

// What each internal is, for the heatmaps' titles.
const INTERNALS = {
  h: "h: hidden state", c: "c: cell state", i: "i: input gate", f: "f: forget gate",
  o: "o: output gate", g: "g: candidate", r: "r: reset gate", z: "z: update gate",
  n: "n: candidate", u: "u: potentials", y: "y: output (Jordan context)",
};

const Recurrent = {
  snap: null,
  losses: null,

  init(meta) {
    $("rnn-cell").innerHTML = meta.cells.map((c) => `<option${c === "lstm" ? " selected" : ""}>${c}</option>`).join("");
    this.training = new Training({
      progress: (s, losses) => {
        setStatus("rnn-status", describe(s, losses), troubled(s));
        this.losses = losses;
        this.drawLoss();
      },
      snapshot: (snap) => { this.snap = snap; this.draw(); },
      end: () => {},
      failed: (err) => setStatus("rnn-status", err.message, true),
    });
    // T and lag only where the task reads them (hello reads neither, recall only the lag)
    const reads = () => {
      const used = meta.task_reads[$("rnn-task").value] || [];
      for (const k of ["T", "lag"]) $(`rnn-${k}`).disabled = !used.includes(k);
    };
    $("rnn-task").addEventListener("change", reads);
    reads();
    $("rnn-train").onclick = () => this.train();
    $("rnn-stop").onclick = () => this.training.stop();
    for (const action of ["pause", "step", "resume"]) {
      $(`rnn-${action}`).onclick = () => this.training.control(action)
        .catch((err) => setStatus("rnn-status", err.message, true));
    }
    $("rnn-layer").onchange = () => this.draw();
  },

  // A plot drawn while its page was hidden has no size: draw again when it shows.
  shown() { this.drawLoss(); this.draw(); },

  drawLoss() { lossPlot($("rnn-loss"), this.losses, "training loss"); },

  async train() {
    const spec = {
      kind: "recurrent", task: $("rnn-task").value, cell: $("rnn-cell").value,
      optimizer: $("rnn-optimizer").value,
    };
    for (const k of ["hidden", "layers", "T", "lag", "truncate", "clip", "lr", "steps"]) spec[k] = num(`rnn-${k}`);
    if ($("rnn-forever").checked) spec.steps = 20000;
    spec.seed = num("rnn-seed");
    try {
      if (spec.task === "csv") {
        spec.csv = await readFile($("rnn-csv"));
        if (!spec.csv) throw new Error("choose a CSV file of numeric columns first");
      }
      this.snap = null; this.losses = null;
      $("rnn-layer").innerHTML = Array.from({ length: spec.layers }, (_, k) => `<option value="${k}">${k + 1}</option>`).join("");
      await this.training.start(spec);
      setStatus("rnn-status", "starting a worker ...");
    } catch (err) {
      setStatus("rnn-status", err.message, true);
    }
  },

  draw() {
    const snap = this.snap;
    if (!snap) return;
    const layer = snap.layers[Number($("rnn-layer").value)] || snap.layers[0];
    const box = $("rnn-heatmaps");
    const names = Object.keys(layer);
    if (box.dataset.names !== names.join(",")) {
      box.innerHTML = names.map((n) => `<canvas data-internal="${n}"></canvas>`).join("");
      box.dataset.names = names.join(",");
    }
    for (const canvas of box.querySelectorAll("canvas")) {
      const n = canvas.dataset.internal;
      const gate = "ifozr".includes(n);
      heatmap(canvas, layer[n], {
        title: `${INTERNALS[n] || n} (units × steps, step ${snap.step})${pooledNote(snap.pooled)}`,
        units: snap.pooled ? snap.pooled.H : undefined,
        range: gate ? [0, 1] : undefined, diverging: !gate,
      });
    }
    const T = snap.grad_norms[0].length, steps = Array.from({ length: T }, (_, t) => t + 1);
    const grads = snap.grad_norms.map((g, l) => ({ x: steps, y: g, label: `‖∂L/∂h${l + 1}(t)‖, layer ${l + 1}`, color: COLORS[(4 + l) % COLORS.length] }));
    linePlot($("rnn-grads"), grads,
      { title: "gradient of this sequence's loss through time, per layer (log scale)", xLabel: "step t", logY: true });
    const series = [
      { x: steps, y: snap.target, label: "target", color: "#333", dots: snap.classes > 0 },
      { x: steps, y: snap.prediction, label: snap.classes ? "predicted class" : "prediction", color: COLORS[1], dots: snap.classes > 0 },
    ];
    linePlot($("rnn-pred"), series, { title: snap.classes ? "classes (ids) per step" : "predictions against targets", xLabel: "step t" });
  },
};
