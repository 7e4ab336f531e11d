"""The self-contained HTML page of ``rnnlab inspect``: text coloured by a unit, the cell
finder, the next-character distribution on hover and LSTMVis-style pattern search.

The page opens from disk and reaches nothing: its Content-Security-Policy forbids
every request but inline script and style and ``data:`` images; the data rides in one
``application/json`` script element, activations quantised to 8 bits per unit.
"""

from __future__ import annotations

import base64
import html
import json

import numpy as np

from rnnlab.inspect._page_js import CSS, JS

CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)
BUDGET = 6_000_000  # bytes of activations before base64; gates are dropped beyond it
TOP = 5


def quantise(acts: np.ndarray) -> dict:
    """``acts`` (T, H) as 8-bit codes per unit: ``{"data": base64 of (T, H) uint8,
    "lo": (H,), "hi": (H,)}``; ``lo + q (hi - lo) / 255`` decodes a code ``q`` to within
    half a step, ``(hi - lo) / 510``."""
    a = np.asarray(acts, np.float64)
    lo, hi = a.min(0), a.max(0)
    span = np.where(hi > lo, hi - lo, 1.0)
    q = np.rint((a - lo) / span * 255).astype(np.uint8)
    return {
        "data": base64.b64encode(q.tobytes()).decode("ascii"),
        "lo": lo.astype(np.float32).tolist(),
        "hi": hi.astype(np.float32).tolist(),
    }


def safe_json(obj) -> str:
    """JSON that cannot end or comment out the script element that holds it: ``<``,
    ``>`` and ``&`` become ``\\u`` escapes (so ``</script`` and ``<!--`` cannot occur),
    and ``ensure_ascii`` escapes U+2028/U+2029."""
    text = json.dumps(obj, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _signals(layers) -> list[dict]:
    """Which internals of each layer the page carries: all of them if they fit in
    :data:`BUDGET` bytes, else the states only (``c``, ``h``, ``u``), else ``h`` only."""
    keep = None
    for choice in (None, ("c", "h", "u"), ("h",)):
        keep = choice
        size = sum(v.size for d in layers for k, v in d.items() if choice is None or k in choice)
        if size <= BUDGET:
            break
    return [
        {
            "units": int(next(iter(internals.values())).shape[1]),
            "signals": {k: quantise(v) for k, v in internals.items() if keep is None or k in keep},
        }
        for internals in layers
    ]


def page_data(text, chars, trace, detectors, found) -> dict:
    """The page's data: what :func:`render_page` embeds (see the page's script)."""
    probs = trace.probs  # (T, V)
    idx = np.argsort(-probs, axis=1)[:, :TOP]  # (T, 5)
    p = np.rint(np.take_along_axis(probs, idx, 1) * 1000).astype(int)
    top = [
        [[int(c), int(q)] for c, q in zip(ri, rp, strict=True)]
        for ri, rp in zip(idx, p, strict=True)
    ]
    loss = [None if not np.isfinite(x) else round(float(x), 3) for x in trace.loss]
    finite = [x for x in loss if x is not None]
    labels = {}
    for det, rows in found.items():
        for f in rows[:1]:
            labels[f"{f.layer}/{f.unit}"] = labels.get(f"{f.layer}/{f.unit}", "") + f" ({det})"
    first = next((rows[0] for rows in found.values() if rows), None)
    return {
        "text": text,
        "chars": list(chars),
        "layers": _signals(trace.layers),
        "top": top,
        "loss": loss,
        "loss_max": max(finite, default=1.0) or 1.0,
        "detectors": {k: np.round(v, 3).tolist() for k, v in detectors.items()},
        "found": {
            k: [{"layer": f.layer, "name": f.name, "unit": f.unit, "r": f.r} for f in rows]
            for k, rows in found.items()
        },
        "found_first": None if first is None else vars(first),
        "labels": labels,
    }


def render_page(data: dict, *, title: str, figures: dict | None = None) -> str:
    """The whole HTML page for ``data`` (:func:`page_data`); ``figures`` maps captions to
    PNG bytes, shown below as ``data:`` images."""
    imgs = "".join(
        f'<figure><img alt="{html.escape(cap)}" src="data:image/png;base64,'
        f'{base64.b64encode(png).decode("ascii")}"><figcaption>{html.escape(cap)}'
        "</figcaption></figure>"
        for cap, png in (figures or {}).items()
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>{html.escape(title)}</title><style>{CSS}</style></head>
<body><h1>{html.escape(title)}</h1>
<div id="controls">
<label>layer <select id="layer"></select></label>
<label>signal <select id="signal"></select></label>
<label><select id="unit"></select></label>
<label>colour by <select id="colour"></select></label>
<span id="legend"></span></div>
<div id="text"></div><div id="tip"></div>
<h2>Pattern search</h2>
<p>Select a span of the text (or type its first and last character), pick a threshold:
the units of this layer and signal that stay at or above it across the whole span, and
the other places where they are on together.</p>
<div id="search">
<label>from <input id="from" type="number" min="0" value="0"></label>
<label>to <input id="to" type="number" min="0" value="0"></label>
<label>threshold <input id="threshold" type="number" step="0.05" value="0.5"></label>
<label>min. overlap <input id="overlap" type="number" step="0.1" min="0.1" max="1"
 value="1"></label>
<button id="go">search</button> units on: <span id="units-on">-</span></div>
<ol id="matches"></ol>
<h2>Cell finder</h2>
<p>The units whose activation correlates most with each detector (Pearson r over this
text); click one to colour the text by it.</p>
<table><thead><tr><th>detector</th><th>units</th></tr></thead><tbody id="finder">
</tbody></table>
<div class="figures">{imgs}</div>
<script type="application/json" id="data">{safe_json(data)}</script>
<script>{JS}</script>
</body></html>
"""
