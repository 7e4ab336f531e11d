"""``--task codetags``: every character of Python code tagged with its token class
(synced many-to-many), the named-entity analogue.

The code is the standard library's own (:mod:`rnnlab.data.pycode`: the machine's
``*.py`` files, tests and site-packages left out), split by file (every tenth file,
sorted by path, to the test split, the next to validation) and cut into rows of
:data:`SEQ_LEN` characters. The labels come from the standard :mod:`tokenize` module:
``name``, ``keyword`` (:func:`keyword.iskeyword`), ``string``, ``number``, ``comment``,
``operator``, and ``space`` for everything between tokens (blanks, newlines,
indentation, line continuations). Steps are character ids (the training split's
characters; an embedding in front of the tagger).

Metrics: per-character accuracy and span F1, where a span is a maximal run of one
non-space class within a row (an identifier, a string, ``+=``; adjacent operators such
as ``)(`` make one span) and a predicted span counts only if its start, end and class
are right. The baseline tags each character with its most frequent class in training.
Evaluation writes ``codetags_<split>.html``: the first rows of the split coloured by
predicted class, mistakes underlined.
"""

from __future__ import annotations

import html
import io as _io
import itertools
import keyword
import tokenize

import numpy as np

from rnnlab.data.pycode import source_paths, stdlib_dir
from rnnlab.engine import io
from rnnlab.tasks._data import SeqData
from rnnlab.tasks._task import Criterion
from rnnlab.tasks._tokens import TokenDataset, TokenTask, build_vocab, encode
from rnnlab.tasks.registry import register

CLASSES = ["space", "name", "keyword", "string", "number", "comment", "operator"]
SEQ_LEN = 128
BUDGET = {"train": 200_000, "val": 20_000, "test": 40_000}  # characters per split
_KIND = {
    tokenize.NAME: "name",
    tokenize.STRING: "string",
    tokenize.NUMBER: "number",
    tokenize.COMMENT: "comment",
    tokenize.OP: "operator",
}
for _name in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END"):  # Python >= 3.12
    if hasattr(tokenize, _name):
        _KIND[getattr(tokenize, _name)] = "string"
_COLOURS = {
    "space": "#000",
    "name": "#1f4e9c",
    "keyword": "#a626a4",
    "string": "#2e7d32",
    "number": "#d35400",
    "comment": "#888",
    "operator": "#c0392b",
}


def char_tags(source: str) -> np.ndarray:
    """The class id (an index into :data:`CLASSES`) of every character of ``source``."""
    starts = np.cumsum([0] + [len(line) for line in source.splitlines(keepends=True)])
    tags = np.zeros(len(source), np.int32)  # space unless a token covers it
    for tok in tokenize.generate_tokens(_io.StringIO(source).readline):
        kind = _KIND.get(tok.type)
        if kind is None:
            continue
        if kind == "name" and keyword.iskeyword(tok.string):
            kind = "keyword"
        (r0, c0), (r1, c1) = tok.start, tok.end
        tags[starts[r0 - 1] + c0 : starts[r1 - 1] + c1] = CLASSES.index(kind)
    return tags


def spans(tags) -> set[tuple[int, int, int]]:
    """``(start, end, class)`` of every maximal run of one non-space class."""
    tags = np.asarray(tags)
    edges = np.flatnonzero(np.diff(tags)) + 1
    starts, ends = np.r_[0, edges], np.r_[edges, len(tags)]
    return {(int(a), int(b), int(tags[a])) for a, b in zip(starts, ends, strict=True) if tags[a]}


def span_f1(true_rows, pred_rows) -> float:
    """F1 of exact span matches, summed over rows (1.0 when neither side has spans)."""
    hit = n_true = n_pred = 0
    for t, p in zip(true_rows, pred_rows, strict=True):
        st, sp = spans(t), spans(p)
        hit, n_true, n_pred = hit + len(st & sp), n_true + len(st), n_pred + len(sp)
    return 1.0 if n_true + n_pred == 0 else 2 * hit / (n_true + n_pred)


