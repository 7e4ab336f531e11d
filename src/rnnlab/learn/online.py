"""Online learning: parameters updated every ``update_every`` steps inside the sequence,
the learner's state carried from chunk to chunk and from batch to batch like the hidden
state, so that a stream of any length is learnt in constant memory.

Two levels:

- :func:`rnnlab.learn.make_step` is the engine-facing piece, a pure function
  ``step(learner_state, params, batch_chunk) -> (grads, new_learner_state, (loss_sum,
  count))`` for a batch chunk of ``update_every`` steps: the gradients and the loss are
  *sums* over the rows (each row keeps its own traces), so that data parallelism is a
  ``psum`` of both and a division by the global count, as for the engine's losses.
- :func:`rnnlab.learn.train_online` is a small loop of its own around it (optax update after each
  chunk), for scripts, tests and benchmarks that do not go through the engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.errors import UserError

tree_map = jax.tree_util.tree_map


def init_carry(learner, model, batch_size: int, key=None):
    """The learner state of ``batch_size`` new sequences, batched along axis 0; ``key``
    gives each row its own draws (UORO)."""
    keys = jax.random.split(jax.random.key(0) if key is None else key, batch_size)
    return jax.vmap(lambda k: learner.init(model, k))(keys)


def make_step(learner, loss_fn: Callable, static=None):
    """``step(learner_state, params, batch_chunk) -> (grads, learner_state, (loss_sum,
    count))``.

    - ``learner``: an object of :mod:`rnnlab.learn` (:class:`rnnlab.learn.RTRL`,
      :class:`rnnlab.learn.UORO`, :class:`rnnlab.learn.SnAp`, :class:`rnnlab.learn.EProp`,
      :class:`rnnlab.learn.RFLO`, :class:`rnnlab.learn.BPTT`).
    - ``loss_fn(outs, targets) -> (loss_sum, count)`` for one row: its outputs over the
      chunk (k, K) and its slice of the targets.
    - ``static``: the non-array part of the model when ``params`` is its array part
      (``eqx.partition(model, eqx.is_inexact_array)``), or None when ``params`` is the
      whole model.
    - ``learner_state``: from :func:`rnnlab.learn.init_carry` (rows along axis 0); ``batch_chunk``:
      ``(xs (B, k, D), targets)`` with the rows of ``targets`` along axis 0.

    ``grads`` has the model's structure and sums the rows' gradient estimates.
    """

    def step(carry, params, batch):
        model = params if static is None else eqx.combine(params, static)
        xs, targets = batch

        def row(x, target, c):
            f = lambda outs: tuple(map(jnp.asarray, loss_fn(outs, target)))
            grads, c, (loss, count) = learner(model, x, f, c, has_aux=True)
            return grads, c, loss, count

        grads, carry, loss, count = jax.vmap(row)(xs, targets, carry)
        return tree_map(lambda g: g.sum(0), grads), carry, (loss.sum(), count.sum())

    return step


@eqx.filter_jit
def _run_chunks(step, optimizer, params, static, opt_state, carry, xs, targets):
    """Scan over chunks: xs (n, B, k, D), targets (n, B, k, ...); an update after each
    chunk that holds a target (a chunk without one leaves params and optimizer state)."""

    def update(grads, params, opt_state):
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return eqx.apply_updates(params, updates), opt_state

    def body(state, chunk):
        params, opt_state, carry = state
        grads, carry, (loss, count) = step(carry, params, chunk)
        grads = tree_map(lambda g: g / jnp.maximum(count, 1), grads)
        keep = lambda grads, params, opt_state: (params, opt_state)
        params, opt_state = jax.lax.cond(count > 0, update, keep, grads, params, opt_state)
        return (params, opt_state, carry), (loss, count)

    (params, opt_state, carry), (loss, count) = jax.lax.scan(
        body, (params, opt_state, carry), (xs, targets)
    )
    return params, opt_state, carry, (loss.sum(), count.sum())


def _chunks(a: np.ndarray, k: int) -> list[np.ndarray]:
    """(B, T, ...) -> [(n, B, k, ...)] and, when k does not divide T, [(1, B, r, ...)]."""
    B, T = a.shape[:2]
    n = T // k
    whole = np.moveaxis(a[:, : n * k].reshape(B, n, k, *a.shape[2:]), 1, 0)
    out = [whole] if n else []
    if T % k:
        out.append(a[None, :, n * k :])
    return out


def train_online(
    model,
    learner,
    batches: Callable[[int], tuple],
    loss_fn: Callable,
    optimizer,
    *,
    update_every: int = 1,
    steps: int,
    seconds: float | None = None,
    stream: bool = False,
    untimed: int = 0,
    clock: Callable[[], float] = time.perf_counter,
    key=None,
    callback: Callable[[int, object, float], None] | None = None,
):
    """Train ``model`` online; return ``(model, history)``.

    ``batches(i)`` -> ``(xs (B, T, D), targets (B, T, ...))`` NumPy arrays for batch i.
    Each batch is cut along time into chunks of ``update_every`` steps (the last one
    shorter when it does not divide T); after each chunk the summed gradients are
    divided by the chunk's count and ``optimizer`` (optax) updates the parameters; a chunk
    that holds no target is not an update (parameters and optimizer state unchanged).
    ``stream=True`` carries the learner state from batch to batch (contiguous rows of
    a stream); otherwise every batch starts new sequences. Stops after ``steps``
    batches or ``seconds`` of ``clock`` (wall time; ``time.process_time``: CPU time, fair
    on a shared machine), counted after the first ``untimed`` batches (their
    compilation). ``history``: ``{"batch", "loss", "time"}`` per batch (``time`` by
    ``clock``); ``callback(i, model, loss)`` after each.
    """
    if not isinstance(update_every, int) or update_every < 1:
        raise UserError(f"update_every must be a positive integer, got {update_every!r}")
    params, static = eqx.partition(model, eqx.is_inexact_array)
    opt_state = optimizer.init(params)
    step = make_step(learner, loss_fn, static)
    init = eqx.filter_jit(init_carry)
    key = jax.random.key(0) if key is None else key
    carry, history, start = None, [], clock()
    for i in range(steps):
        xs, targets = batches(i)
        if carry is None or not stream:
            key, sub = jax.random.split(key)
            carry = init(learner, eqx.combine(params, static), xs.shape[0], sub)
        total, count = 0.0, 0.0
        for j, x in enumerate(_chunks(xs, update_every)):
            t = tree_map(lambda a, j=j: _chunks(np.asarray(a), update_every)[j], targets)
            params, opt_state, carry, (loss_sum, n) = _run_chunks(
                step, optimizer, params, static, opt_state, carry, x, t
            )
            total, count = total + float(loss_sum), count + float(n)
        loss = total / max(count, 1.0)
        history.append({"batch": i + 1, "loss": loss, "time": clock() - start})
        if callback is not None:
            callback(i, eqx.combine(params, static), loss)
        if i + 1 == untimed:
            start = clock()
        if seconds is not None and clock() - start > seconds:
            break
    return eqx.combine(params, static), history
