"""The one training loop: every model of rnnlab trains through :func:`fit`.

A :class:`Problem` says what to train (model, loss, batches, carried state,
evaluation); :func:`fit` owns the rest: the data-parallel step, clipping and
schedules (through the optax optimizer it is given), evaluation at intervals, the
run directory (config, best and last checkpoints, metrics, loss curve), exact
resume, Ctrl-C, a time budget, divergence, and progress through a callback.

Data parallelism: the global batch is split over a 1-D mesh of devices with
``jax.shard_map``; parameters and optimizer state are replicated; each device
computes the gradient of its rows' summed loss, and one ``psum`` adds gradients,
losses and the count of valid targets. Dividing by the global count makes the step
independent of the device count (up to the order of float additions). Random
numbers are drawn per row of the global batch (one key per row), so dropout masks do
not depend on the split either.
"""

from __future__ import annotations

import dataclasses
import json
import math
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from rnnlab.engine import devices as dev
from rnnlab.engine import io
from rnnlab.engine._step import _agree, _device_info, _gather, _host, _local, _StepSpec, _to_global
from rnnlab.errors import UserError

tree_map = jax.tree_util.tree_map


@dataclasses.dataclass
class Problem:
    """What :func:`fit` trains.

    - ``model``: an Equinox module (its arrays are the parameters).
    - ``loss(model, batch, carry, keys) -> (loss_sum, count, carry)``: the summed loss
      over the rows of ``batch`` it is given (a slice of the global batch on each
      device) and the number of targets it counts; ``carry`` is the state carried
      from one batch to the next (truncated BPTT over contiguous streams; ``None``
      if there is none); ``keys`` is one PRNG key per row (``None`` unless
      ``stochastic``). Use a module-level function: it is a static argument of the
      compiled step.
    - ``batches``: ``get(step)`` -> the global batch of that step, a pytree of NumPy
      arrays with the batch along axis 0, a pure function of ``step`` (exact resume);
      optionally ``epoch(step)`` and ``is_epoch_start(step)`` (the carry is reset there).
    - ``init_carry(batch_size)``: the carry at the start of every epoch.
    - ``evaluate(model) -> dict``: metrics on held-out data, called every
      ``Settings.eval_every`` steps; ``metric`` names the one that decides the best
      checkpoint (lower is better), or is ``None`` when no number picks one (an
      evaluation that only reports, or only looks at the model: no ``best.eqx``).
      Other entries (a text sample) are reported but not logged unless they are numbers.
    - ``unit``: what a row-step counts, for the throughput (``chars`` per second).
    - ``skip_empty``: a step whose batch holds no target (count 0, an online learner's chunk
      before the answer) leaves the parameters and the optimizer state unchanged.

    A logged training loss is per target: the summed losses of the steps since the last
    row over their count of targets (a row waits for a window that holds a target).
    """

    model: Any
    loss: Callable
    batches: Any
    batch_size: int
    init_carry: Callable[[int], Any] | None = None
    evaluate: Callable[[Any], dict] | None = None
    metric: str | None = "val_loss"
    stochastic: bool = False
    items_per_step: int | None = None
    unit: str = "items"
    loss_label: str = "loss"
    skip_empty: bool = False


@dataclasses.dataclass
class Settings:
    """How :func:`fit` runs (not what it trains)."""

    steps: int | None  # None: no step limit (``minutes`` must then stop training)
    minutes: float | None = None
    eval_every: int | None = None
    log_every: int = 20
    seed: int = 0
    devices: int | None = None  # per process; None: the most that divide the batch
    fuse_update: bool = False  # optimizer update in the same jit as the sharded gradient

    @classmethod
    def of(cls, config) -> Settings:
        """The settings of a run config with the CLI's field names (``--steps``, ...)."""
        names = ("steps", "minutes", "eval_every", "log_every", "seed", "devices")
        return cls(**{name: getattr(config, name) for name in names})


@dataclasses.dataclass
class Result:
    model: Any
    summary: dict
    history: list  # every metrics row, as written to metrics.jsonl


