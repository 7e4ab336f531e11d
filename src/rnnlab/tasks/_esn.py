"""``--model esn``: an echo state network on a task whose output is a linear readout of states.

The reservoir (:class:`rnnlab.reservoir.ReservoirCell`, drawn from ``--seed``) stays fixed;
only the readout ``y = x W_out + b`` is fitted, in one pass over the training rows: the
ridge sums ``X^T X``, ``X^T Y`` are accumulated batch by batch (``--batch-size`` rows at a
time; ``--devices N``: each batch split over devices, :mod:`rnnlab.tasks._esn_sharded`)
and solved once (:func:`rnnlab.reservoir.solve_ridge_host`, ReservoirPy 0.4's
convention: centred data, unregularised bias), or the readout is updated row by row by
recursive least squares (``--readout rls``, ``P_0 = I / ridge``: the same regularised
problem, solved online). A many-to-one task reads the state after each sequence's last
step; a tagging task reads every step from ``--washout`` on. Classes are one-hot targets
(the class is the largest output); a regression target (mackey-glass) is fitted as it is.
A next-step task scored by its NLL (birdsong) reads the outputs as probabilities
(:class:`ClippedReadout`); charlm reads its text as streams (:mod:`rnnlab.tasks._esn_lm`).

The run directory is that of any run (``config.json``, ``best.eqx``, ``metrics.jsonl``,
``progress.json``), so ``rnnlab eval``, ``sample`` and ``inspect`` read it unchanged.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.engine import check_new_run_dir, io
from rnnlab.errors import UserError
from rnnlab.layers import RNN
from rnnlab.reservoir import (
    Readout,
    ReservoirCell,
    host_stats,
    online_fit,
    rls_init,
    solve_ridge_host,
    warmup_mask,
)
from rnnlab.tasks._esn_lm import logits_of

INPUT_CONNECTIVITY = 0.2  # ReservoirPy's Mackey-Glass tutorial (input_connectivity=0.2)
# Fields of the gradient loop that a one-pass fit never reads: refused, not ignored.
NOT_READ = ("steps", "minutes", "optimizer", "lr", "momentum", "schedule", "warmup", "clip",
            "eval_every", "log_every", "processes", "learner", "hidden", "dropout",
            "forget_bias")  # fmt: skip


class EchoStateModel(eqx.Module):
    """A reservoir and a linear readout, called like the task's other models:
    ``model(x (B, T, D), lengths (B,)) -> (B, O)`` (``pool``: from the state after each
    row's last step) or ``(B, T, O)`` (every step). ``rnn`` is a one-layer
    :class:`rnnlab.RNN` of the reservoir cell, so tracing and inspection see it as any
    stack."""

    rnn: RNN
    readout: Readout
    pool: bool = eqx.field(static=True)

    def __call__(self, x, lengths=None, *, key=None, truncate=None):
        ys, finals = self.rnn(x, lengths=lengths)  # (B, T, H), [(B, H)]
        return self.readout(finals[0] if self.pool else ys)

    @property
    def cell(self) -> ReservoirCell:
        return self.rnn.cells[0][0]


def reservoir_of(m, D: int, seed: int) -> ReservoirCell:
    """The reservoir cell of a model config ``m`` (its ``units``, ``leak``, ...) over ``D``
    inputs, drawn from ``seed``."""
    return ReservoirCell(
        D, m.units, leak_rate=m.leak, spectral_radius=m.spectral_radius,
        input_scaling=m.input_scaling, connectivity=m.connectivity,
        input_connectivity=INPUT_CONNECTIVITY, esp_warning=False, key=int(seed),
    )  # fmt: skip


# Tasks scored by the NLL of a next-step distribution: their readout's outputs become
# probabilities (clipped, renormalised: :class:`ClippedReadout`), as on charlm.
PROBABILITIES = ("birdsong",)


class ClippedReadout(Readout):
    """A ridge readout of one-hot targets whose outputs ``y`` are read as probabilities:
    it returns logits whose softmax is ``y`` clipped at ``FLOOR`` and renormalised (a
    least-squares fit estimates the probabilities, but its outputs may be negative and
    need not sum to 1; :mod:`rnnlab.tasks._esn_lm`)."""

    def __call__(self, features: jax.Array) -> jax.Array:
        return logits_of(features @ self.W_out + self.bias)  # (..., O)


def build_esn(m, D: int, C: int, *, pool: bool, seed: int, task: str = "") -> EchoStateModel:
    """A fresh model of config ``m`` for ``task``: the reservoir and a zero readout to
    ``C`` outputs."""
    cell = reservoir_of(m, D, seed)
    return with_cell(cell, C, pool, probabilities=task in PROBABILITIES)


def with_cell(cell: ReservoirCell, C: int, pool: bool, *, probabilities: bool = False):
    """An :class:`EchoStateModel` of ``cell`` with a zero readout."""
    kind = ClippedReadout if probabilities else Readout
    readout = kind(jnp.zeros((cell.hidden_size, C)), jnp.zeros(C))
    return EchoStateModel(RNN(None, cell.input_size, None, cells=((cell,),)), readout, pool)


def check(task, config, given: set[str]) -> None:
    """The rules of ``--model esn`` on ``task``, each a one-line :class:`UserError`."""
    m = config.model
    if "esn" not in task.models:
        raise UserError(
            f"--model esn needs a task whose output is a linear readout of the states "
            f"(mackey-glass, vowels, motions, activity, classify, tag, charlm, birdsong); "
            f"--task {task.name} is {task.pattern or 'not one'}"
        )
    if task.name == "charlm" and (m.readout != "ridge" or m.search is not None):
        raise UserError("--model esn on charlm fits a ridge readout in one pass over the "
                        "text; --readout rls and --search apply to the other tasks")  # fmt: skip
    for name in NOT_READ:
        if name in given:
            flag = "--" + name.replace("_", "-")
            raise UserError(f"{flag} does not apply to --model esn (a fixed reservoir whose "
                            "readout is fitted in one pass; its size is --units)")  # fmt: skip
    if "washout" in given and getattr(task, "head", "tag") != "tag":
        raise UserError(f"--washout applies to a per-step readout; --task {task.name} reads "
                        "the state after each sequence's last step")  # fmt: skip
    if m.readout == "rls" and m.ridge <= 0:
        raise UserError("--readout rls starts from P = I / ridge: give --ridge > 0, e.g. 1e-6")
    if m.search is not None and m.readout != "ridge":
        raise UserError("--search fits ridge readouts; drop --readout rls")
    if "devices" in given and (m.readout != "ridge" or m.search is not None
                               or task.name == "charlm"):  # fmt: skip
        raise UserError("--devices splits the ridge sums of a single fit over devices; it "
                        "does not apply with --readout rls, --search or charlm")  # fmt: skip


def training_rows(problem) -> tuple[np.ndarray, ...]:
    """The rows that the gradient path trains on, ``(x, y, lengths)``, in order."""
    arrays = getattr(problem.batches, "arrays", None)
    if arrays is None or len(arrays) != 3:
        raise UserError("--model esn needs a task whose batches are whole sequences")
    return arrays


@eqx.filter_jit
def _features(model, x, lengths):
    ys, finals = model.rnn(x, lengths=lengths)  # (B, T, H), [(B, H)]
    return finals[0] if model.pool else ys


def _targets(y: np.ndarray, C: int) -> np.ndarray:
    """One-hot targets of class labels, or a regression target as a column."""
    if np.issubdtype(y.dtype, np.integer):
        return np.eye(C, dtype=np.float64)[y]  # (..., C)
    return np.asarray(y, np.float64)[..., None]  # (..., 1)


def batch_features(model, rows, C: int, washout: int):
    """``(features, targets, mask)`` of a batch of rows ``(x, y, lengths)``: (B, H) and
    (B, C) for a pooled model, (B, T, H), (B, T, C) and the fitted steps (B, T) for a
    per-step one."""
    x, y, lengths = rows
    feats = _features(model, jnp.asarray(x), jnp.asarray(lengths))
    mask = None
    if not model.pool:
        mask = np.asarray(warmup_mask(x.shape[1], x.shape[0], washout, lengths))
    return feats, _targets(y, C), mask


def fit_readout(model: EchoStateModel, rows, *, batch_size: int, ridge: float,
                washout: int = 0, readout: str = "ridge",
                devices: int | None = None) -> EchoStateModel:  # fmt: skip
    """``model`` with its readout fitted on ``rows`` ``(x, y, lengths)``: ridge from sums
    accumulated over batches of ``batch_size`` rows (on the host; or each batch split
    over ``devices`` and its sums added by a ``psum``), or RLS over the rows in order."""
    from rnnlab.tasks._esn_sharded import device_stats, mesh_of

    C = model.readout.bias.shape[0]
    mesh = None if devices is None else mesh_of(devices)
    stats, seen = None, []
    for i in range(0, len(rows[0]), batch_size):
        batch = [a[i : i + batch_size] for a in rows]
        if mesh is not None:
            part = device_stats(model, batch, _targets(batch[1], C), washout, mesh)
            stats = part if stats is None else stats + part
            continue
        feats, targets, mask = batch_features(model, batch, C, washout)
        if readout == "rls":  # the fitted rows, kept in order for one scan
            seen.append(_kept(feats, targets, mask))
            continue
        part = host_stats(feats, targets, mask)
        stats = part if stats is None else stats + part
    if readout == "rls":
        W, b = _rls(*(np.concatenate(a) for a in zip(*seen, strict=True)), ridge)
    else:
        fitted = solve_ridge_host(stats, ridge)
        W, b = fitted.W_out, fitted.bias
    return with_readout(model, W, b)


def with_readout(model, W, b):
    """``model`` with its readout's ``W_out`` and ``bias`` set to ``W``, ``b`` (in the
    readout's dtype; the readout keeps its kind)."""
    dtype = model.readout.W_out.dtype
    fitted = (jnp.asarray(W, dtype), jnp.asarray(b, dtype))
    return eqx.tree_at(lambda m: (m.readout.W_out, m.readout.bias), model, fitted)


def _kept(feats, targets, mask):
    """The rows of a batch that a fit uses, flat: (N, H) float64 features, (N, C) targets."""
    F = np.asarray(feats, np.float64).reshape(-1, feats.shape[-1])  # (N, H)
    Y = np.asarray(targets, np.float64).reshape(-1, targets.shape[-1])  # (N, C)
    if mask is None:
        return F, Y
    keep = np.asarray(mask).reshape(-1)
    return F[keep], Y[keep]


def _rls(F, Y, alpha):
    """RLS in float64 over the rows ``F`` (N, H), ``Y`` (N, C), in order, from ``P = I/alpha``
    (:func:`rnnlab.reservoir.online_fit`): ``(W_out, b)``."""
    with jax.enable_x64(True):
        state = rls_init(F.shape[1], Y.shape[1], float(alpha), dtype=jnp.float64)
        state, _ = online_fit(state, jnp.asarray(F), jnp.asarray(Y), rule="rls")
        return np.asarray(state.W_out), np.asarray(state.bias)


def train(task, run_dir, config, *, resume=False, report=lambda e: None) -> dict:
    """Fit ``config``'s echo state network on ``task`` into the new run directory
    ``run_dir`` (or the best of ``--search N`` trials); the summary of :meth:`Task.train`."""
    from rnnlab.tasks._esn_search import search_run

    if resume:
        raise UserError(f"{run_dir} is an ESN run, fitted in one pass: there is nothing to "
                        "resume; train a new --out")  # fmt: skip
    run_dir = Path(run_dir)
    check_new_run_dir(run_dir)  # before reading the data: an error touches nothing
    data = task.load_data(config)
    info = json.loads(json.dumps(data.info()))  # as config.json will hold it
    t0 = time.perf_counter()
    if config.model.search is not None:
        model, config, val, trials = search_run(task, data, info, config, report)
    else:
        model, val = fit_and_validate(task, data, info, config)
        trials = None
    fit_s = time.perf_counter() - t0
    m = config.model
    esp = model.cell.echo_state_warning()  # one line, as the library's EchoStateWarning says
    if esp:
        report({"event": "text", "text": f"rnnlab: warning: {esp}"})
    report({"event": "text", "text": f"task {task.name}: {data.describe()}; echo state network "
            f"of {m.units} units, {m.readout} readout, fitted in {fit_s:.2f} s"})  # fmt: skip
    return _write(run_dir, config, info, model, val, fit_s, trials, report)


def fit_and_validate(task, data, info, config):
    """The fitted model of ``config`` and its validation metrics (the task's own)."""
    model = task.build_model(config, info)
    problem = task.problem(model, data, config)
    m = config.model
    if task.name == "charlm":  # the text as streams (rnnlab.tasks._esn_lm)
        from rnnlab.tasks._esn_lm import fit_lm

        t, o = config.train, config.options
        model = fit_lm(model, data.splits["train"], batch_size=t.batch_size, seq_len=o.seq_len,
                       ridge=m.ridge, washout=m.washout)  # fmt: skip
        return model, problem.evaluate(model)
    model = fit_readout(model, training_rows(problem), batch_size=config.train.batch_size,
                        ridge=m.ridge, washout=m.washout, readout=m.readout,
                        devices=config.train.devices)  # fmt: skip
    return model, problem.evaluate(model)


def score_of(val: dict) -> tuple[str, float]:
    """The validation number that ranks fits (lower is better): the error rate where the
    task has an accuracy (a ridge classifier's outputs are no probabilities), else the loss."""
    if "val_accuracy" in val:
        return "val_accuracy", -float(val["val_accuracy"])
    return "val_loss", float(val["val_loss"])


def _write(run_dir, config, info, model, val, fit_s, trials, report) -> dict:
    metric, score = score_of(val)
    best = -score if metric == "val_accuracy" else score
    if not np.isfinite(score):
        raise UserError(f"the fitted readout gives a {metric} of {best}: the reservoir's states "
                        "overflowed or the ridge system is ill-conditioned; raise --ridge or "
                        "lower --spectral-radius / --input-scaling")  # fmt: skip
    run_dir.mkdir(parents=True, exist_ok=True)
    with io.RunLock(run_dir):
        io.write_json(run_dir / io.CONFIG, {**config.to_dict(), "data": info})
        io.save_tree(run_dir / io.BEST, jax.device_get(model))
        row = {"step": 1, "fit_s": round(fit_s, 3), **val, "best": best}
        io.write_text(run_dir / io.METRICS, json.dumps(row) + "\n")
        io.write_json(run_dir / io.PROGRESS, {"step": 1, "best": best})
        if trials is not None:
            io.write_json(run_dir / "trials.json", trials)
    report({"event": "eval", "step": 1, **val})
    return {"event": "stop", "step": 1, "best": best, "metric": metric, "status": "done"}
