// Drawing on <canvas>: line plots (linear or log y), heatmaps, 2-D fields, rasters,
// and the one fetch helper of the pages. Written for the playground; no library.
"use strict";

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];
const PAD = { l: 52, r: 12, t: 34, b: 30 }; // the title on the first line, the legend on the second

// JSON to and from the server; a refusal's one line becomes the error's message.
async function api(path, body) {
  const init = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const r = await fetch(path, init);
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.error || `${r.status} ${r.statusText}`);
  return data;
}

// A canvas's 2-D context sized to its CSS box at the screen's pixel ratio.
function ctxOf(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * ratio)) canvas.width = Math.round(w * ratio);
  if (canvas.height !== Math.round(h * ratio)) canvas.height = Math.round(h * ratio);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.font = "11px sans-serif";
  return { ctx, w, h };
}

// min and max of a long array (spreading 100k values into Math.min overflows the stack)
function extent(values) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
  return [lo, hi];
}

function niceTicks(lo, hi, n) {
  if (!(hi > lo)) return [lo];
  const step0 = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(step0)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) out.push(v);
  return out;
}

// A tick's label with as many digits as it takes to tell it from its neighbours.
function fmtTick(v, ticks) {
  for (let p = 3; p <= 8; p++) {
    const f = (x) => (Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(p - 1) : String(Number(x.toPrecision(p))));
    if (new Set(ticks.map(f)).size === ticks.length) return f(v);
  }
  return String(v);
}

function fmt(v) {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e4 || a < 1e-3)) return v.toExponential(0);
  return String(Number(v.toPrecision(3)));
}

// series: [{x, y, color, label, dash, dots, rings}]; opts: {title, logY, xLabel, yLabel,
// yNames, yRange,
// xRange, vlines: [{x, color, label}], hlines: [{y, color, label}]}
function linePlot(canvas, series, opts = {}) {
  const { ctx, w, h } = ctxOf(canvas);
  const tf = (y) => (opts.logY ? (y > 0 ? Math.log10(y) : NaN) : y);
  const xs = [], ys = [];
  for (const s of series) {
    s.x.forEach((x, i) => {
      const y = tf(s.y[i]);
      if (Number.isFinite(x) && Number.isFinite(y)) { xs.push(x); ys.push(y); }
    });
  }
  const [x0, x1] = opts.xRange || extent(xs);
  let [y0, y1] = opts.yRange ? opts.yRange.map(tf) : extent(ys);
  if (!Number.isFinite(y0)) { y0 = 0; y1 = 1; }
  if (y1 - y0 < 1e-12) { y0 -= 0.5; y1 += 0.5; }
  const X = (x) => PAD.l + ((x - x0) / (x1 - x0 || 1)) * (w - PAD.l - PAD.r);
  const Y = (y) => h - PAD.b - ((tf(y) - y0) / (y1 - y0)) * (h - PAD.t - PAD.b);
  axes(ctx, w, h, opts.title);
  ctx.fillStyle = "#444"; ctx.strokeStyle = "#eee"; ctx.textAlign = "right";
  // tick values in data units; on a log axis placed at log10(v)
  // opts.yNames: names of the integer values (classes), written instead of numbers
  const names = opts.yNames;
  const yt = names ? names.map((_, k) => k).filter((k) => k % Math.ceil(names.length / 12) === 0)
    : opts.logY ? logTicks(y0, y1) : niceTicks(y0, y1, 5);
  const drawn = { x: [], y: [] };
  for (const v of yt) {
    const py = h - PAD.b - ((tf(v) - y0) / (y1 - y0)) * (h - PAD.t - PAD.b);
    if (!(py >= PAD.t - 1 && py <= h - PAD.b + 1)) continue;
    const text = names ? names[v] : fmtTick(v, yt);
    ctx.fillText(text, PAD.l - 4, py + 3); drawn.y.push(text);
    line(ctx, PAD.l, py, w - PAD.r, py);
  }
  ctx.textAlign = "center";
  if (Number.isFinite(x0)) {
    const xt = niceTicks(x0, x1, 6);
    for (const v of xt.length > 1 ? xt : [x0, x1]) { const t = fmtTick(v, xt); ctx.fillText(t, X(v), h - PAD.b + 13); drawn.x.push(t); }
  }
  axisLabels(ctx, w, h, opts.xLabel, opts.yLabel);
  record(canvas, opts.title, drawn, opts.xLabel, opts.yLabel);
  for (const v of opts.vlines || []) {
    ctx.strokeStyle = v.color || "#888"; ctx.setLineDash([4, 3]);
    line(ctx, X(v.x), PAD.t, X(v.x), h - PAD.b); ctx.setLineDash([]);
    if (v.label) { ctx.fillStyle = v.color || "#888"; ctx.fillText(v.label, X(v.x), PAD.t - 3); }
  }
  for (const v of opts.hlines || []) {
    ctx.strokeStyle = v.color || "#888"; ctx.setLineDash([4, 3]);
    line(ctx, PAD.l, Y(v.y), w - PAD.r, Y(v.y)); ctx.setLineDash([]);
  }
  ctx.save(); ctx.beginPath(); ctx.rect(PAD.l, PAD.t, w - PAD.l - PAD.r, h - PAD.t - PAD.b); ctx.clip();
  series.forEach((s, k) => {
    ctx.strokeStyle = ctx.fillStyle = s.color || COLORS[k % COLORS.length];
    ctx.lineWidth = s.width || 1.5; ctx.setLineDash(s.dash || []);
    if (s.dots || s.rings) { // rings: open circles around the dots drawn after them
      s.x.forEach((x, i) => {
        const py = Y(s.y[i]);
        if (!Number.isFinite(py)) return;
        ctx.beginPath(); ctx.arc(X(x), py, s.rings ? 5 : 2.5, 0, 7);
        if (s.rings) ctx.stroke(); else ctx.fill();
      });
    } else {
      ctx.beginPath(); let pen = false;
      s.x.forEach((x, i) => {
        const py = Y(s.y[i]);
        if (!Number.isFinite(py)) { pen = false; return; }
        if (pen) ctx.lineTo(X(x), py); else ctx.moveTo(X(x), py);
        pen = true;
      });
      ctx.stroke();
    }
  });
  ctx.restore(); ctx.setLineDash([]); ctx.lineWidth = 1;
  legend(ctx, w, series);
}

