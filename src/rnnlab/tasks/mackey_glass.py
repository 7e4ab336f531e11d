"""``--task mackey-glass``: forecast the Mackey-Glass series ``--horizon`` steps ahead.

The series comes from :func:`rnnlab.reservoir.mackey_glass` (RK4, ReservoirPy <= 0.4.0's
generator), with delay ``--tau``, rescaled to [-1, 1]. Each sequence is a window of
``WINDOW`` samples; the target is the sample ``horizon`` steps after the window's last one.
Windows are cut from consecutive stretches of the series: train, val, test in that order.
Metrics: MSE and NRMSE (root-mean-square error over max - min of the targets, as
ReservoirPy's ``nrmse``); baseline: persistence (predict the window's last value).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rnnlab.config import option
from rnnlab.engine import Problem
from rnnlab.errors import UserError
from rnnlab.reservoir import mackey_glass, nrmse, rescale
from rnnlab.tasks._data import SeqData
from rnnlab.tasks._nextstep import RawDataset
from rnnlab.tasks._supervised import SupervisedTask, predict_logits
from rnnlab.tasks._task import Criterion, Sample
from rnnlab.tasks.adding import mse_loss_of
from rnnlab.tasks.registry import register

WINDOW = 32
SIZES = {"train": 1000, "val": 200, "test": 200}


def forecast_windows(series: np.ndarray, horizon: int) -> SeqData:
    """Windows x (n, WINDOW, 1) of ``series`` (T,) and targets y (n,): the value ``horizon``
    steps after each window's last sample."""
    n = len(series) - WINDOW - horizon + 1
    idx = np.arange(n)[:, None] + np.arange(WINDOW)[None, :]  # (n, WINDOW)
    x = series[idx][:, :, None].astype(np.float32)
    y = series[np.arange(n) + WINDOW - 1 + horizon].astype(np.float32)
    return SeqData(x, y, np.full(n, WINDOW, np.int32))


def forecast_scores(pred: np.ndarray, y: np.ndarray) -> dict:
    """MSE and NRMSE (max - min normalised) of predictions ``pred`` (n,) of ``y`` (n,)."""
    return {"mse": float(((pred - y) ** 2).mean()), "nrmse": float(nrmse(y, pred))}


def mackey_glass_splits(tau: float, horizon: int) -> dict[str, SeqData]:
    """Train, val and test windows cut from consecutive stretches of one series."""
    total = sum(n + WINDOW + horizon - 1 for n in SIZES.values())
    series = rescale(mackey_glass(total, tau=tau)[:, 0])  # (total,)
    splits, start = {}, 0
    for k, n in SIZES.items():
        stop = start + n + WINDOW + horizon - 1
        splits[k] = forecast_windows(series[start:stop], horizon)
        start = stop
    return splits


@dataclasses.dataclass
class MackeyGlassOptions:
    """The options of ``mackey-glass``: the delay and the forecast horizon."""

    tau: float = option(17.0, "The delay tau of the equation (17: chaotic).", ge=1.0, le=100.0,
                        fixed=True)  # fmt: skip
    horizon: int = option(1, "Forecast this many steps ahead.", ge=1, le=500, fixed=True)


@register
class MackeyGlassTask(SupervisedTask):
    name = "mackey-glass"
    pattern = "many-to-one (regression)"
    source = "generated: Mackey-Glass (RK4, tau 17), rescaled to [-1, 1]"
    models = ("rnn", "esn")
    metric = "NRMSE (max - min), MSE"
    baseline = "persistence (the window's last value)"
    Options = MackeyGlassOptions
    defaults = {"hidden": 32, "lr": 1e-3, "steps": 2000, "eval_every": 200, "log_every": 50,
                "leak": 0.3, "spectral_radius": 1.25, "ridge": 1e-8}  # fmt: skip
    criterion = Criterion("mse", higher=False, ratio=0.1)
    figures = ()
    sample_flags = ("length",)

    def load_data(self, config) -> RawDataset:
        o = config.options
        return RawDataset(mackey_glass_splits(o.tau, o.horizon), ["target"])

    def loss(self, config):
        return mse_loss_of(config.learn.truncate)

    def problem(self, model, data, config) -> Problem:
        val = data.splits["val"]

        def validate(model):
            s = forecast_scores(predict_logits(model, val)[:, 0], val.y)
            return {"val_loss": s["mse"], "val_nrmse": s["nrmse"]}

        batches = self.batches(data.splits["train"], config)
        return Problem(
            model=model, loss=self.loss(config), batches=batches,
            batch_size=batches.batch_size, evaluate=validate,
            stochastic=config.model.dropout > 0, unit="sequences", loss_label="squared error",
        )  # fmt: skip

    def metrics(self, run, data, split, **options):
        part = data.split(split)
        return forecast_scores(predict_logits(run.model, part)[:, 0], part.y), None

    def baseline_metrics(self, run, data, split, **options):
        part = data.split(split)
        return forecast_scores(part.x[:, -1, 0], part.y)

    def sample(self, run, *, length=None, **options) -> Sample:
        """Closed loop (``--horizon 1``): from the test split's first window, predict the
        next value, append it to the window, drop the oldest, and go on for ``length``
        steps (default 200), the model reading only its own predictions. Prints ``step
        generated true`` per line; ``sample.png`` draws both series."""
        if run.config.options.horizon != 1:
            raise UserError("closed-loop generation feeds each prediction back as the next "
                            "input: it needs a run trained with --horizon 1")  # fmt: skip
        length = 200 if length is None else length
        test = self.load_data(run.config).splits["test"]
        true = np.concatenate([test.x[0, :, 0], test.y])[WINDOW : WINDOW + length]  # (<=L,)
        window, out = test.x[:1].copy(), []  # (1, WINDOW, 1)
        for _ in range(length):
            y = float(
                predict_logits(run.model, SeqData(window, test.y[:1], test.lengths[:1]))[0, 0]
            )
            out.append(y)
            window = np.concatenate([window[:, 1:], [[[y]]]], axis=1).astype(np.float32)
        path = run.dir / "sample.png"
        _closed_loop_figure(path, np.array(out), true)
        lines = (f"{t} {g:.5f} {true[t]:.5f}\n" if t < len(true) else f"{t} {g:.5f}\n"
                 for t, g in enumerate(out))  # fmt: skip
        return Sample(lines, [path])


def _closed_loop_figure(path, generated: np.ndarray, true: np.ndarray) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rnnlab.engine import io

    fig, ax = plt.subplots(figsize=(8, 3), dpi=100)
    ax.plot(true, color="0.6", label="Mackey-Glass (test split)")
    ax.plot(generated, color="C0", label="closed loop: the model reads its own predictions")
    ax.set_xlabel("step")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    io.write_png(path, fig)
    plt.close(fig)
