"""Inspecting a run of a task that is not text (a tagging or classification run): the
units' activations drawn over the input signal with the labels as a track, the units
that track each label, gate saturation, and an MTRNN's fast and slow context units."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnlab.errors import UserError
from rnnlab.inspect import _figures
from rnnlab.inspect._finder import find_cells, saturation
from rnnlab.inspect._trace import trace_rnn

SHOWN_UNITS = 12  # rows of the activation heatmap
MAX_ROWS = 4  # sequences drawn side by side for a classification run


def strip(data, head: str):
    """The sequences to draw, end to end: row 0 of a tagged split, or the first row of
    each class (up to :data:`MAX_ROWS`) of a classified one. Returns ``[(x (n, D),
    labels (n,)), ...]``."""
    if head == "tag":
        n = int(data.lengths[0])
        return [(data.x[0, :n], data.y[0, :n])]
    rows = [int(np.flatnonzero(data.y == c)[0]) for c in np.unique(data.y)][:MAX_ROWS]
    return [
        (data.x[r, : data.lengths[r]], np.full(data.lengths[r], data.y[r], np.int32)) for r in rows
    ]


def trace_strip(model, pieces):
    """Each piece traced from the zero state, then joined: ``layers`` as in
    :attr:`Trace.layers`, ``x`` (T, D), ``labels`` (T,), ``pred`` (T,) or None."""
    import jax.numpy as jnp

    layers, preds = [], []
    for x, _ in pieces:
        layers.append(trace_rnn(model.rnn, jnp.asarray(x)))
        logits = model(jnp.asarray(x)[None], jnp.asarray([len(x)]))[0]  # (n, C) or (C,)
        p = np.asarray(logits).argmax(-1)
        preds.append(p if p.ndim else np.full(len(x), p))
    joined = [
        {k: np.concatenate([piece[l][k] for piece in layers]) for k in layers[0][l]}
        for l in range(len(layers[0]))
    ]
    x = np.concatenate([x for x, _ in pieces])
    labels = np.concatenate([y for _, y in pieces])
    return joined, x, labels, np.concatenate(preds)


def write_task_figures(run, out=None, *, split: str = "test") -> dict:
    """``rnnlab inspect`` on the run (a :class:`rnnlab.tasks.Run`, or its directory) of a
    tagging or classification task: ``<out>_signal.png`` (default
    ``RUN_DIR/inspect_signal.png``), ``<out>_saturation.png`` for gated cells and
    ``<out>_context.png`` for an MTRNN. Returns ``{"figures", "found"}``, ``found``
    being the units that track each label (one-hot detectors)."""
    from rnnlab.engine.io import atomic_write
    from rnnlab.tasks import Run, SupervisedTask, load_run, scaled

    run = run if isinstance(run, Run) else load_run(run)
    run_dir, task, model, info = run.dir, run.task, run.model, run.info
    if not isinstance(task, SupervisedTask):
        raise UserError(
            "rnnlab inspect reads char-model runs and the runs of tagging and classification "
            f"tasks over signals (motions, activity, primitives, tag, classify, ...), not "
            f"--task {task.name}"
        )
    if not hasattr(model, "rnn"):
        raise UserError(
            f"rnnlab inspect reads recurrent models over float inputs; this {task.name} run's "
            f"model is {type(model).__name__} (--model {run.config.model.model})"
        )
    if model.rnn.bidirectional:
        raise UserError("rnnlab inspect reads forward recurrent layers, not bidirectional ones")
    data = task.load_data(run.config)
    layers, x, labels, pred = trace_strip(model, strip(scaled(data.split(split), info), task.head))
    names = info.get("class_names")
    detectors = {f"label {names[c] if names else c}": (labels == c).astype(np.float32)
                 for c in np.unique(labels)}  # fmt: skip
    found = find_cells(layers, detectors, names=("h",), top=3)
    units = _shown_units(found, len(layers) - 1, layers[-1]["h"])
    prefix = Path(out) if out is not None else run_dir / "inspect"
    title = f"{run_dir.name}: {task.name}, {split} split"
    figs = {"signal": _figures.signal_png(x, layers[-1]["h"], units, labels, pred, names, title)}
    sat = saturation(layers)
    if sat:
        figs["saturation"] = _figures.saturation_png(sat, title)
    cell = model.rnn.cells[0][0]
    if hasattr(cell, "groups"):  # an MTRNN: its fast and slow context units
        n_io, n_fast, _ = cell.groups
        h = layers[0]["h"]
        figs["context"] = _figures.context_png(
            x, labels, h[:, n_io : n_io + n_fast], h[:, n_io + n_fast :], names, title
        )
    written = []
    for kind, png in figs.items():
        path = prefix.with_name(f"{prefix.stem}_{kind}.png")
        atomic_write(path, lambda f, png=png: f.write(png))
        written.append(path)
    return {"figures": written, "found": found}


def _shown_units(found, top: int, h) -> list[int]:
    """Layer ``top``'s units that track a label, then its most variable ones (``h`` (T,
    H)), up to :data:`SHOWN_UNITS`."""
    units = []
    for rows in found.values():
        units += [f.unit for f in rows if f.layer == top and f.unit not in units]
    units += [int(k) for k in np.argsort(-h.std(0)) if int(k) not in units]
    return units[:SHOWN_UNITS]