// Ticks of a log axis spanning [y0, y1] in log10 units, as values: the decades, or
// 1-2-5 steps, or plain nice ticks when the range is under one of those: always two or
// more labelled ticks, whatever the range.
function logTicks(y0, y1) {
  const decades = [];
  for (let k = Math.ceil(y0); k <= Math.floor(y1); k++) decades.push(Math.pow(10, k));
  if (decades.length >= 2) {
    const every = Math.ceil(decades.length / 6);
    return decades.filter((_, i) => i % every === 0);
  }
  const inside = (v) => Math.log10(v) >= y0 - 1e-9 && Math.log10(v) <= y1 + 1e-9;
  const steps = [];
  for (let k = Math.floor(y0); k <= Math.ceil(y1); k++) for (const m of [1, 2, 5]) if (inside(m * Math.pow(10, k))) steps.push(m * Math.pow(10, k));
  if (steps.length >= 2) return steps;
  return niceTicks(Math.pow(10, y0), Math.pow(10, y1), 4).filter((v) => v > 0);
}

function axisLabels(ctx, w, h, xLabel, yLabel) {
  ctx.fillStyle = "#444"; ctx.textAlign = "center";
  if (xLabel) ctx.fillText(xLabel, (PAD.l + w - PAD.r) / 2, h - 3);
  if (yLabel) {
    ctx.save(); ctx.translate(10, (PAD.t + h - PAD.b) / 2); ctx.rotate(-Math.PI / 2);
    ctx.fillText(yLabel, 0, 0); ctx.restore();
  }
}

// What a plot drew, on its canvas for the tests and the lesson texts: its title, the
// tick labels of each axis ("0|100|200") and the axes' names.
function record(canvas, title, drawn, xLabel, yLabel) {
  const d = canvas.dataset;
  d.title = title || ""; d.xticks = drawn.x.join("|"); d.yticks = drawn.y.join("|");
  d.xlabel = xLabel || ""; d.ylabel = yLabel || ""; delete d.empty;
}

