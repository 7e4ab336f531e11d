// Heatmaps of a trace: units (rows) by steps (columns), with the step axis, the unit axis,
// a colour bar with its values and a read-out of the cell under the pointer.
"use strict";

const HM = { l: 38, r: 54, t: 18, b: 28 };

// Integer ticks in [1, n], at least two.
function intTicks(n, count) {
  const t = niceTicks(1, n, count).filter((v) => Number.isInteger(v) && v >= 1 && v <= n);
  return t.length >= 2 ? t : n > 1 ? [1, n] : [1];
}

// matrix: (T', H') as the server sends a trace, drawn one pixel per value in an offscreen
// image scaled up without smoothing; opts: {title, range, diverging, pooled: {steps,
// units, T, H} (blocks of steps x units averaged by the server), exact(step, unit)}:
// a promise of the exact value of a pooled cell, for the read-out.
function heatmap(canvas, matrix, opts = {}) {
  const { ctx, w, h } = ctxOf(canvas);
  const Tp = matrix.length, Hp = Tp ? matrix[0].length : 0;
  const p = opts.pooled || { steps: 1, units: 1, T: Tp, H: Hp };
  let [lo, hi] = opts.range || extent(matrix.flat());
  if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
  if (opts.diverging) { const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1; lo = -m; hi = m; }
  const iw = w - HM.l - HM.r, ih = h - HM.t - HM.b;
  if (Tp && Hp) {
    const off = document.createElement("canvas");
    off.width = Tp; off.height = Hp;
    const octx = off.getContext("2d"), img = octx.createImageData(Tp, Hp);
    for (let t = 0; t < Tp; t++) {
      for (let j = 0; j < Hp; j++) {
        const [r, g, b] = rgbOf(matrix[t][j], lo, hi, opts.diverging), k = 4 * (j * Tp + t);
        img.data[k] = r; img.data[k + 1] = g; img.data[k + 2] = b; img.data[k + 3] = 255;
      }
    }
    octx.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(off, HM.l, HM.t, iw, ih);
  }
  ctx.strokeStyle = "#999"; ctx.strokeRect(HM.l, HM.t, iw, ih);
  ctx.fillStyle = "#222"; ctx.textAlign = "left"; ctx.fillText(opts.title || "", HM.l, 12);
  // the step axis (columns) and the unit axis (rows), in the trace's own numbers
  const drawn = { x: [], y: [] };
  ctx.fillStyle = "#444"; ctx.textAlign = "center";
  for (const s of intTicks(p.T, 6)) {
    ctx.fillText(String(s), HM.l + ((s - 0.5) / p.steps / Tp) * iw, h - HM.b + 12); drawn.x.push(String(s));
  }
  ctx.fillText(tr("ax-step-t"), HM.l + iw / 2, h - 3);
  ctx.textAlign = "right";
  for (const u of intTicks(p.H, 3)) {
    ctx.fillText(String(u), HM.l - 3, HM.t + ((u - 0.5) / p.units / Hp) * ih + 4); drawn.y.push(String(u));
  }
  ctx.save(); ctx.translate(9, HM.t + ih / 2); ctx.rotate(-Math.PI / 2); ctx.textAlign = "center";
  ctx.fillText(tr("ax-unit"), 0, 0); ctx.restore();
  const cticks = colourBar(ctx, w, h, lo, hi, opts.diverging);
  record(canvas, opts.title, drawn, tr("ax-step-t"), tr("ax-unit"));
  canvas.dataset.cticks = cticks.join("|");
  canvas.onmousemove = (e) => readOut(canvas, e, { matrix, p, Tp, Hp, iw, ih, exact: opts.exact });
  canvas.onmouseleave = () => { $("hover").hidden = true; };
}

// The colour scale beside the map, its bottom, middle and top values written.
function colourBar(ctx, w, h, lo, hi, diverging) {
  const x = w - HM.r + 8, ih = h - HM.t - HM.b, n = 40;
  for (let i = 0; i < n; i++) {
    const [r, g, b] = rgbOf(hi - ((i + 0.5) / n) * (hi - lo), lo, hi, diverging);
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.fillRect(x, HM.t + (i * ih) / n, 10, ih / n + 0.5);
  }
  ctx.strokeStyle = "#999"; ctx.strokeRect(x, HM.t, 10, ih);
  ctx.fillStyle = "#444"; ctx.textAlign = "left";
  const ticks = [hi, (lo + hi) / 2, lo];
  ticks.forEach((v, i) => ctx.fillText(fmt(v), x + 13, HM.t + (i * ih) / 2 + 4));
  return ticks.map(fmt);
}

// The read-out under the pointer: unit, step and value; a pooled cell gives its block
// and mean, then the exact value of the step and unit under the pointer when fetched.
function readOut(canvas, e, m) {
  const r = canvas.getBoundingClientRect();
  const cx = e.clientX - r.left - HM.l, cy = e.clientY - r.top - HM.t;
  const box = $("hover");
  if (cx < 0 || cy < 0 || cx >= m.iw || cy >= m.ih) { box.hidden = true; return; }
  const c = Math.floor((cx / m.iw) * m.Tp), j = Math.floor((cy / m.ih) * m.Hp);
  const v = m.matrix[c][j], p = m.p;
  const step = Math.min(p.T, Math.floor((cx / m.iw) * m.Tp * p.steps) + 1);
  const unit = Math.min(p.H, Math.floor((cy / m.ih) * m.Hp * p.units) + 1);
  const shown = v === null ? tr("hv-nan") : Number(v).toPrecision(4);
  let text = tr("hv-cell", { unit, step, v: shown });
  if (p.steps > 1 || p.units > 1) {
    const s0 = c * p.steps + 1, s1 = Math.min(p.T, (c + 1) * p.steps);
    const u0 = j * p.units + 1, u1 = Math.min(p.H, (j + 1) * p.units);
    text = tr("hv-block", { u0, u1, s0, s1, v: shown });
    if (m.exact) {
      const key = `${step},${unit}`;
      box.dataset.key = key;
      m.exact(step, unit).then((x) => {
        if (box.dataset.key === key && !box.hidden) box.textContent = `${text} · ${tr("hv-cell", { unit, step, v: x === null ? tr("hv-nan") : Number(x).toPrecision(4) })}`;
      }).catch(() => {});
    }
  }
  box.textContent = text; box.hidden = false;
  box.style.left = `${e.clientX + 12}px`; box.style.top = `${e.clientY + 12}px`;
}
