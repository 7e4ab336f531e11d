// The Recurrent page: a task, a cell, truncation; the loss curve live, and for one input
// sequence the hidden state and every gate over time, the gradient norm through time
// (log scale) and the predictions against the targets.
"use strict";

// What a pooled heatmap shows: the server averages blocks of steps x units beyond
// 128 x 32 cells (the page has no more pixels than that per plot).
function pooledNote(p) {
  if (!p || (p.steps === 1 && p.units === 1)) return "";
  return tr("g-pooled", { steps: p.steps, units: p.units });
}

// What each internal is, for the heatmaps' titles (the texts "i-h", "i-c" ...).
const INTERNALS = "hciofgrznuy";

const Recurrent = {
  snap: null,
  losses: null,

  init(meta) {
    $("rnn-cell").innerHTML = meta.cells.map((c) => `<option${c === "lstm" ? " selected" : ""}>${c}</option>`).join("");
    this.training = new Training({
      progress: (s, curves) => {
        setStatus("rnn-status", describe(s, curves), troubled(s));
        showInit("rnn-init", s);
        this.losses = curves;
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
    // an online learner has no truncation; only an online learner updates every k steps
    const learns = () => {
      const online = $("rnn-learner").value !== "bptt";
      $("rnn-truncate").disabled = online;
      $("rnn-update_every").disabled = !online;
    };
    $("rnn-learner").addEventListener("change", learns);
    learns();
    wireControls("rnn", this);
    $("rnn-layer").onchange = () => this.draw();
    // the diagram follows the controls at once (the gradient waits for a training)
    for (const k of ["task", "cell", "hidden", "layers", "T", "lag", "truncate"]) {
      $(`rnn-${k}`).addEventListener("input", () => Diagram.draw(this));
      $(`rnn-${k}`).addEventListener("change", () => Diagram.draw(this));
    }
  },

  // A plot drawn while its page was hidden has no size: draw again when it shows.
  shown() { this.drawLoss(); this.draw(); },

  // the language changed: the status line and the plots again, in the new one
  relang() { restatus("rnn", this.training); this.shown(); },

  drawLoss() { lossPlot($("rnn-loss"), this.losses, tr("g-loss-rnn")); },

  async train() {
    const spec = {
      kind: "recurrent", task: $("rnn-task").value, cell: $("rnn-cell").value,
      optimizer: $("rnn-optimizer").value,
    };
    for (const k of ["hidden", "layers", "T", "lag", "truncate", "clip", "lr", "steps"]) spec[k] = num(`rnn-${k}`);
    if ($("rnn-forever").checked) spec.steps = 20000;
    spec.seed = num("rnn-seed");
    spec.learner = $("rnn-learner").value;  // bptt, or an online learner (rtrl, uoro, ...)
    spec.update_every = num("rnn-update_every");
    if (spec.learner !== "bptt") spec.truncate = 0;  // greyed out: not sent
    try {
      if (spec.task === "csv") {
        spec.csv = await readFile($("rnn-csv"));
        if (!spec.csv) throw new Error(tr("st-csv-rnn"));
      }
      this.snap = null; this.losses = null;
      $("rnn-layer").innerHTML = Array.from({ length: spec.layers }, (_, k) => `<option value="${k}">${k + 1}</option>`).join("");
      await this.training.start(spec);
      setStatusKey("rnn-status", "st-starting");
    } catch (err) {
      setStatus("rnn-status", err.message, true);
    }
  },

  draw() {
    const snap = this.snap;
    if (!snap) { this.drawEmpty(); return; }
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
        title: tr("g-heatmap", { name: INTERNALS.includes(n) ? tr(`i-${n}`) : n, step: snap.step, pooled: pooledNote(snap.pooled) }),
        pooled: snap.pooled, range: gate ? [0, 1] : undefined, diverging: !gate,
        exact: (step, unit) => this.exact(Number($("rnn-layer").value), n, step, unit),
      });
    }
    const T = snap.grad_norms[0].length, steps = Array.from({ length: T }, (_, t) => t + 1);
    const grads = snap.grad_norms.map((g, l) => ({ x: steps, y: g, label: tr("l-layer", { n: l + 1 }), color: COLORS[(4 + l) % COLORS.length] }));
    const k = snap.truncate ? tr("g-grads-k", { k: snap.truncate }) : tr("g-grads-full");
    const zeros = snap.grad_norms[snap.grad_norms.length - 1].filter((v) => v === 0).length;
    const unreached = zeros ? tr("g-grads-zeros", { n: zeros }) : "";
    linePlot($("rnn-grads"), grads, {
      title: tr("g-grads", { k, zeros: unreached }),
      xLabel: tr("ax-step-t"), yLabel: "‖∂L/∂h(t)‖ (log)", logY: true, xRange: [1, T],
    });
    this.drawPred(snap, steps);
    Diagram.draw(this);
  },

  // Predictions in the task's terms: characters or class names on the y axis, the targets
  // as rings around the predicted classes (a hit is a dot in its ring).
  drawPred(snap, steps) {
    const names = snap.classes ? (snap.labels || steps.slice(0, snap.classes).map((_, k) => String(k))).map(visible) : null;
    const series = [
      { x: steps, y: snap.prediction, label: tr(snap.classes ? "l-predicted" : "l-prediction"), color: COLORS[1], dots: snap.classes > 0 },
      { x: steps, y: snap.target, label: tr(snap.classes ? "l-target-ring" : "l-target"), color: "#333", rings: snap.classes > 0, dash: snap.classes ? [] : [4, 3] },
    ];
    linePlot($("rnn-pred"), series, {
      title: tr(snap.classes ? "g-pred-class" : "g-pred"),
      xLabel: tr("ax-step-t"), yLabel: tr(snap.classes ? "ax-class" : "ax-value"), yNames: names,
      yRange: names ? [-0.5, names.length - 0.5] : undefined,
    });
  },

  drawEmpty() {
    $("rnn-heatmaps").innerHTML = '<canvas data-internal="none"></canvas>';
    $("rnn-heatmaps").dataset.names = "";
    emptyPlot($("rnn-heatmaps").firstChild, tr("g-heat-empty"), tr("g-heat-empty-m"));
    emptyPlot($("rnn-grads"), tr("g-grads-empty"), tr("g-grads-empty-m"));
    emptyPlot($("rnn-pred"), tr("g-pred-empty"), tr("g-pred-empty-m"));
    Diagram.draw(this);
  },

  // The exact value of a pooled heatmap's cell, fetched from the worker's last look.
  exact(layer, name, step, unit) {
    const id = this.training.id;
    if (!id) return Promise.reject(new Error("no training"));
    return api(`/api/jobs/${id}/cell?layer=${layer}&name=${name}&step=${step}&unit=${unit}`).then((r) => r.value);
  },
};

// A character as it can be read on an axis: the space and the newline named.
function visible(c) { return c === " " ? "␣" : c === "\n" ? "↵" : c; }
