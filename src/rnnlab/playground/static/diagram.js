// The network, drawn (Recurrent page): on the left the model (input, each layer's cell
// with its gates, the readout); on the right the same network unrolled through time for
// the probe sequence, one column per step, the truncation windows shaded, and the
// gradient flowing back through the hidden states with a thickness that follows
// ||dL/dh(t)|| (log scale), so that truncation and vanishing gradients show on the figure.
"use strict";

// What each cell computes at a step, by the traces the server sends for it.
const CELL_PARTS = {
  elman: ["h"], jordan: ["h", "y"], lstm: ["i", "f", "g", "o", "c", "h"],
  lstm1997: ["i", "g", "o", "c", "h"], peephole: ["i", "f", "g", "o", "c", "h"],
  cifg: ["f", "g", "o", "c", "h"], gru: ["r", "z", "n", "h"], mtrnn: ["u", "h"],
  lif: ["v", "z"], alif: ["v", "a", "A", "z"], // spiking: z, the spikes, is a raster
};
const MODEL_W = 300; // px of the model's diagram; the unrolled network takes the rest

const Diagram = {
  // page: the Recurrent page (its controls and its latest snapshot)
  draw(page) {
    const canvas = $("rnn-diagram");
    if (!canvas || !canvas.clientWidth) return;
    const { ctx, w, h } = ctxOf(canvas);
    const snap = page.snap, spec = this.spec(snap);
    this.model(ctx, spec, snap, h);
    this.unrolled(ctx, spec, snap, MODEL_W + 20, w, h);
    const d = canvas.dataset;
    d.truncate = spec.truncate; d.columns = spec.T; d.layers = spec.layers; d.cell = spec.cell;
  },

  // what to draw: from the controls, with the snapshot's sizes once there is one
  spec(snap) {
    const task = $("rnn-task").value, reads = (window.META && META.task_reads[task]) || ["T"];
    let T = reads.includes("T") ? num("rnn-T") : task === "recall" ? num("rnn-lag") + 2 : 5;
    if (snap && snap.grad_norms[0].length !== T && !reads.includes("T")) T = snap.grad_norms[0].length;
    return {
      cell: $("rnn-cell").value, layers: num("rnn-layers"), hidden: num("rnn-hidden"),
      T: Math.max(1, Math.min(500, T || 1)), truncate: num("rnn-truncate"),
      D: snap ? snap.input[0].length : null, classes: snap ? snap.classes : null,
    };
  },

  model(ctx, s, snap, h) {
    const rows = s.layers + 2, rowH = (h - 24) / rows, bw = 200, x = 40;
    ctx.textAlign = "center"; ctx.fillStyle = "#222"; ctx.fillText(tr("d-model"), x + bw / 2, 12);
    const box = (k, text, fill) => {
      const y = h - (k + 1) * rowH + 4;
      ctx.fillStyle = fill; ctx.fillRect(x, y, bw, rowH - 14);
      ctx.strokeStyle = "#555"; ctx.strokeRect(x, y, bw, rowH - 14);
      ctx.fillStyle = "#222"; ctx.fillText(text, x + bw / 2, y + 14);
      if (k < rows - 1) { // the arrow up to the next box
        ctx.strokeStyle = "#555"; line(ctx, x + bw / 2, y, x + bw / 2, y - 14);
        arrowHead(ctx, x + bw / 2, y - 14, -Math.PI / 2);
      }
      return y;
    };
    box(0, s.D ? tr("d-input-x-d", { D: s.D }) : tr("d-input-x"), "#e3f2fd");
    const parts = CELL_PARTS[s.cell] || ["h"];
    for (let l = 0; l < s.layers; l++) {
      const y = box(l + 1, tr("d-layer", { l: l + 1, cell: s.cell, hidden: s.hidden }), "#fff8e1");
      parts.forEach((g, i) => { // the cell's gates and states as chips
        const cx = x + 12 + i * 30;
        ctx.fillStyle = "ifozr".includes(g) ? "#ffe082" : "#c8e6c9";
        ctx.fillRect(cx, y + 20, 24, 14); ctx.fillStyle = "#222"; ctx.fillText(g, cx + 12, y + 31);
      });
      // the recurrence: h(t-1) back into the cell
      ctx.strokeStyle = "#555"; const ry = y + (rowH - 14) / 2;
      ctx.beginPath(); ctx.moveTo(x + bw, ry - 6); ctx.lineTo(x + bw + 16, ry - 6); ctx.lineTo(x + bw + 16, ry + 6); ctx.lineTo(x + bw, ry + 6); ctx.stroke();
      arrowHead(ctx, x + bw, ry + 6, Math.PI);
    }
    const out = s.classes ? tr("d-softmax", { n: s.classes }) : tr(s.classes === 0 ? "d-value" : "d-output");
    box(s.layers + 1, tr("d-readout", { out }), "#e8f5e9");
  },

  unrolled(ctx, s, snap, x0, w, h) {
    const T = s.T, colW = (w - x0 - 10) / T, rows = s.layers + 2, rowH = (h - 40) / rows;
    const X = (t) => x0 + (t + 0.5) * colW, Y = (r) => h - 22 - (r + 0.5) * rowH; // r 0: input
    ctx.textAlign = "left"; ctx.fillStyle = "#222";
    const k = s.truncate > 0 && s.truncate < T ? s.truncate : 0;
    ctx.fillText(tr("d-unrolled", { T, windows: k ? tr("d-windows", { k }) : tr("d-one-window") }), x0, 12);
    for (let a = 0, i = 0; a < T; a += k || T, i++) { // the truncation windows
      ctx.fillStyle = i % 2 ? "#eceff1" : "#cfd8dc80";
      ctx.fillRect(x0 + a * colW, 20, Math.min(k || T, T - a) * colW, h - 40);
    }
    const r = Math.max(1, Math.min(7, colW / 3));
    // the snapshot's gradient, if it was taken with what the controls say now
    const same = snap && snap.grad_norms[0].length === T && (snap.truncate || 0) === s.truncate;
    const grads = same ? snap.grad_norms : null;
    for (let l = 0; l < s.layers; l++) {
      const y = Y(l + 1), g = grads ? grads[l] : null;
      const logs = g ? g.map((v) => (v > 0 ? Math.log10(v) : null)) : null;
      const [lo, hi] = logs ? extent(logs.filter((v) => v !== null)) : [0, 1];
      for (let t = 0; t < T; t++) {
        if (t > 0) { ctx.strokeStyle = "#777"; line(ctx, X(t - 1) + r, y, X(t) - r, y); } // h(t-1) -> h(t)
        if (logs && logs[t] !== null) { // the gradient's flow into h(t), thickness by its log norm
          const a = hi > lo ? (logs[t] - lo) / (hi - lo) : 1;
          const cut = k && t % k === k - 1; // the gradient does not cross a window's end
          ctx.strokeStyle = "rgba(211,47,47,0.75)"; ctx.lineWidth = 0.5 + 5.5 * a;
          if (t < T - 1 && !cut) line(ctx, X(t + 1), y + r + 3, X(t), y + r + 3);
          else line(ctx, X(t) + colW / 3, y + r + 3, X(t), y + r + 3);
          ctx.lineWidth = 1;
        }
        ctx.fillStyle = "#fff8e1"; ctx.strokeStyle = "#555";
        ctx.beginPath(); ctx.arc(X(t), y, r, 0, 7); ctx.fill(); ctx.stroke();
      }
    }
    for (let t = 0; t < T; t++) { // inputs below, outputs above (filled: counted by the loss)
      ctx.fillStyle = "#90caf9"; ctx.fillRect(X(t) - r, Y(0) - r, 2 * r, 2 * r);
      const counted = !snap || !snap.mask || snap.mask[t];
      ctx.strokeStyle = "#2e7d32"; ctx.fillStyle = counted ? "#a5d6a7" : "#fff";
      ctx.beginPath(); ctx.arc(X(t), Y(rows - 1), r, 0, 7); ctx.fill(); ctx.stroke();
      if (colW >= 6) { ctx.strokeStyle = "#bbb"; line(ctx, X(t), Y(0) - r, X(t), Y(rows - 1) + r); }
    }
    ctx.fillStyle = "#444"; ctx.textAlign = "right";
    ctx.fillText("x", x0 - 4, Y(0) + 4); ctx.fillText("y", x0 - 4, Y(rows - 1) + 4);
    for (let l = 0; l < s.layers; l++) ctx.fillText(`h${l + 1}`, x0 - 4, Y(l + 1) + 4);
    ctx.textAlign = "center";
    for (const t of intTicks(T, 8)) ctx.fillText(String(t), X(t - 1), h - 6);
  },
};

