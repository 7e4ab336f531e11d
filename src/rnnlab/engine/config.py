"""The engine's config sections: how to train (:class:`TrainConfig`) and how the gradient is
obtained (:class:`LearnerConfig`). Fields are :func:`rnnlab.config.option` fields: the
command line, ``config.json`` and the resume check are generated from them, and every task
starts from these defaults (a task may set its own, see :class:`rnnlab.tasks.Task`).

>>> from rnnlab.engine.config import TrainConfig
>>> TrainConfig(clip=-1.0).check()
Traceback (most recent call last):
...
rnnlab.errors.UserError: --clip must be >= 0, got -1.0
"""

from __future__ import annotations

import dataclasses

from rnnlab.config import check_fields, option
from rnnlab.errors import UserError

OPTIMIZERS = ("adam", "rmsprop", "sgd")
SCHEDULES = ("constant", "cosine", "epoch-decay")
LEARNERS = ("bptt", "rtrl", "uoro", "snap1", "snap2", "rflo", "eprop")  # rnnlab.learn's
ONLINE = LEARNERS[1:]  # the learners that update inside a sequence (--update-every)


def _online(learn) -> bool:
    return learn.learner in ONLINE


def _bptt(learn) -> bool:
    return learn.learner == "bptt"


@dataclasses.dataclass
class TrainConfig:
    """How to train: budget, batches, optimizer, schedule, evaluation, seed and devices."""

    steps: int | None = option(
        300, "Training steps (batches); with --minutes and no --steps, the minutes alone stop "
        "training.", ge=1,
    )  # fmt: skip
    minutes: float | None = option(None, "Stop after this many minutes.", gt=0)
    batch_size: int = option(
        32, "Rows of every batch (sequences, streams or pairs), split over the devices.", ge=1
    )
    optimizer: str = option("adam", "The optimizer.", choices=OPTIMIZERS)
    lr: float = option(3e-3, "Peak learning rate.", gt=0)
    momentum: float = option(
        0.9, "Heavy-ball momentum of sgd (0: none).", ge=0, lt=1,
        applies=(lambda t: t.optimizer == "sgd", "--optimizer sgd"),
    )  # fmt: skip
    schedule: str = option(
        "constant", "constant (after --warmup), cosine (down to lr/10 at --steps) or epoch-decay "
        "(x0.95 an epoch after the 10th).", choices=SCHEDULES,
    )  # fmt: skip
    warmup: int = option(0, "Steps of linear warm-up of the learning rate.", ge=0)
    clip: float = option(1.0, "Clip the gradient's global norm at this value (0: off).", ge=0)
    eval_every: int = option(50, "Validate and save a checkpoint every N steps.", ge=1)
    log_every: int = option(10, "Log the training loss every N steps.", ge=1)
    seed: int = option(
        0, "Random seed: initialisation, batches and generated data.", ge=0, fixed=True
    )
    devices: int | None = option(
        None, "Devices to split each batch over (none: every local device, CPU cores included, "
        "that divides the batch).", ge=1,
    )  # fmt: skip
    processes: int = option(
        1, "Cooperating processes on this machine (jax.distributed), each with its share of "
        "the cores.", ge=1,
    )  # fmt: skip

    def check(self, given: set[str] | None = None) -> None:
        check_fields(self, given)
        if self.steps is None and self.minutes is None:
            raise UserError("give --steps or --minutes: training needs a limit")
        if self.schedule == "cosine" and self.steps is None:
            raise UserError("--schedule cosine decays until --steps: give --steps")


@dataclasses.dataclass
class LearnerConfig:
    """How the gradient is obtained. ``bptt``: back-propagation through time over each
    batch, full or truncated to chunks of ``truncate`` steps. The online learners of
    :mod:`rnnlab.learn` (``rtrl``, ``uoro``, ``snap1``, ``snap2``, ``rflo``, ``eprop``)
    update the parameters every ``update_every`` time steps inside the sequences, carrying
    their influence or eligibility traces from chunk to chunk (an engine step is one chunk,
    see :mod:`rnnlab.tasks._online`). Every task takes these flags; ``config.json``
    records them."""

    learner: str = option(
        "bptt", "bptt: back-propagation through time (full, or with --truncate); online, "
        "forward in time: rtrl (exact RTRL), uoro, snap1, snap2 (SnAp), rflo (leaky cells: "
        "mtrnn), eprop (e-prop: lstm family, elman, gru).",
        choices=LEARNERS, fixed=True,
    )  # fmt: skip
    update_every: int = option(
        1, "An online learner updates the parameters every K time steps (an engine step: "
        "one chunk of K steps of the batch; --steps counts chunks).", ge=1, fixed=True,
        applies=(_online, "an online --learner (" + ", ".join(ONLINE) + ")"),
    )  # fmt: skip
    truncate: int | None = option(
        None, "Truncate BPTT: the gradient flows within chunks of K steps (1: Elman's "
        "one-step training; none: the whole sequence).", ge=1,
        applies=(_bptt, "--learner bptt (an online learner has no window)"),
    )  # fmt: skip

    def check(self, given: set[str] | None = None) -> None:
        check_fields(self, given)
