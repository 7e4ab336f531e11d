"""Optimizers and learning-rate schedules, built from plain settings (optax underneath)."""

from __future__ import annotations

import functools

import optax

from rnnlab.errors import UserError

OPTIMIZERS = ("adam", "rmsprop", "sgd", "momentum")
SCHEDULES = ("constant", "cosine", "epoch-decay")


@functools.lru_cache(maxsize=64)
def make_optimizer(
    name: str = "adam",
    lr: float = 2e-3,
    *,
    clip: float | None = None,
    schedule: str = "constant",
    warmup: int = 0,
    steps: int | None = None,
    momentum: float = 0.9,
    decay: float = 0.95,
    steps_per_epoch: int | None = None,
    decay_after: int = 10,
    gamma: float = 0.95,
) -> optax.GradientTransformation:
    """Clipping by global norm (``clip``; 0 or None: off), then the optimizer on a schedule.

    - ``name``: ``adam``; ``rmsprop`` (``decay`` is its moving-average factor, 0.95 in
      Karpathy's char-rnn); ``sgd`` (with ``momentum``, heavy ball, when it is > 0);
      ``momentum`` (always heavy ball).
    - ``schedule``: ``constant`` after a linear warm-up of ``warmup`` steps (the
      default: a short run, or one ended by ``--minutes``, never trains far below its
      learning rate); ``cosine`` warms up, then decays to 0.1 x ``lr`` at ``steps``;
      ``epoch-decay`` multiplies ``lr`` by ``gamma`` at every epoch after
      ``decay_after`` epochs (Karpathy et al. 2015's recipe; needs ``steps_per_epoch``).

    The same settings give the same object (cached), so jitted steps compile once.
    """
    if name not in OPTIMIZERS:
        raise UserError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    if schedule not in SCHEDULES:
        raise UserError(f"unknown schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}")
    if not lr > 0:
        raise UserError(f"learning rate must be > 0, got {lr}")
    warmup = max(int(warmup), 0)
    if schedule == "cosine":
        total = max(int(steps or 1), warmup + 1)
        rate = optax.warmup_cosine_decay_schedule(0.0, lr, warmup, total, end_value=0.1 * lr)
    elif schedule == "epoch-decay":
        if not steps_per_epoch:
            raise UserError("the epoch-decay schedule needs the number of steps per epoch")
        rate = optax.exponential_decay(
            lr,
            transition_steps=steps_per_epoch,
            decay_rate=gamma,
            transition_begin=decay_after * steps_per_epoch,
            staircase=True,
        )
    elif warmup:
        rate = optax.join_schedules(
            [optax.linear_schedule(lr / warmup, lr, warmup), optax.constant_schedule(lr)],
            [warmup],
        )
    else:
        rate = lr
    if name == "adam":
        opt = optax.adam(rate)
    elif name == "rmsprop":
        opt = optax.rmsprop(rate, decay=decay)
    elif name == "momentum":
        opt = optax.sgd(rate, momentum=momentum)
    else:
        opt = optax.sgd(rate, momentum=momentum or None)
    return optax.chain(optax.clip_by_global_norm(clip), opt) if clip else opt


def optimizer_of(config, steps_per_epoch: int | None = None) -> optax.GradientTransformation:
    """:func:`make_optimizer` from a run config with the CLI's field names (``optimizer``,
    ``lr``, ``clip`` (0: off), ``schedule``, ``warmup``, ``steps``, ``momentum``)."""
    return make_optimizer(
        config.optimizer,
        config.lr,
        clip=config.clip or None,
        schedule=config.schedule,
        warmup=config.warmup,
        steps=config.steps,
        momentum=config.momentum,
        steps_per_epoch=steps_per_epoch,
    )
