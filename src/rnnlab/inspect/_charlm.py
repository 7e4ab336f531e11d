"""Inspecting a char-model run: trace it over text, find cells, draw the page and figures."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from rnnlab.errors import UserError
from rnnlab.inspect import _figures, _page
from rnnlab.inspect._detectors import detect
from rnnlab.inspect._finder import find_cells, saturation
from rnnlab.inspect._trace import Trace, charlm_grad_norms, trace_charlm

GRAD_STEPS = 100  # how far back the gradient-through-time figure looks
FILES = {"Gate saturation": "saturation", "Gradients through time": "gradients"}


@dataclasses.dataclass
class CharlmInspection:
    """Everything :func:`inspect_charlm` computed: the text, its :class:`Trace`, the
    detectors, the finder's results, the saturation fractions and the gradient norms
    (L, GRAD_STEPS) of the trained model and its untrained twin."""

    text: str
    trace: Trace
    detectors: dict
    found: dict
    saturation: dict
    grads: np.ndarray | None
    grads_init: np.ndarray | None


def run_text(run_dir, *, text_file=None, split: str = "test", chars: int = 2000):
    """The text to inspect a char-model run on: the first ``chars`` characters of
    ``text_file`` (UTF-8), or of the ``split`` (val, test) of the run's own corpus."""
    from rnnlab.data import load_corpus
    from rnnlab.tasks import load_run

    if chars < 2:
        raise UserError(f"--chars must be >= 2, got {chars}")
    if text_file is not None:
        path = Path(text_file)
        if not path.is_file():
            raise UserError(f"--text {text_file}: no such file; give a UTF-8 text file")
        text = load_corpus(str(path)).text[:chars]
    else:
        if split not in ("val", "test"):
            raise UserError(f"--split must be val or test, got {split!r}")
        run = load_run(run_dir)
        data = run.task.load_data(run.config)  # the char model's TextData: ids and vocab
        text = data.vocab.decode(data.split(split)[:chars])
    if len(text) < 2:
        raise UserError(f"the text to inspect has {len(text)} character(s); it needs at least 2")
    return text


def inspect_charlm(model, vocab, text: str, *, config=None, top: int = 3):
    """Trace the char model ``model`` over ``text`` and look inside it: the finder over
    every detector, gate saturation and, when ``config`` (its
    :class:`rnnlab.tasks.RunConfig`) is given, gradients through time beside those of the
    untrained model."""
    ids = vocab.encode(text)
    trace = trace_charlm(model, ids)
    detectors = detect(text)
    found = find_cells(trace.layers, detectors, top=top)
    grads = grads_init = None
    if config is not None and len(ids) > 2:
        from rnnlab.tasks import get_task

        window = ids[: GRAD_STEPS + 1]
        grads = charlm_grad_norms(model, window)
        untrained = get_task(config.task).build_model(config, {"vocab": vocab.to_json()})
        grads_init = charlm_grad_norms(untrained, window)
    return CharlmInspection(
        text, trace, detectors, found, saturation(trace.layers), grads, grads_init
    )


def figures(result: CharlmInspection, name: str) -> dict[str, bytes]:
    """The PNG figures of an inspection, by caption."""
    out = {}
    if result.saturation:
        out["Gate saturation"] = _figures.saturation_png(
            result.saturation, f"{name}: fraction of steps saturated, per unit"
        )
    if result.grads is not None:
        out["Gradients through time"] = _figures.grad_time_png(
            result.grads, result.grads_init, f"{name}: loss of one prediction"
        )
    return out


def write_charlm_page(run_dir, out=None, *, text_file=None, split="test", chars=2000) -> dict:
    """``rnnlab inspect`` on a char-model run: writes the HTML page (default
    ``RUN_DIR/inspect.html``) and its figures beside it (``<page>_saturation.png``,
    ``<page>_gradients.png``); returns ``{"page", "figures", "found"}``."""
    from rnnlab.engine.io import atomic_write
    from rnnlab.tasks import load_run
    from rnnlab.tasks.charlm import vocab_of

    run_dir = Path(run_dir)
    run = load_run(run_dir)
    config, model, vocab = run.config, run.model, vocab_of(run)
    out = Path(out) if out is not None else run_dir / "inspect.html"
    if not out.parent.is_dir():
        raise UserError(f"--out {out}: the folder {out.parent} does not exist")
    text = run_text(run_dir, text_file=text_file, split=split, chars=chars)
    result = inspect_charlm(model, vocab, text, config=config)
    figs = figures(result, run_dir.name)
    data = _page.page_data(text, vocab.chars, result.trace, result.detectors, result.found)
    page = _page.render_page(data, title=f"rnnlab inspect: {run_dir.name}", figures=figs)
    atomic_write(out, lambda f: f.write(page.encode("utf-8")))
    written = []
    for caption, png in figs.items():
        path = out.with_name(f"{out.stem}_{FILES[caption]}.png")
        atomic_write(path, lambda f, png=png: f.write(png))
        written.append(path)
    return {"page": out, "figures": written, "found": result.found}