function arrowHead(ctx, x, y, angle) {
  ctx.beginPath(); ctx.moveTo(x, y);
  ctx.lineTo(x - 6 * Math.cos(angle - 0.4), y - 6 * Math.sin(angle - 0.4));
  ctx.lineTo(x - 6 * Math.cos(angle + 0.4), y - 6 * Math.sin(angle + 0.4));
  ctx.closePath(); ctx.fillStyle = "#555"; ctx.fill();
}

// The Neuron page's network, as the TensorFlow Playground draws it: a column of units
// per layer (16 at most shown), each weight a line, blue negative, orange positive, as
// thick as it is large. Before training: the layers the controls ask for, no weights.
function drawMLP(canvas, sizes, weights) {
  const { ctx, w, h } = ctxOf(canvas);
  const cols = sizes.length, colW = (w - 60) / Math.max(cols - 1, 1);
  const shown = sizes.map((n) => Math.min(n, 16));
  const X = (l) => 30 + l * colW, Y = (l, j) => 30 + ((j + 0.5) * (h - 50)) / shown[l];
  let big = 1e-9;
  for (const W of weights || []) for (const row of W) for (const v of row) big = Math.max(big, Math.abs(v));
  (weights || []).forEach((W, l) => W.forEach((row, j) => row.forEach((v, i) => {
    ctx.strokeStyle = v < 0 ? "rgba(31,119,180,0.7)" : "rgba(255,127,14,0.7)";
    ctx.lineWidth = 0.3 + 3.5 * (Math.abs(v) / big);
    line(ctx, X(l), Y(l, i), X(l + 1), Y(l + 1, j));
  })));
  ctx.lineWidth = 1;
  if (!weights) { // the connections, unweighted
    ctx.strokeStyle = "#ddd";
    for (let l = 0; l + 1 < cols; l++) for (let i = 0; i < shown[l]; i++) for (let j = 0; j < shown[l + 1]; j++) line(ctx, X(l), Y(l, i), X(l + 1), Y(l + 1, j));
  }
  const names = [tr("d-input"), ...sizes.slice(1, -1).map((_, k) => tr("d-hidden", { k: k + 1 })), tr("d-out")];
  sizes.forEach((n, l) => {
    for (let j = 0; j < shown[l]; j++) {
      ctx.fillStyle = "#fff"; ctx.strokeStyle = "#555";
      ctx.beginPath(); ctx.arc(X(l), Y(l, j), 5, 0, 7); ctx.fill(); ctx.stroke();
    }
    ctx.fillStyle = "#222"; ctx.textAlign = "center";
    ctx.fillText(`${names[l]}: ${n}${n > shown[l] ? tr("d-drawn", { n: shown[l] }) : ""}`, X(l), 14);
  });
  ctx.textAlign = "left"; ctx.fillStyle = "#666";
  ctx.fillText(tr(weights ? "d-weights" : "d-press"), 4, h - 6);
  canvas.dataset.sizes = sizes.join(","); canvas.dataset.weights = weights ? "1" : "";
}