def fit(
    problem: Problem,
    optimizer: optax.GradientTransformation,
    settings: Settings,
    *,
    run_dir=None,
    config: dict | None = None,
    resume: bool = False,
    report: Callable[[dict], None] = lambda event: None,
) -> Result:
    """Train ``problem.model``; return the trained model, a summary and the metric rows.

    With ``run_dir``: a new directory (or, with ``resume``, the one to continue) gets
    ``config.json`` (``config``), ``last.eqx`` (model, optimizer state, carry),
    ``best.eqx``, ``progress.json``, ``metrics.jsonl`` and ``loss.png``; a lock
    keeps a second training out. Without it, nothing is written.

    ``report`` receives ``{"event": "start"|"step"|"eval"|"diverged"|"stop", ...}``.
    The summary's ``status`` is ``done``, ``interrupted`` (Ctrl-C or a
    ``KeyboardInterrupt`` raised by ``report``), ``time`` (``minutes`` ran out) or
    ``diverged``: a NaN or infinite loss, seen when the losses are logged (every
    ``log_every`` steps). Training then stops; the summary's ``diverged_at`` is the
    first step whose loss was not finite and its ``message`` one line that says so,
    with a hint (a lower learning rate, gradient clipping). The metrics up to there
    are kept (``history``, ``metrics.jsonl``, ``loss.png``), as is the best checkpoint;
    ``last.eqx`` and ``progress.json`` are not overwritten, so ``resume`` continues
    from the last good save.
    """
    if settings.steps is None and settings.minutes is None:
        raise UserError("give --steps or --minutes: training needs a limit")
    if settings.steps is not None and settings.steps < 1:
        raise UserError(f"--steps must be >= 1, got {settings.steps}")
    run_dir = None if run_dir is None else Path(run_dir)
    if run_dir is not None and not resume and dev.process_index() == 0:
        check_new_run_dir(run_dir)
    n_local = dev.choose_devices(problem.batch_size, settings.devices)
    mesh = dev.make_mesh(n_local)
    lock = io.RunLock(run_dir) if run_dir is not None and dev.process_index() == 0 else None
    if run_dir is not None and dev.process_index() == 0:
        run_dir.mkdir(parents=True, exist_ok=True)
    if lock is not None:
        lock.__enter__()
    try:
        return _fit(problem, optimizer, settings, mesh, run_dir, config, resume, report)
    finally:
        if lock is not None:
            lock.__exit__()


def check_new_run_dir(run_dir: Path) -> None:
    """A new run needs a new or empty directory: never overwrite earlier work."""
    if run_dir.exists() and not run_dir.is_dir():
        raise UserError(f"{run_dir} is a file, not a run directory; pick a new --out")
    if run_dir.exists() and any(run_dir.iterdir()):
        what = "a run" if (run_dir / io.CONFIG).exists() else "other files"
        raise UserError(
            f"{run_dir} already holds {what}; use --resume to continue it or pick a new --out"
        )


def _fit(problem, optimizer, settings, mesh, run_dir, config, resume, report):
    run = _Run(problem, optimizer, settings, mesh, run_dir, report)
    run.restore(config, resume)
    status = run.train()
    return run.finish(status)


