"""Online learners in the engine: ``rnnlab train --learner rtrl --update-every k``.

A task's :class:`rnnlab.engine.Problem` (whole sequences, one update per batch) becomes one
whose engine step is one chunk of ``k`` time steps of a batch (:func:`online_problem`):

- step ``s`` trains on chunk ``j = s mod n`` of batch ``s // n`` of the task's batches
  (``n = ceil(T / k)`` chunks; the last one padded with steps that have no target), so
  ``--steps`` counts chunks, that is parameter updates;
- the engine's carry is every row's learner state (:class:`rnnlab.learn.Carry`: the cell's
  state and the learner's influence or eligibility traces), fresh at chunk 0 of a batch
  and carried to the next chunk: memory is constant in the sequence length; it is saved
  in ``last.eqx`` with the parameters, so ``--resume`` continues inside a batch;
- the loss is the learner's: :func:`rnnlab.learn.make_step` gives the rows' summed
  gradient estimate ``g`` and summed loss ``L``; the engine differentiates
  ``L + g . (theta - sg(theta))`` (``sg``: stop-gradient), whose value is ``L`` and whose
  gradient is ``g``. Its sharded step is unchanged: rows split over devices, each with its
  own traces, one ``psum`` of gradients, losses and counts, the optimizer after it.

A chunk without a target (many-to-one tasks: every chunk but the one holding the last
valid step) has a zero gradient; the optimizer still steps (Adam's momentum moves on).

The model must be one recurrent layer with a readout per step or at the last valid step
(:class:`rnnlab.models.SequenceClassifier`, :class:`rnnlab.models.SequenceTagger`): it is
seen as a :class:`rnnlab.learn.Network` of that cell and readout.
"""

from __future__ import annotations

from collections.abc import Sized

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from rnnlab.engine import Problem
from rnnlab.errors import UserError

tree_map = jax.tree_util.tree_map
RTRL_BYTES = 2**30  # the bound on a batch's RTRL influence matrices (float32), stated in errors
KINDS = ("classify", "tag", "regress")  # the per-row losses: last valid step, every step, MSE


def check(task, config) -> None:
    """One line for an online learner that does not apply to the task or model (before any
    data is read)."""
    learner, m = config.learn.learner, config.model
    if learner == "bptt":
        return
    if task.online_kind() is None:
        raise UserError(
            f"--learner {learner} trains the tasks whose model is one recurrent layer with a "
            f"readout per step or at the end (recall, adding, xor, reber, classify, tag, ...), "
            f"not --task {task.name}; use --learner bptt"
        )
    if m.model != "rnn":
        raise UserError(f"--learner {learner} trains --model rnn, not --model {m.model}")
    if m.layers != 1:
        raise UserError(f"--learner {learner} trains one recurrent layer, not --layers {m.layers}")


def network_of(model, learner: str, task: str = ""):
    """The :class:`rnnlab.learn.Network` (cell, readout) that ``model`` is, or one line."""
    from rnnlab.learn import Network

    rnn, readout = getattr(model, "rnn", None), getattr(model, "readout", None)
    cells = getattr(rnn, "cells", None)
    if cells is None or readout is None or len(cells) != 1 or len(cells[0]) != 1:
        raise UserError(
            f"--learner {learner} trains one recurrent layer and a readout "
            f"(SequenceClassifier, SequenceTagger), not {task}'s {type(model).__name__}"
        )
    return Network(cells[0][0], readout)


def _sizes(cell) -> tuple[int, int]:
    """(n state numbers, p parameter numbers) of ``cell``."""
    n = sum(np.size(a) for a in jax.tree_util.tree_leaves(cell.init_state()))
    p = sum(a.size for a in jax.tree_util.tree_leaves(eqx.filter(cell, eqx.is_inexact_array)))
    return int(n), int(p)


def make(name: str, net, batch_size: int, seed: int):
    """The learner ``name`` for ``net``; RTRL's influence matrices of a whole batch must fit
    in :data:`RTRL_BYTES`. Inapplicable learners raise one line (:func:`make_learner`)."""
    from rnnlab.learn import make_learner

    if name == "rtrl":
        n, p = _sizes(net.cell)
        nbytes = 4 * n * p * batch_size
        if nbytes > RTRL_BYTES:
            raise UserError(
                f"--learner rtrl keeps an influence matrix of n x p = {n:,} x {p:,} numbers per "
                f"row, {nbytes / 2**20:,.0f} MiB for --batch-size {batch_size}, over the bound "
                f"of {RTRL_BYTES / 2**20:,.0f} MiB; lower --hidden or --batch-size, or use "
                "snap1, uoro or eprop"
            )
    try:
        return make_learner(name, net, key=jax.random.key(seed))
    except UserError as err:
        raise UserError(f"--learner {name}: {err} (--cell {type(net.cell).__name__})") from None


# --- the loss of one row over a chunk: (outs (k, K), target) -> (loss sum, count) ---------


def _at(outs, pos):
    hit = (pos >= 0) & (pos < outs.shape[0])
    return outs[jnp.clip(pos, 0, outs.shape[0] - 1)], hit


def classify_row(outs, target):
    """Cross-entropy of the label at the row's last valid step ``pos`` (when in the chunk)."""
    y, pos = target  # (), () position in the chunk
    logits, hit = _at(outs, pos)
    nll = optax.softmax_cross_entropy_with_integer_labels(logits, y)
    return jnp.where(hit, nll, 0.0), hit.astype(jnp.int32)


