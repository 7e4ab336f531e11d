"""``--task activity``: label every frame of a long activity stream (synced many-to-many),
the lecture's "label every video frame".

Streams of :data:`STREAM_LEN` steps are stitched from BasicMotions recordings (6
channels at 10 Hz; standing, running, walking, badminton): segments of random length
(:data:`MIN_SEGMENT` to 100 steps) cut at a random place of a random recording, each of
another activity than the one before, so that the boundaries fall anywhere. Training
streams use the official training recordings less a tenth of each class, validation
streams that tenth, and test streams only the official test recordings: no recording
lends frames to two splits. The streams are drawn with fixed seeds (the same data for
every run).

Metrics: frame accuracy and the boundary error, the mean distance in steps from each
true boundary to the nearest predicted one and from each predicted boundary to the
nearest true one (the stream's length when the other side has none), so that a late
switch and a flickering prediction both cost. Evaluation draws ``stream_<split>.png``:
the first stream's channels with its true and predicted labels.
"""

from __future__ import annotations

import numpy as np

from rnnlab.engine import io
from rnnlab.tasks import _aeon
from rnnlab.tasks._data import Dataset, SeqData
from rnnlab.tasks._supervised import SupervisedTask
from rnnlab.tasks.registry import register

STREAM_LEN = 400
MIN_SEGMENT = 10
STREAMS = {"train": 96, "val": 16, "test": 32}
SEEDS = {"train": 0, "val": 1, "test": 2}


def stitch(pool: SeqData, n: int, length: int, seed: int):
    """``n`` streams of ``length`` steps from the recordings of ``pool``: a
    :class:`SeqData` with ``y`` (n, length), and (n, length) the recording of each step."""
    rng = np.random.default_rng(seed)
    T, D = pool.x.shape[1:]
    x = np.zeros((n, length, D), np.float32)
    y = np.zeros((n, length), np.int32)
    source = np.zeros((n, length), np.int32)
    for row in range(n):
        t, last = 0, -1
        while t < length:
            rec = rng.choice(np.flatnonzero(pool.y != last))
            size = int(rng.integers(MIN_SEGMENT, T + 1))
            start = int(rng.integers(0, T - size + 1))
            take = min(size, length - t)
            x[row, t : t + take] = pool.x[rec, start : start + take]
            y[row, t : t + take], source[row, t : t + take] = pool.y[rec], rec
            t, last = t + take, pool.y[rec]
    return SeqData(x, y, np.full(n, length, np.int32)), source


def boundaries(labels) -> np.ndarray:
    """The steps where the label changes (the first step of every segment but the first)."""
    return np.flatnonzero(np.diff(np.asarray(labels))) + 1


def boundary_error(true_rows, pred_rows) -> float:
    """Mean over rows of the mean distance from each boundary (true and predicted) to the
    nearest one on the other side; the row's length when that side has none; 0 for a row
    without any."""
    errors = []
    for t, p in zip(true_rows, pred_rows, strict=True):
        bt, bp = boundaries(t), boundaries(p)
        if len(bt) + len(bp) == 0:
            errors.append(0.0)
            continue
        d = np.concatenate([_nearest(bt, bp, len(t)), _nearest(bp, bt, len(t))])
        errors.append(float(d.mean()))
    return float(np.mean(errors))


def _nearest(a, b, missing):
    """The distance from each step of ``a`` to the nearest of ``b`` (``missing`` if none)."""
    return np.abs(a[:, None] - b[None, :]).min(1) if len(b) else np.full(len(a), missing)


def plot_stream(path, x, true, pred, names, *, title="") -> None:
    """One stream: its channels above, its true and predicted labels below."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 4.5), dpi=100, sharex=True)
    top.plot(x, lw=0.7)
    top.set_ylabel("channels (standardised)")
    top.set_title(title, fontsize=9)
    bottom.step(range(len(true)), true, where="post", label="true", lw=2)
    bottom.step(range(len(pred)), pred, where="post", label="predicted", lw=1)
    bottom.set_yticks(range(len(names)), names, fontsize=8)
    bottom.set_xlabel("step (10 Hz)")
    bottom.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    io.atomic_write(path, lambda f: fig.savefig(f, format="png"))
    plt.close(fig)


@register
class Activity(SupervisedTask):
    name = "activity"
    models = ("rnn", "window-mlp", "conv1d", "transformer", "esn")
    pattern = "synced many-to-many (streams)"
    source = "BasicMotions recordings stitched into 96 / 16 / 32 streams of 400 steps"
    metric = "frame accuracy, boundary error"
    baseline = "majority tag"
    head = "tag"
    figures = ("confusion matrix", "activity stream")

    def pools(self):
        """The recordings of each split: train (less a tenth), val (that tenth), test."""
        data = _aeon.official("BasicMotions")
        return data.splits, data.class_names

    def load_data(self, config):
        pools, classes = self.pools()
        splits = {s: stitch(pools[s], STREAMS[s], STREAM_LEN, SEEDS[s])[0] for s in STREAMS}
        return Dataset(splits, classes)

    def baseline_metrics(self, run, data, split, **options):
        base = super().baseline_metrics(run, data, split)
        part = data.split(split)
        constant = np.zeros_like(part.labels())  # one label throughout: no boundary
        return {
            **base,
            "boundary_error": boundary_error(part.rows(part.labels()), part.rows(constant)),
        }

    def metrics(self, run, data, split, **options):
        metrics, (part, pred) = super().metrics(run, data, split)
        metrics["boundary_error"] = boundary_error(part.rows(part.labels()), part.rows(pred))
        return metrics, (part, pred)

    def write_figures(self, run, data, split, outputs):
        paths = super().write_figures(run, data, split, outputs)
        part, pred = outputs
        n, true = int(part.lengths[0]), part.rows(part.labels())[0]
        path = run.dir / f"stream_{split}.png"
        plot_stream(
            path, part.x[0, :n], true, pred[:n], run.info["class_names"],
            title=f"activity, {split} stream 0: accuracy {np.mean(true == pred[:n]):.3f}",
        )  # fmt: skip
        return [*paths, path]