class _Run:
    """One call of :func:`fit`: the state that its steps, evaluations and saves share."""

    def __init__(self, problem, optimizer, settings, mesh, run_dir, report):
        self.problem, self.optimizer, self.settings = problem, optimizer, settings
        self.mesh, self.run_dir, self.report = mesh, run_dir, report
        self.writer = dev.process_index() == 0 and run_dir is not None
        self.params, self.static = eqx.partition(problem.model, eqx.is_array)
        self.opt_state = optimizer.init(self.params)
        self.carry = problem.init_carry(problem.batch_size) if problem.init_carry else None
        self.step, self.best, self.rows = 0, math.inf, []
        self.replicated = NamedSharding(mesh, P())
        self.sharded = NamedSharding(mesh, P(dev.AXIS))
        self.diverged_at, self.bad_loss = None, None
        self.evaluated = 0  # the step of the last evaluation

    def restore(self, config, resume) -> None:
        """Read the run to resume, write ``config.json``, place the state on the devices."""
        run_dir = self.run_dir
        if resume:
            if run_dir is None:
                raise UserError("resume needs a run directory")
            progress = read_progress(run_dir)
            self.step, self.best = progress["step"], progress["best"]
            self.evaluated = self.step
            like = (self.params, self.opt_state, self.carry)
            state = io.load_tree(run_dir / io.LAST, _host(like))
            self.params, self.opt_state, self.carry = state
            self.rows = read_metrics(run_dir / io.METRICS, upto=self.step)
        if self.writer and config is not None:
            io.write_json(run_dir / io.CONFIG, {**config, "devices": _device_info(self.mesh)})
        self.params = _to_global(self.params, self.replicated)
        self.opt_state = _to_global(self.opt_state, self.replicated)
        self.carry = _to_global(self.carry, self.sharded)

    def host_model(self):
        return eqx.combine(_local(self.params), self.static)

    def save_last(self) -> None:
        if self.run_dir is None:
            return
        tree = _gather((self.params, self.opt_state, self.carry))
        if self.writer:
            io.save_tree(self.run_dir / io.LAST, tree)
            io.write_json(self.run_dir / io.PROGRESS, {"step": self.step, "best": self.best})
            self.save_metrics()

    def save_metrics(self) -> None:
        io.write_text(self.run_dir / io.METRICS, "".join(json.dumps(r) + "\n" for r in self.rows))

    def evaluate(self) -> None:
        """The problem's evaluation; a better ``metric`` saves ``best.eqx``."""
        problem = self.problem
        if problem.evaluate is None:
            return
        model = self.host_model()
        metrics = problem.evaluate(model)
        ranked = {}
        if problem.metric is not None:
            if problem.metric not in metrics:
                raise ValueError(
                    f"evaluate returned no {problem.metric!r} (it returned {sorted(metrics)}); "
                    "name one of them in Problem.metric, or None"
                )
            value = float(metrics[problem.metric])
            if value < self.best:
                self.best = value
                if self.writer:
                    io.save_tree(self.run_dir / io.BEST, _host(model))
            ranked = {"best": self.best}
        numbers = {k: v for k, v in metrics.items() if isinstance(v, int | float)}
        if numbers:
            self.rows.append({"step": self.step, **numbers, **ranked})
        self.report({"event": "eval", "step": self.step, **metrics, **ranked})

    def train(self) -> str:
        """Step until the end, a stop or a divergence; return the status."""
        problem, settings, B = self.problem, self.settings, self.problem.batch_size
        spec = _StepSpec(
            problem.loss, self.static, self.mesh, problem.stochastic, self.optimizer,
            settings.fuse_update, problem.skip_empty,
        )  # fmt: skip
        base_key = jax.random.key(settings.seed + 1)  # distinct from an initialisation key
        is_epoch_start = getattr(problem.batches, "is_epoch_start", lambda s: s == 0)
        self.report(
            {
                "event": "start",
                "step": self.step,
                "steps": settings.steps,
                "devices": len(self.mesh.devices.flat),
                "processes": dev.process_count(),
            }
        )
        clock = _Clock()
        stop = _StopFlag()
        try:
            while settings.steps is None or self.step < settings.steps:
                if is_epoch_start(self.step) and problem.init_carry and self.step > 0:
                    self.carry = _to_global(problem.init_carry(B), self.sharded)  # streams restart
                batch = _to_global(problem.batches.get(self.step), self.sharded)
                _bound_in_flight(clock.losses)
                loss, self.params, self.opt_state, self.carry = spec.run(
                    self.params, self.opt_state, self.carry, batch, base_key, self.step
                )
                self.step += 1
                clock.losses.append(loss)
                last = self.step == settings.steps
                if self.step % settings.log_every == 0 or last:
                    if not self.log(clock):
                        return "diverged"
                    if _agree(stop.requested):
                        return "interrupted"
                    if settings.minutes is not None and _agree(clock.minutes() > settings.minutes):
                        return "time"
                if settings.eval_every and (self.step % settings.eval_every == 0 or last):
                    self.evaluate()
                    self.save_last()
                    self.evaluated = self.step
        except KeyboardInterrupt:  # raised by a ``report`` callback, outside any JAX call
            return "interrupted"
        finally:
            stop.restore()
        return "done"

    def log(self, clock) -> bool:
        """A metrics row of the losses since the last one; False when they diverged."""
        pairs = np.asarray(jnp.stack(clock.losses))  # (n, 2) summed loss, count since the row
        total, count = (float(v) for v in pairs.sum(0, dtype=np.float64))
        if count == 0 and math.isfinite(total):
            return True  # no target in the window yet (online chunks): it goes on
        mean = total / max(count, 1.0)
        n, now = len(clock.losses), time.perf_counter()
        if not math.isfinite(mean):
            bad = np.flatnonzero(~np.isfinite(pairs[:, 0]))
            self.diverged_at = self.step - n + 1 + (int(bad[0]) if bad.size else n - 1)
            self.bad_loss = mean
            self.report({"event": "diverged", "step": self.diverged_at, "loss": mean})
            return False
        row = {
            "step": self.step,
            "loss": mean,
            f"{self.problem.unit}_per_s": round(
                n * (self.problem.items_per_step or self.problem.batch_size) / (now - clock.t_log),
                1,
            ),
            "time": round(now - clock.t_start, 2),
        }
        epoch_of = getattr(self.problem.batches, "epoch", None)
        if epoch_of is not None:
            row["epoch"] = int(epoch_of(self.step - 1))
        clock.t_log, clock.losses = now, []
        self.rows.append(row)
        self.report({"event": "step", **row})
        return True

    def finish(self, status: str) -> Result:
        """The last evaluation and saves, the summary; a diverged run keeps its last save."""
        writer = self.writer
        if status != "diverged":
            if self.step > self.evaluated:  # stopped early: best.eqx must see the last steps
                self.evaluate()
            self.save_last()
        elif writer:
            self.save_metrics()  # the finite rows: the curve up to the divergence
        if writer:
            plot_losses(self.run_dir, self.problem.loss_label)
        summary = {
            "event": "stop",
            "step": self.step,
            "best": self.best,
            "metric": self.problem.metric,
            "status": status,
        }
        if status == "diverged":
            summary["diverged_at"] = self.diverged_at
            summary["message"] = self.divergence_message()
        self.report(summary)
        return Result(self.host_model(), summary, self.rows)

    def divergence_message(self) -> str:
        """One line: where the loss diverged, what to try, what was kept."""
        line = (
            f"diverged at step {self.diverged_at}: the loss became {self.bad_loss}; "
            "lower the learning rate or clip the gradients"
        )
        if self.run_dir is None:
            return line
        if not math.isfinite(self.best):
            last = self.run_dir / io.LAST
            return f"{line}; {last} is kept" if last.is_file() else f"{line}; nothing was saved"
        best = f"{self.problem.metric} {self.best:.4f}"
        return f"{line}; the best checkpoint {self.run_dir / io.BEST} ({best}) is kept"


