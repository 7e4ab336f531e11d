"""``--task xor``: Elman's (1990) temporal XOR ("Finding structure in time", pp. 185-187).

The input is one bit per step from a stream of triples: two random bits, then their
XOR (``1 0 1 0 0 0 1 1 0 ...``); the target of every step is the next bit. Only every
third target (the XOR, stream position 2 mod 3) can be predicted, from the two bits
before it; the other two are coin flips. A trained net's error is low at that phase and
near chance (0.5) at the others, Elman's Figure 3.

Elman's setup is the default: 1 input, 2 hidden units of a simple recurrent network
(``--cell elman``, context = the previous hidden state), a 3,000-bit training stream
and 600 passes over it (``--steps 600``, a pass a step). One logistic output unit is a
softmax over the two bits (the same model: p(1) = sigmoid(z1 - z0)). The stream is cut
into sequences of ``SEQ`` bits that start at a triple, so a step's phase is its index
mod 3; validation and test streams are 1,200 bits each (Elman averaged 1,200 cycles).

Metrics: the mean absolute error |bit - p(1)| over all targets and by target position
mod 3 (``error_pos0``, ``error_pos1``, ``error_pos2``: 2 is the XOR), the RMS error,
NLL and accuracy; baseline: p(1) = the training stream's mean. The run directory gets
``xor_error_<split>.png``, the error by position mod 3 and over 12 steps.
"""

from __future__ import annotations

import numpy as np

from rnnlab.tasks._data import SeqData
from rnnlab.tasks._nextstep import RawDataset
from rnnlab.tasks._supervised import SupervisedTask, predict_logits
from rnnlab.tasks._task import Criterion
from rnnlab.tasks.registry import register

SEQ = 30  # bits per training sequence (10 triples)
BITS = {"train": 3000, "val": 1200, "test": 1200}  # Elman: 3,000 training bits


def xor_stream(n_bits: int, rng: np.random.Generator) -> np.ndarray:
    """``n_bits`` (a multiple of 3) of triples ``a b a^b``, int32 (n_bits,)."""
    if n_bits % 3:
        raise ValueError(f"n_bits must be a multiple of 3, got {n_bits}")
    ab = rng.integers(0, 2, size=(n_bits // 3, 2))
    return np.column_stack([ab, ab[:, 0] ^ ab[:, 1]]).reshape(-1).astype(np.int32)


def stream_rows(bits: np.ndarray, seq: int = SEQ) -> SeqData:
    """Cut a stream into rows of ``seq`` inputs (bits t..t+seq-1) and their next bits as
    targets; rows start at stream positions 0, seq, 2 seq, ... (a multiple of 3)."""
    n = (len(bits) - 1) // seq
    x = bits[: n * seq].reshape(n, seq)
    y = bits[1 : n * seq + 1].reshape(n, seq)
    return SeqData(x[:, :, None].astype(np.float32), y, np.full(n, seq, np.int32))


def error_by_phase(p1: np.ndarray, y: np.ndarray, period: int = 3) -> np.ndarray:
    """Mean |y - p1| of the targets at each position mod ``period``; ``p1``, ``y`` (N, T)
    with rows starting at a triple (the target of input t sits at stream position t+1)."""
    err = np.abs(y - p1)
    phase = (np.arange(y.shape[1]) + 1) % period  # (T,)
    return np.array([err[:, phase == k].mean() for k in range(period)])


def xor_metrics(p1: np.ndarray, y: np.ndarray) -> dict:
    """Errors, NLL and accuracy of p(next bit = 1) ``p1`` (N, T) against ``y`` (N, T)."""
    p1 = np.clip(p1, 1e-7, 1 - 1e-7)
    nll = -np.where(y == 1, np.log(p1), np.log(1 - p1)).mean()
    by_phase = error_by_phase(p1, y)
    return {
        "loss": float(nll),
        "accuracy": float(((p1 > 0.5) == (y == 1)).mean()),
        "error": float(np.abs(y - p1).mean()),
        "rmse": float(np.sqrt(((y - p1) ** 2).mean())),
        **{f"error_pos{k}": float(e) for k, e in enumerate(by_phase)},
    }


@register
class XorTask(SupervisedTask):
    name = "xor"
    pattern = "many-to-many (next bit)"
    source = "generated: Elman (1990) XOR stream, 3,000 training bits"
    metric = "error by position mod 3"
    baseline = "p(1) = stream mean"
    head = "tag"
    # Elman's network and passes: 2 units of an SRN, the whole stream a step, 600 steps.
    defaults = {"cell": "elman", "hidden": 2, "batch_size": BITS["train"] // SEQ,
                "steps": 600, "lr": 0.05}  # fmt: skip
    criterion = Criterion("error_pos2", higher=False, margin=0.1)  # the XOR bit: below chance
    figures = ("error by position mod 3",)

    def load_data(self, config) -> RawDataset:
        seed = config.train.seed
        splits = {
            k: stream_rows(xor_stream(n, np.random.default_rng([seed, i])))
            for i, (k, n) in enumerate(BITS.items())
        }
        return RawDataset(splits, ["0", "1"])

    def metrics(self, run, data, split, **options):
        part = data.split(split)
        logits = predict_logits(run.model, part)  # (N, T, 2)
        p1 = 1 / (1 + np.exp(logits[..., 0] - logits[..., 1]))  # softmax's p(1)
        return xor_metrics(p1, part.y), (p1, part.y)

    def baseline_metrics(self, run, data, split, **options):
        part = data.split(split)
        return xor_metrics(np.full(part.y.shape, data.splits["train"].y.mean()), part.y)

    def write_figures(self, run, data, split, outputs):
        p1, y = outputs
        chance = self.baseline_metrics(run, data, split)["error"]
        path = run.dir / f"xor_error_{split}.png"
        error_figure(path, p1, y, chance)
        return [path]


def error_figure(path, p1, y, chance) -> None:
    """Elman's Figure 3: the mean error over 12 consecutive targets (averaged over the
    rows), beside the error by position mod 3."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rnnlab.engine import io

    err = np.abs(y - p1)[:, :12].mean(0)  # (12,): targets 1..12 of each row
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2), dpi=100)
    a.plot(range(1, 13), err, "o-")
    a.set_xlabel("stream position of the target")
    a.set_ylabel("mean |target - p(1)|")
    a.set_xticks(range(1, 13))
    b.bar(["0", "1", "2 (XOR)"], error_by_phase(p1, y), color=["grey", "grey", "tab:blue"])
    b.axhline(chance, ls="--", c="k", lw=1, label="baseline")
    b.set_xlabel("target position mod 3")
    b.legend()
    for ax in (a, b):
        ax.set_ylim(0, 1)
    fig.suptitle("temporal XOR (Elman 1990): error low on every third bit only")
    fig.tight_layout()
    io.atomic_write(path, lambda f: fig.savefig(f, format="png"))
    plt.close(fig)
