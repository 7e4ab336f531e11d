"""The style and script of the inspect page (kept as strings: the page carries them inline,
and a wheel needs no package data)."""

CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1em 2em; color: #222; }
#text { font: 13px/1.5 monospace; white-space: pre-wrap; border: 1px solid #ccc;
  padding: .6em; max-height: 60vh; overflow-y: auto; }
#text span.hit { outline: 1px solid #000; }
#controls, #search { margin: .5em 0; display: flex; gap: 1em; flex-wrap: wrap;
  align-items: center; }
#tip { position: fixed; display: none; background: #fff; border: 1px solid #888;
  padding: .3em .5em; font: 12px monospace; pointer-events: none; z-index: 2; }
table { border-collapse: collapse; } td, th { padding: 2px 8px; text-align: left; }
tr:nth-child(even) { background: #f4f4f4; }
#matches li { font-family: monospace; cursor: pointer; }
.figures img { max-width: 48%; margin-right: 1%; }
"""

JS = r"""
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const T = D.text.length;
const $ = (id) => document.getElementById(id);
const raw = {};  // decoded signals, "layer/name" -> Float32Array (T * H)
function signal(layer, name) {
  const key = layer + "/" + name;
  if (!raw[key]) {
    const s = D.layers[layer].signals[name], H = D.layers[layer].units;
    const bytes = Uint8Array.from(atob(s.data), (c) => c.charCodeAt(0));
    const v = new Float32Array(T * H);
    for (let t = 0; t < T; t++)
      for (let k = 0; k < H; k++)
        v[t * H + k] = s.lo[k] + bytes[t * H + k] * (s.hi[k] - s.lo[k]) / 255;
    raw[key] = v;
  }
  return raw[key];
}
const show = (ch) => ch === "\n" ? "\\n" : ch === " " ? "\u2423" : ch;
const spans = [];
for (let t = 0; t < T; t++) {
  const s = document.createElement("span");
  s.textContent = D.text[t];
  s.dataset.t = t;
  spans.push(s);
  $("text").appendChild(s);
}
function option(sel, value, label) {
  const o = document.createElement("option");
  o.value = value; o.textContent = label; sel.appendChild(o);
}
D.layers.forEach((_, l) => option($("layer"), l, "layer " + l));
function fillSignals() {
  const keep = $("signal").value;
  $("signal").innerHTML = "";
  Object.keys(D.layers[+$("layer").value].signals).forEach((n) => option($("signal"), n, n));
  if (keep && D.layers[+$("layer").value].signals[keep]) $("signal").value = keep;
  const H = D.layers[+$("layer").value].units, u = +$("unit").value || 0;
  $("unit").innerHTML = "";
  for (let k = 0; k < H; k++)
    option($("unit"), k, "unit " + k + (D.labels[$("layer").value + "/" + k] || ""));
  $("unit").value = Math.min(u, H - 1);
}
option($("colour"), "unit", "the unit");
option($("colour"), "loss", "surprisal (loss per char)");
Object.keys(D.detectors).forEach((n) => option($("colour"), "det:" + n, "detector: " + n));
function rgb(x) {  // x in [-1, 1]: red (negative) to blue (positive), Karpathy et al. 2015, Fig. 2
  const a = Math.min(1, Math.abs(x));
  return x >= 0 ? `rgba(30,90,220,${a})` : `rgba(220,40,30,${a})`;
}
function values() {
  const mode = $("colour").value;
  if (mode === "loss") return { v: D.loss.map((x) => x === null ? 0 : x), scale: D.loss_max };
  if (mode.startsWith("det:")) {
    const d = D.detectors[mode.slice(4)], m = Math.max(...d.map(Math.abs)) || 1;
    return { v: d, scale: m };
  }
  const l = +$("layer").value, H = D.layers[l].units, k = +$("unit").value;
  const s = signal(l, $("signal").value), v = new Array(T);
  let m = 0;
  for (let t = 0; t < T; t++) { v[t] = s[t * H + k]; m = Math.max(m, Math.abs(v[t])); }
  return { v: v, scale: m || 1 };
}
function paint() {
  const { v, scale } = values();
  for (let t = 0; t < T; t++) spans[t].style.background = rgb(v[t] / scale);
  $("legend").textContent = `colour: value / ${scale.toFixed(3)} (blue +, red -)`;
}
["layer"].forEach((id) => $(id).addEventListener("change", () => { fillSignals(); paint(); }));
["signal", "unit", "colour"].forEach((id) => $(id).addEventListener("change", paint));
function pick(l, name, k) {
  $("layer").value = l; fillSignals(); $("signal").value = name; $("unit").value = k;
  $("colour").value = "unit"; paint();
}
for (const [det, rows] of Object.entries(D.found)) {
  const tr = document.createElement("tr");
  tr.innerHTML = "<td></td><td></td>";
  tr.cells[0].textContent = det;
  rows.forEach((f) => {
    const a = document.createElement("a");
    a.href = "#text"; a.className = "found";
    a.textContent = `layer ${f.layer} ${f.name}[${f.unit}] r=${f.r.toFixed(3)}`;
    a.addEventListener("click", (e) => { e.preventDefault(); pick(f.layer, f.name, f.unit); });
    tr.cells[1].appendChild(a); tr.cells[1].appendChild(document.createTextNode("  "));
  });
  $("finder").appendChild(tr);
}
$("text").addEventListener("mouseover", (e) => {
  const t = e.target.dataset.t;
  if (t === undefined) return;
  const i = +t, tip = $("tip");
  const q = (ch) => JSON.stringify(show(ch));
  let head_text = `after ${q(D.text[i])} (char ${i}), next:`;
  if (i + 1 < T && D.loss[i + 1] !== null)
    head_text += ` (actual ${q(D.text[i + 1])}: ${D.loss[i + 1].toFixed(2)} nats)`;
  tip.textContent = "";
  const head = document.createElement("div");
  head.textContent = head_text;
  tip.appendChild(head);
  D.top[i].forEach(([c, p]) => {
    const row = document.createElement("div");
    row.className = "top";
    row.textContent = `${q(D.chars[c])} ${(p / 1000).toFixed(3)}`;
    tip.appendChild(row);
  });
  tip.style.display = "block";
  tip.style.left = (e.clientX + 12) + "px"; tip.style.top = (e.clientY + 12) + "px";
});
$("text").addEventListener("mouseleave", () => { $("tip").style.display = "none"; });
document.addEventListener("mouseup", () => {
  const sel = window.getSelection();
  if (!sel || sel.isCollapsed) return;
  const at = (n) => (n.nodeType === 3 ? n.parentElement : n).dataset?.t;
  const a = at(sel.anchorNode), b = at(sel.focusNode);
  if (a === undefined || b === undefined) return;
  $("from").value = Math.min(+a, +b); $("to").value = Math.max(+a, +b);
});
function search() {  // LSTMVis (Strobelt et al. 2017): the units on across a span, and where else
  const l = +$("layer").value, H = D.layers[l].units, s = signal(l, $("signal").value);
  const a = +$("from").value, b = +$("to").value, th = +$("threshold").value;
  const on = [];
  for (let k = 0; k < H; k++) {
    let all = true;
    for (let t = a; t <= b && all; t++) all = s[t * H + k] >= th;
    if (all) on.push(k);
  }
  $("units-on").textContent = on.length ? on.join(" ") : "none";
  $("matches").innerHTML = "";
  spans.forEach((x) => x.classList.remove("hit"));
  if (!on.length) return;
  const frac = new Float32Array(T);
  for (let t = 0; t < T; t++) {
    let n = 0;
    for (const k of on) n += s[t * H + k] >= th;
    frac[t] = n / on.length;
  }
  const runs = [];
  const minFrac = +$("overlap").value;
  for (let t = 0; t < T; ) {
    if (frac[t] < minFrac) { t++; continue; }
    let e = t, sum = 0;
    while (e < T && frac[e] >= minFrac) sum += frac[e++];
    if (e - 1 < a || t > b) runs.push({ start: t, end: e - 1, overlap: sum / (e - t) });
    t = e;
  }
  const off = (r) => Math.abs(r.end - r.start - (b - a));  // length unlike the query's
  runs.sort((x, y) => y.overlap - x.overlap || off(x) - off(y));
  runs.slice(0, 50).forEach((r) => {
    const li = document.createElement("li");
    li.className = "match"; li.dataset.start = r.start; li.dataset.end = r.end;
    const snippet = JSON.stringify(D.text.slice(r.start, Math.min(r.end + 1, r.start + 60)));
    li.textContent = `[${r.start}, ${r.end}] overlap ${r.overlap.toFixed(2)}: ${snippet}`;
    li.addEventListener("click", () => { spans[r.start].scrollIntoView({ block: "center" }); });
    for (let t = r.start; t <= r.end; t++) spans[t].classList.add("hit");
    $("matches").appendChild(li);
  });
}
$("go").addEventListener("click", search);
fillSignals();
if (D.found_first) pick(D.found_first.layer, D.found_first.name, D.found_first.unit); else paint();
"""
