"""``--task adding``: Hochreiter & Schmidhuber's (1997) adding problem, experiment 4.

Each step is a pair (value, marker). ``--variant paper`` (the default) follows section
5.4: values uniform in [-1, 1]; lengths uniform between T and T + T/10 (``--length T``,
default 100); one of the first ten pairs is marked (X1), then one of the first T/2 - 1
still unmarked pairs (X2); the marker is 1 on those two, -1 on the first and the last
pair, 0 elsewhere ("in the rare case where the first pair of the sequence gets marked,
we set X1 to zero"). The target, given at the end only, is 0.5 + (X1 + X2) / 4; a
sequence is right if the absolute error is below 0.04, and the paper's criterion is at
most 1 wrong of 2,560 test sequences. Predicting the mean costs an MSE of about 1/24
(exactly (0.9 + 48/49) / 48 = 0.0392 at T = 100, the zeroed X's included).

``--variant sum``, the later literature's form: values in [0, 1], markers 0 or 1 only,
no zeroing, the same marked positions, target X1 + X2 (mean predictor: MSE 1/6).

Many-to-one regression: an RNN reads the padded sequence and a linear readout of its
last valid step gives the target; the loss is the squared error.

``--forget-bias B`` starts the forget gates of ``lstm``, ``peephole`` and ``cifg`` at
f = sigmoid(B) (both biases of the gate: B and 0) instead of torch's f near 1/2. With
f near 1/2 the marked values fade by 2^-90 on their way to the end, the gradient that
would teach the gate to hold them is as small, and an LSTM-32 stays at the mean
predictor's MSE for thousands of steps; B = 3 (f = 0.95) learns (the README's
"Papers, reproduced" table). The 1997 cell (``--cell lstm1997``) has no forget gate:
its carousel holds them from the start. Training sequences are
drawn fresh for every step (a pure function of seed and step), as in the paper's online
training; validation has 256 sequences and test 2,560.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from rnnlab.engine import Problem
from rnnlab.errors import UserError
from rnnlab.tasks._data import SeqData
from rnnlab.tasks._nextstep import RawDataset
from rnnlab.tasks._supervised import SupervisedTask, TaskConfig, predict_logits, read_config
from rnnlab.tasks.registry import register

VARIANTS = ("paper", "sum")
FORGET_GATE = ("lstm", "peephole", "cifg")  # the cells that --forget-bias applies to
TOLERANCE = 0.04  # a sequence is right when |output - target| < 0.04
SIZES = {"train": 2560, "val": 256, "test": 2560}  # train: only for the baseline's mean


def adding_data(n: int, T: int, variant: str, rng: np.random.Generator) -> SeqData:
    """``n`` adding sequences: x (n, T + T // 10, 2) of (value, marker), targets y (n,)
    float32, lengths (n,) in [T, T + T // 10]."""
    width = T + T // 10
    lengths = rng.integers(T, width + 1, size=n)
    low = -1.0 if variant == "paper" else 0.0
    values = rng.uniform(low, 1.0, size=(n, width))
    marks = np.zeros((n, width))
    pos1 = rng.integers(0, min(10, T // 2), size=n)
    # X2: one of the first T/2 - 1 pairs other than X1's (the first T/2 minus pos1)
    pos2 = rng.integers(0, T // 2 - 1, size=n)
    pos2 = pos2 + (pos2 >= pos1)
    rows = np.arange(n)
    if variant == "paper":
        marks[:, 0] = -1.0
        marks[rows, lengths - 1] = -1.0
        values[:, 0] = np.where((pos1 == 0) | (pos2 == 0), 0.0, values[:, 0])  # X = 0 there
    marks[rows, pos1] = marks[rows, pos2] = 1.0
    total = values[rows, pos1] + values[rows, pos2]
    y = 0.5 + total / 4 if variant == "paper" else total
    valid = np.arange(width)[None, :] < lengths[:, None]
    x = np.where(valid[:, :, None], np.stack([values, marks], -1), 0.0)
    return SeqData(x.astype(np.float32), y.astype(np.float32), lengths.astype(np.int32))


def adding_scores(pred: np.ndarray, y: np.ndarray) -> dict:
    """MSE, the count of sequences whose absolute error is 0.04 or more, the fraction
    right, and the paper's criterion (at most one wrong)."""
    wrong = int((np.abs(pred - y) >= TOLERANCE).sum())
    return {
        "mse": float(((pred - y) ** 2).mean()),
        "wrong": wrong,
        "accuracy": 1 - wrong / len(y),
        "solved": wrong <= 1,
    }


def with_forget_bias(model, bias: float):
    """``model`` with the forget gates of all its recurrent cells starting at
    f = sigmoid(``bias``) (:func:`rnnlab.cells.lstm.with_forget_bias`)."""
    import equinox as eqx

    from rnnlab.cells.lstm import with_forget_bias as biased

    cells = tuple(tuple(biased(c, bias) for c in layer) for layer in model.rnn.cells)
    return eqx.tree_at(lambda m: m.rnn.cells, model, cells)


def mse_loss(model, batch, carry, keys):
    """Summed squared error of the one output per sequence (many-to-one regression)."""
    x, y, lengths = batch  # (b, T, 2), (b,), (b,)
    out = model(x, lengths, key=keys)[:, 0]  # (b,)
    return ((out - y) ** 2).sum(), y.shape[0], carry


class FreshBatches:
    """A new batch of sequences for every step, drawn from (seed, step): exact resume."""

    def __init__(self, config, batch_size: int):
        self.config, self.batch_size = config, batch_size
        self.per_epoch = max(1, SIZES["train"] // batch_size)  # for --schedule epoch-decay

    def get(self, step: int):
        c = self.config
        rows = adding_data(
            self.batch_size, c.length, c.variant, np.random.default_rng([c.seed, 9, step])
        )
        return rows.x, rows.y, rows.lengths


@dataclasses.dataclass
class AddingConfig(TaskConfig):
    """An ``adding`` run: the sequence tasks' fields plus the variant and T."""

    task: str = "adding"
    variant: str = "paper"
    length: int = 100  # T: sequences have T to T + T/10 steps
    forget_bias: float | None = None  # initial forget-gate bias (None: the cell's own)
    steps: int = 2000
    eval_every: int = 100

    def check(self, models) -> None:
        super().check(models)
        if self.variant not in VARIANTS:
            raise UserError(f"--variant must be one of {', '.join(VARIANTS)}, got {self.variant!r}")
        if self.length < 4:
            raise UserError(f"--length must be >= 4, got {self.length}")
        if self.forget_bias is not None and self.cell not in FORGET_GATE:
            raise UserError(
                f"--forget-bias needs a cell with a forget gate ({', '.join(FORGET_GATE)}), "
                f"not --cell {self.cell}"
            )


@register
class AddingTask(SupervisedTask):
    name = "adding"
    pattern = "many-to-one (regression)"
    source = "generated: H&S (1997) exp. 4, T = 100, 2,560 test sequences"
    metric = "MSE, wrong (|error| >= 0.04)"
    baseline = "the mean target"
    config_class = AddingConfig
    figures = ()

    def build_model(self, config, info: dict):
        model = super().build_model(config, info)
        if config.forget_bias is None or config.model != "rnn":
            return model
        return with_forget_bias(model, config.forget_bias)

    def load(self, config) -> RawDataset:
        splits = {
            k: adding_data(
                n, config.length, config.variant, np.random.default_rng([config.seed, i])
            )
            for i, (k, n) in enumerate(SIZES.items())
        }
        return RawDataset(splits, ["target"])

    def problem(self, model, train: SeqData, val: SeqData, config) -> Problem:
        def validate(model):
            s = adding_scores(predict_logits(model, val)[:, 0], val.y)
            return {"val_loss": s["mse"], "val_accuracy": s["accuracy"]}

        return Problem(
            model=model, loss=mse_loss, batches=FreshBatches(config, config.batch_size),
            batch_size=config.batch_size, evaluate=validate, stochastic=config.dropout > 0,
            unit="sequences", loss_label="squared error",
        )  # fmt: skip

    def evaluate(self, run_dir, split: str = "test", *, figures: bool = True) -> dict:
        run_dir = Path(run_dir)
        config, info, model = self.load_run(run_dir, read_config(run_dir))
        data = self.load(config)
        part = data.split(split)
        metrics = adding_scores(predict_logits(model, part)[:, 0], part.y)
        mean = np.full(len(part), data.splits["train"].y.mean())
        return {
            "task": self.name,
            "split": split,
            "metrics": metrics,
            "baseline": adding_scores(mean, part.y),
        }