def read_code(budget: dict[str, int] = BUDGET, files: dict | None = None) -> dict[str, list]:
    """``(text, tags)`` rows of :data:`SEQ_LEN` characters per split, split by file; files
    that :mod:`tokenize` rejects are skipped. ``files``, if given, gets the paths read
    per split."""
    root = stdlib_dir()
    out = {s: [] for s in budget}
    files = {} if files is None else files
    used = dict.fromkeys(budget, 0)
    for k, rel in enumerate(source_paths(root)):
        split = "test" if k % 10 == 0 else "val" if k % 10 == 1 else "train"
        if used[split] >= budget[split]:
            if all(used[s] >= budget[s] for s in budget):
                break
            continue
        try:
            text = (root / rel).read_bytes().decode("utf-8")
            tags = char_tags(text)
        except (OSError, UnicodeDecodeError, SyntaxError, tokenize.TokenError):
            continue
        text, tags = text[: budget[split] - used[split]], tags[: budget[split] - used[split]]
        used[split] += len(text)
        files.setdefault(split, []).append(rel)
        out[split] += [
            (text[i : i + SEQ_LEN], tags[i : i + SEQ_LEN]) for i in range(0, len(text), SEQ_LEN)
        ]
    return out


def majority_tags(train: SeqData, vocab_size: int) -> np.ndarray:
    """(V, C) add-one smoothed class frequencies of each character id in training."""
    ids = train.x[..., 0][train.valid()].astype(np.int64)
    counts = np.zeros((vocab_size, len(CLASSES)))
    np.add.at(counts, (ids, train.labels()), 1)
    return (counts + 1) / (counts + 1).sum(1, keepdims=True)


def write_html(path, data: SeqData, pred, vocab: list[str], rows: int = 40, *, title="") -> None:
    """The first ``rows`` rows, each character coloured by its predicted class; a wrong
    class is underlined in red (hover: the true class)."""
    true = data.rows(data.labels())[:rows]
    guess = data.rows(pred)[:rows]
    parts = []
    for r, (t, p) in enumerate(zip(true, guess, strict=True)):
        chars = [vocab[int(i)] for i in data.x[r, : len(t), 0]]
        chars = ["\ufffd" if len(c) > 1 else c for c in chars]  # <unk>
        # one <span> per run of characters with the same true and predicted class
        for (a, b), run in itertools.groupby(zip(t, p, chars, strict=True), lambda s: s[:2]):
            text = html.escape("".join(c for _, _, c in run))
            tip = f' title="true: {CLASSES[a]}"' if a != b else ""
            cls = f"{CLASSES[b]} bad" if a != b else CLASSES[b]
            parts.append(f'<span class="{cls}"{tip}>{text}</span>')
    css = "".join(f".{k}{{color:{v}}}" for k, v in _COLOURS.items())
    css += ".bad{text-decoration:underline wavy red}pre{font:13px monospace}"
    legend = " ".join(f'<span class="{k}">{k}</span>' for k in CLASSES)
    page = (
        f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<style>{css}</style><h3>{html.escape(title)}</h3><p>{legend}</p>"
        f"<pre>{''.join(parts)}</pre>"
    )
    io.write_text(path, page)


@register
class CodeTags(TokenTask):
    name = "codetags"
    models = ("rnn", "window-mlp", "conv1d", "transformer")
    pattern = "synced many-to-many (characters)"
    source = "Python stdlib code, split by file: 200k / 20k / 40k chars, tagged by tokenize"
    metric = "accuracy, span F1"
    baseline = "majority tag per character"
    head = "tag"
    figures = ("confusion matrix", "tagged code (HTML)")
    defaults = {"cell": "gru", "steps": 600}
    criterion = Criterion("accuracy", margin=0.2)

    def load_data(self, config):
        rows = read_code()
        vocab = build_vocab([text for text, _ in rows["train"]], config.options.vocab)
        splits = {
            s: encode([t for t, _ in r], vocab, [tags for _, tags in r], SEQ_LEN)
            for s, r in rows.items()
        }
        return TokenDataset(splits, list(CLASSES), vocab)

    def baseline_metrics(self, run, data, split, **options):
        probs = majority_tags(data.splits["train"], run.info["vocab_size"])
        part = data.split(split)
        ids = part.x[..., 0][part.valid()].astype(np.int64)
        y = part.labels()
        pred = probs[ids].argmax(1)
        return {
            "loss": float(-np.log(probs[ids, y]).mean()),
            "accuracy": float((pred == y).mean()),
            "span_f1": span_f1(part.rows(y), part.rows(pred)),
        }

    def metrics(self, run, data, split, **options):
        metrics, (part, pred) = super().metrics(run, data, split)
        metrics["span_f1"] = span_f1(part.rows(part.labels()), part.rows(pred))
        return metrics, (part, pred)

    def write_figures(self, run, data, split, outputs):
        paths = super().write_figures(run, data, split, outputs)
        part, pred = outputs
        path = run.dir / f"codetags_{split}.html"
        write_html(
            path, part, pred, run.info["vocab"],
            title=f"codetags, {split} split: predicted classes (red: wrong)",
        )  # fmt: skip
        return [*paths, path]