def tag_row(outs, target):
    """Cross-entropy summed over the chunk's valid steps."""
    y, valid = target  # (k,), (k,)
    nll = optax.softmax_cross_entropy_with_integer_labels(outs, y)
    return jnp.where(valid, nll, 0.0).sum(), valid.sum()


def regress_row(outs, target):
    """Squared error of the first output at the row's last valid step ``pos``."""
    y, pos = target
    out, hit = _at(outs, pos)
    return jnp.where(hit, (out[0] - y) ** 2, 0.0), hit.astype(jnp.int32)


ROWS = {"classify": classify_row, "tag": tag_row, "regress": regress_row}


class ChunkedBatches:
    """The task's batches ``(x (B, T, D), y, lengths)`` cut along time: ``get(step)`` ->
    ``(xs (B, k, D), target, first (B,), keys (B, 2))`` for chunk ``step mod n`` of batch
    ``step // n``; ``first`` marks chunk 0 (the learner state starts afresh), ``keys`` are
    the rows' raw PRNG keys for a fresh state (UORO's draws), a function of seed and batch."""

    def __init__(self, inner, kind: str, k: int, seed: int):
        self.inner, self.kind, self.k, self.seed = inner, kind, k, seed
        self.batch_size = inner.batch_size
        self.T = int(np.asarray(inner.get(0)[0]).shape[1])
        self.n = -(-self.T // k)  # chunks per batch
        per = getattr(inner, "per_epoch", None) or (
            len(inner) if isinstance(inner, Sized) else None
        )
        self.per_epoch = None if per is None else per * self.n
        self._cached = (None, None)
        if hasattr(inner, "epoch"):
            self.epoch = lambda step: inner.epoch(step // self.n)

    def _batch(self, b: int):
        if self._cached[0] != b:
            x, y, lengths = (np.asarray(a) for a in self.inner.get(b))
            if x.shape[1] != self.T:  # a task whose batches change length: chunks unaligned
                raise UserError(f"an online --learner needs batches of one length; batch {b} "
                                f"has {x.shape[1]} steps, batch 0 {self.T}")  # fmt: skip
            self._cached = (b, (x, y, lengths))
        return self._cached[1]

    def get(self, step: int):
        b, j = divmod(int(step), self.n)
        x, y, lengths = self._batch(b)
        lo, k, B = j * self.k, self.k, x.shape[0]
        xs = np.zeros((B, k, x.shape[2]), x.dtype)
        piece = x[:, lo : lo + k]
        xs[:, : piece.shape[1]] = piece
        if self.kind == "tag":
            ys = np.zeros((B, k), y.dtype)
            ys[:, : piece.shape[1]] = y[:, lo : lo + k]
            valid = np.arange(lo, lo + k)[None, :] < np.minimum(lengths, self.T)[:, None]
            target = (ys, valid)
        else:
            target = (y, (lengths - 1 - lo).astype(np.int32))
        first = np.full(B, j == 0)
        keys = np.random.default_rng([self.seed, 17, b]).integers(0, 2**32, (B, 2), np.uint32)
        return xs, target, first, keys


def online_problem(problem: Problem, config, kind: str) -> Problem:
    """``problem`` (whole sequences, ``(x, y, lengths)`` batches) trained by the online
    learner ``config.learn.learner``, an update every ``config.learn.update_every`` steps."""
    from rnnlab.learn import make_step

    name, k, seed = config.learn.learner, config.learn.update_every, config.train.seed
    net = network_of(problem.model, name, f"--task {config.task}")
    learner = make(name, net, problem.batch_size, seed)
    batches = ChunkedBatches(problem.batches, kind, k, seed)
    step = make_step(learner, ROWS[kind])

    def fresh(net, keys):  # the learner state of new rows: (B, ...) leaves
        return jax.vmap(lambda kd: learner.init(net, jax.random.wrap_key_data(kd)))(keys)

    def loss(model, batch, carry, keys):
        xs, target, first, row_keys = batch
        live = network_of(model, name)
        frozen = tree_map(lambda a: jax.lax.stop_gradient(a) if eqx.is_array(a) else a, live)
        new = fresh(frozen, row_keys)
        pick = lambda f, c: jnp.where(first.reshape(first.shape + (1,) * (c.ndim - 1)), f, c)
        carry = tree_map(pick, new, carry)
        grads, carry, (total, count) = step(carry, frozen, (xs, target))
        params = eqx.filter(live, eqx.is_inexact_array)
        still = eqx.filter(frozen, eqx.is_inexact_array)
        dots = tree_map(lambda g, p, q: jnp.vdot(g.astype(p.dtype), p - q), grads, params, still)
        return total + sum(jax.tree_util.tree_leaves(dots)), count, carry

    init_keys = np.zeros((problem.batch_size, 2), np.uint32)
    return Problem(
        model=problem.model, loss=loss, batches=batches, batch_size=problem.batch_size,
        init_carry=lambda B: fresh(net, init_keys[:B]), evaluate=problem.evaluate,
        metric=problem.metric, stochastic=False, items_per_step=problem.batch_size * k,
        unit="row_steps", loss_label=problem.loss_label,
    )  # fmt: skip