def _bound_in_flight(losses: list) -> None:
    """Wait for the previous step's loss before the next step is dispatched, so that at
    most two steps (a handful of computations per device) are ever in flight.

    XLA's CPU client admits 32 computations per device and makes further launches wait.
    With the loop dispatching freely between two metrics rows, the launches of a sharded
    step on two host devices could then interleave with the next step's, and the run hung
    for good: every thread parked, one in the all-reduce's rendezvous, one in a device's
    admission semaphore (seen three times in four-minute ``adding`` runs on 2 devices).
    The wait costs little: the host still prepares the next batch while a step runs.
    """
    if losses:
        losses[-1].block_until_ready()


class _Clock:
    """The losses since the last metrics row and the times of a training."""

    def __init__(self):
        self.t_start = self.t_log = time.perf_counter()
        self.losses = []  # device scalars, read once a row

    def minutes(self) -> float:
        return (time.perf_counter() - self.t_start) / 60


class _StopFlag:
    """Turns Ctrl-C into a flag that the loop checks between steps.

    A KeyboardInterrupt in the middle of a step could leave the model half-updated
    (its buffers are donated to the jitted step), so the first Ctrl-C only asks the
    loop to stop after the current step and save; a second one aborts.
    """

    def __init__(self):
        self.requested = False
        self._old = None
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def restore(self):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
            self._old = None


def read_progress(run_dir: Path) -> dict:
    progress = io.read_json(Path(run_dir) / io.PROGRESS, "cannot resume")
    try:
        return {"step": int(progress["step"]), "best": float(progress["best"])}
    except (KeyError, TypeError, ValueError) as err:
        raise UserError(f"{run_dir / io.PROGRESS} is corrupt ({err!r}); cannot resume") from None


def read_metrics(path: Path, upto: float = math.inf) -> list[dict]:
    """The rows of ``metrics.jsonl`` up to step ``upto`` (later ones were never saved)."""
    if not Path(path).is_file():
        return []
    keep = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
            if row["step"] <= upto:
                keep.append(row)
        except (ValueError, KeyError, TypeError):
            continue
    return keep


def plot_losses(run_dir: Path, label: str = "loss") -> None:
    """Training and validation loss against step, as ``loss.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_metrics(run_dir / io.METRICS)
    train = [(r["step"], r["loss"]) for r in rows if "loss" in r]
    val = [(r["step"], r["val_loss"]) for r in rows if "val_loss" in r]
    if not train:
        return
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    ax.plot(*np.array(train).T, label="train", lw=1)
    if val:
        ax.plot(*np.array(val).T, "o-", label="validation", ms=3)
    ax.set_xlabel("step")
    ax.set_ylabel(label)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    io.atomic_write(run_dir / io.CURVE, lambda f: fig.savefig(f, format="png"))
    plt.close(fig)
