"""Online learners (:mod:`rnnlab.learn`) trained by :func:`rnnlab.engine.fit`.

:func:`online_problem` turns a :class:`rnnlab.engine.Problem` of whole sequences (one
update per batch) into one whose engine step is one chunk of ``k`` time steps of a batch:

- step ``s`` trains on chunk ``j = s mod n`` of batch ``s // n`` (``n = ceil(T / k)``;
  the last chunk is padded with steps that ``cut`` gives no target), so the step count
  is the count of parameter updates;
- the engine's carry is every row's learner state (:class:`rnnlab.learn.Carry`: the cell's
  state and the learner's influence or eligibility traces), fresh at chunk 0 of a batch
  and carried to the next chunk: memory is constant in the sequence length; it is saved
  in ``last.eqx`` with the parameters, so a resumed run continues inside a batch;
- the loss is the learner's: :func:`rnnlab.learn.make_step` gives the rows' summed
  gradient estimate ``g`` and summed loss ``L``; the engine differentiates
  ``L + g . (theta - sg(theta))`` (``sg``: stop-gradient), whose value is ``L`` and whose
  gradient is ``g``. Its sharded step is unchanged: rows split over devices, each with its
  own traces, one ``psum`` of gradients, losses and counts, the optimizer after it.

A chunk without a target (a many-to-one task: every chunk but the one that holds the
answer) has a zero gradient and a zero loss. Its update is skipped (``Problem.skip_empty``):
the parameters and the optimizer's state (Adam's moments, its step count, a schedule's
position) stay as they were, so an optimizer with state sees only the scored chunks.
Accumulating the gradients until the next scored chunk would give the same updates, since
every learner assigns all of a target's credit in the chunk that holds it (its traces
carry the past). The logged training loss is per target: the summed losses of a logging
window over its count of targets, not a mean over chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Sized

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.engine.loop import Problem
from rnnlab.errors import UserError

tree_map = jax.tree_util.tree_map
RTRL_BYTES = 2**30  # the bound on a batch's RTRL influence matrices (float32), stated in errors


class ChunkedBatches:
    """``inner``'s batches (a tuple of NumPy arrays, ``x`` (B, T, D) first) cut along time:
    ``get(step)`` -> ``(xs (B, k, D), target, first (B,), keys (B, 2))`` for chunk
    ``step mod n`` of batch ``step // n``. ``cut(batch, lo, k) -> target`` gives the rows'
    targets of steps ``lo .. lo + k - 1`` (what the row loss reads); ``first`` marks chunk
    0 (the learner state starts afresh); ``keys`` are the rows' raw PRNG keys for a fresh
    state (UORO's draws), a function of ``seed`` and the batch."""

    def __init__(self, inner, cut: Callable, k: int, seed: int):
        self.inner, self.cut, self.k, self.seed = inner, cut, k, seed
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
            batch = tuple(np.asarray(a) for a in self.inner.get(b))
            if batch[0].shape[1] != self.T:  # chunks would not line up from batch to batch
                raise UserError(f"an online learner needs batches of one length; batch {b} "
                                f"has {batch[0].shape[1]} steps, batch 0 {self.T}")  # fmt: skip
            self._cached = (b, batch)
        return self._cached[1]

    def get(self, step: int):
        b, j = divmod(int(step), self.n)
        batch = self._batch(b)
        x, lo, k = batch[0], j * self.k, self.k
        xs = pad_steps(x, lo, k)  # (B, k, D), zero past T
        first = np.full(x.shape[0], j == 0)
        rng = np.random.default_rng([self.seed, 17, b])
        keys = rng.integers(0, 2**32, (x.shape[0], 2), np.uint32)
        return xs, self.cut(batch, lo, k), first, keys


def pad_steps(a: np.ndarray, lo: int, k: int, fill=0) -> np.ndarray:
    """Steps ``lo .. lo + k - 1`` of ``a`` (B, T, ...), ``fill`` past T: (B, k, ...)."""
    out = np.full((a.shape[0], k, *a.shape[2:]), fill, a.dtype)
    piece = a[:, lo : lo + k]
    out[:, : piece.shape[1]] = piece
    return out


def online_problem(
    problem: Problem, learner, network_of: Callable, row_loss: Callable, cut: Callable,
    update_every: int, seed: int = 0,
) -> Problem:  # fmt: skip
    """``problem`` trained by ``learner`` (of :mod:`rnnlab.learn`), an update every
    ``update_every`` time steps.

    - ``network_of(model)``: the :class:`rnnlab.learn.Network` (cell, readout) that the
      problem's model is, made of the model's own arrays (the gradient reaches them);
    - ``row_loss(outs (k, K), target) -> (loss sum, count)``: one row's loss over a chunk;
    - ``cut``: the targets of a chunk (see :class:`ChunkedBatches`).
    """
    from rnnlab.learn import make_step

    net = network_of(problem.model)
    batches = ChunkedBatches(problem.batches, cut, update_every, seed)
    step = make_step(learner, row_loss)

    def fresh(net, keys):  # the learner state of new rows: (B, ...) leaves
        return jax.vmap(lambda kd: learner.init(net, jax.random.wrap_key_data(kd)))(keys)

    def loss(model, batch, carry, keys):
        xs, target, first, row_keys = batch
        live = network_of(model)
        frozen = tree_map(lambda a: jax.lax.stop_gradient(a) if eqx.is_array(a) else a, live)
        pick = lambda f, c: jnp.where(first.reshape(first.shape + (1,) * (c.ndim - 1)), f, c)
        carry = tree_map(pick, fresh(frozen, row_keys), carry)
        grads, carry, (total, count) = step(carry, frozen, (xs, target))
        params = eqx.filter(live, eqx.is_inexact_array)
        still = eqx.filter(frozen, eqx.is_inexact_array)
        dots = tree_map(lambda g, p, q: jnp.vdot(g.astype(p.dtype), p - q), grads, params, still)
        return total + sum(jax.tree_util.tree_leaves(dots)), count, carry

    init_keys = np.zeros((problem.batch_size, 2), np.uint32)
    return Problem(
        model=problem.model, loss=loss, batches=batches, batch_size=problem.batch_size,
        init_carry=lambda B: fresh(net, init_keys[:B]), evaluate=problem.evaluate,
        metric=problem.metric, stochastic=False,
        items_per_step=problem.batch_size * update_every, unit="row_steps",
        loss_label=problem.loss_label, skip_empty=True,
    )  # fmt: skip


def _sizes(cell) -> tuple[int, int]:
    """(n state numbers, p parameter numbers) of ``cell``."""
    n = sum(np.size(a) for a in jax.tree_util.tree_leaves(cell.init_state()))
    p = sum(a.size for a in jax.tree_util.tree_leaves(eqx.filter(cell, eqx.is_inexact_array)))
    return int(n), int(p)


def make_learner_for(name: str, net, batch_size: int, seed: int = 0):
    """The learner ``name`` (:data:`rnnlab.learn.LEARNERS`) for the
    :class:`rnnlab.learn.Network` ``net``, random feedback drawn from ``seed``; RTRL's
    influence matrices of a whole batch must fit in :data:`RTRL_BYTES`. A learner that does
    not apply to the cell is one line (:func:`rnnlab.learn.make_learner`)."""
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
