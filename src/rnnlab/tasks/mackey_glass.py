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
from rnnlab.reservoir import mackey_glass, nrmse, rescale
from rnnlab.tasks._data import SeqData
from rnnlab.tasks._nextstep import RawDataset
from rnnlab.tasks._supervised import SupervisedTask, predict_logits
from rnnlab.tasks._task import Criterion
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