// A plot before its data: the title and a line saying what will appear there.
function emptyPlot(canvas, title, message) {
  const { ctx, w, h } = ctxOf(canvas);
  axes(ctx, w, h, title);
  ctx.fillStyle = "#888"; ctx.textAlign = "center";
  ctx.fillText(message, w / 2, h / 2);
  const d = canvas.dataset;
  d.title = title || ""; d.empty = message; d.xticks = ""; d.yticks = "";
}

function line(ctx, xa, ya, xb, yb) { ctx.beginPath(); ctx.moveTo(xa, ya); ctx.lineTo(xb, yb); ctx.stroke(); }

function axes(ctx, w, h, title) {
  ctx.strokeStyle = "#999"; ctx.lineWidth = 1;
  ctx.strokeRect(PAD.l, PAD.t, w - PAD.l - PAD.r, h - PAD.t - PAD.b);
  if (title) { ctx.fillStyle = "#222"; ctx.textAlign = "left"; ctx.fillText(title, PAD.l, 14); }
}

function legend(ctx, w, series) {
  let x = w - PAD.r - 4;
  ctx.textAlign = "right";
  for (let k = series.length - 1; k >= 0; k--) {
    const s = series[k];
    if (!s.label) continue;
    ctx.fillStyle = s.color || COLORS[k % COLORS.length];
    ctx.fillText(s.label, x, 28);
    x -= ctx.measureText(s.label).width + 12;
  }
}

// Blue (negative) - white - red (positive), or white-to-black for values in [0, 1]: [r, g, b].
function rgbOf(v, lo, hi, diverging) {
  if (v === null || !Number.isFinite(v)) return [204, 204, 204];
  if (diverging) {
    const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1, a = Math.max(-1, Math.min(1, v / m));
    const c = Math.round(255 * (1 - Math.abs(a)));
    return a >= 0 ? [255, c, c] : [c, c, 255];
  }
  const a = Math.max(0, Math.min(1, (v - lo) / (hi - lo || 1)));
  const c = Math.round(255 * (1 - a));
  return [c, c, Math.round(c * 0.6 + 100 * (1 - a))];
}

// A probability field (G, G) over extent [x0, x1, y0, y1], points coloured by label,
// optional arrows [{x, y, color}] through the origin, ellipses [{rx, ry}] and paths
// [{pts, color}].
function field(canvas, f) {
  const c = ctxOf(canvas), ctx = c.ctx, F = { l: 34, r: 6, t: 20, b: 28 };
  const w = c.w - F.l - F.r, h = c.h - F.t - F.b; // the drawing area, from (F.l, F.t)
  const [x0, x1, y0, y1] = f.extent;
  ctx.save(); ctx.translate(F.l, F.t);
  ctx.beginPath(); ctx.rect(0, 0, w, h); ctx.clip();
  const X = (x) => ((x - x0) / (x1 - x0)) * w, Y = (y) => h - ((y - y0) / (y1 - y0)) * h;
  if (f.grid) {
    const G = f.grid.length;
    for (let i = 0; i < G; i++) {
      for (let j = 0; j < G; j++) {
        const v = f.grid[i][j];
        ctx.fillStyle = f.classes > 2 ? classTint(v) : `rgba(${Math.round(255 * v)},90,${Math.round(255 * (1 - v))},0.35)`;
        // whole pixels, edge to edge: overlapping translucent cells would draw a grid
        const xa = Math.floor((j / G) * w), xb = Math.floor(((j + 1) / G) * w);
        const ya = Math.floor(h - ((i + 1) / G) * h), yb = Math.floor(h - (i / G) * h);
        ctx.fillRect(xa, ya, xb - xa, yb - ya);
      }
    }
  }
  for (const e of f.ellipses || []) { // level sets of a quadratic, centred on the origin
    ctx.strokeStyle = e.color || "#bbb"; ctx.beginPath();
    ctx.ellipse(X(0), Y(0), (e.rx * w) / (x1 - x0), (e.ry * h) / (y1 - y0), 0, 0, 2 * Math.PI);
    ctx.stroke();
  }
  (f.points || []).forEach((p, i) => {
    ctx.fillStyle = f.labels ? COLORS[f.labels[i] % COLORS.length] : "#555";
    ctx.beginPath(); ctx.arc(X(p[0]), Y(p[1]), 2.5, 0, 7); ctx.fill();
  });
  for (const a of f.arrows || []) {
    ctx.strokeStyle = a.color; ctx.lineWidth = 2.5; line(ctx, X(-a.x), Y(-a.y), X(a.x), Y(a.y));
    ctx.lineWidth = 1;
  }
  for (const p of f.paths || []) {
    ctx.strokeStyle = ctx.fillStyle = p.color; ctx.beginPath();
    p.pts.forEach((q, i) => (i ? ctx.lineTo(X(q[0]), Y(q[1])) : ctx.moveTo(X(q[0]), Y(q[1]))));
    ctx.stroke();
    p.pts.forEach((q) => { ctx.beginPath(); ctx.arc(X(q[0]), Y(q[1]), 1.8, 0, 7); ctx.fill(); });
  }
  ctx.restore();
  ctx.strokeStyle = "#999"; ctx.strokeRect(F.l, F.t, w, h);
  if (f.title) { ctx.fillStyle = "#222"; ctx.textAlign = "left"; ctx.fillText(f.title, 4, 13); }
  const drawn = { x: [], y: [] };
  ctx.fillStyle = "#444"; ctx.textAlign = "center";
  for (const v of niceTicks(x0, x1, 5)) { ctx.fillText(fmt(v), F.l + X(v), F.t + h + 12); drawn.x.push(fmt(v)); }
  ctx.fillText(f.xLabel || "x₁", F.l + w / 2, c.h - 3);
  ctx.textAlign = "right";
  for (const v of niceTicks(y0, y1, 5)) { ctx.fillText(fmt(v), F.l - 3, F.t + Y(v) + 4); drawn.y.push(fmt(v)); }
  ctx.save(); ctx.translate(9, F.t + h / 2); ctx.rotate(-Math.PI / 2); ctx.textAlign = "center";
  ctx.fillText(f.yLabel || "x₂", 0, 0); ctx.restore();
  record(canvas, f.title, drawn, f.xLabel || "x₁", f.yLabel || "x₂");
}

function classTint(k) {
  const c = COLORS[k % COLORS.length];
  return c + "40";
}

// Spike rasters: one row per train over [0, duration].
function raster(canvas, trains, duration, title) {
  const { ctx, w, h } = ctxOf(canvas);
  axes(ctx, w, h, title);
  const n = trains.length, rowH = (h - PAD.t - PAD.b) / Math.max(n, 1);
  ctx.strokeStyle = "#222";
  trains.forEach((train, k) => {
    const y = PAD.t + k * rowH;
    for (const t of train) {
      const x = PAD.l + (t / duration) * (w - PAD.l - PAD.r);
      line(ctx, x, y + 1, x, y + Math.max(rowH - 1, 1));
    }
  });
  const drawn = { x: [], y: [] };
  ctx.fillStyle = "#444"; ctx.textAlign = "center";
  for (const v of niceTicks(0, duration, 6)) {
    ctx.fillText(fmt(v), PAD.l + (v / duration) * (w - PAD.l - PAD.r), h - PAD.b + 13); drawn.x.push(fmt(v));
  }
  ctx.textAlign = "right";
  for (const k of intTicks(n, 3)) { ctx.fillText(String(k), PAD.l - 4, PAD.t + (k - 0.5) * rowH + 4); drawn.y.push(String(k)); }
  axisLabels(ctx, w, h, "time (s)", "train");
  record(canvas, title, drawn, tr("ax-time-s"), tr("ax-train"));
}

// Calls fn at most once per `ms` after the last call (slider drags).
function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

function $(id) { return document.getElementById(id); }
function num(id) { return Number($(id).value); }
function setStatus(id, text, bad) { const el = $(id); el.textContent = text; el.classList.toggle("bad", !!bad); delete el.dataset.k; }
// a status line that is one of the page's texts (written again when the language changes)
function setStatusKey(id, key) { setStatus(id, tr(key)); $(id).dataset.k = key; }

// Reads a chosen file as text (a CSV of your own data), or null when none is chosen.
function readFile(input) {
  const file = input.files && input.files[0];
  if (!file) return Promise.resolve(null);
  return file.text();
}
