"""The one time loop: ``unroll`` runs a cell over a sequence with ``jax.lax.scan``.

Everything about time lives here, never in the cells: masks for padded batches,
running backwards, traces of every internal, truncated back-propagation through
time and rematerialisation. Batching is ``jax.vmap`` over :func:`unroll`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from rnnlab.errors import UserError

tree_map = jax.tree_util.tree_map


def unroll(
    cell,
    xs,
    state=None,
    *,
    lengths=None,
    reverse=False,
    trace=False,
    truncate=None,
    remat=False,
):
    """Run ``cell`` over ``xs`` (T, input_size); return ``(ys, final_state)``.

    - ``ys`` is (T, output_size); ``final_state`` has the cell's state structure.
    - ``lengths``: the number of valid steps (a scalar per sequence; vmap it for a
      batch). Outputs past the end are zero and the final state is the state after
      the last valid step. With ``reverse`` the valid part is read backwards, from
      step ``lengths - 1`` down to 0, as PyTorch's packed bidirectional layers do.
    - ``trace=True`` returns ``(ys, final_state, internals)`` where ``internals`` maps
      every name the cell exposes (``h``, ``c``, gates ``i f g o``, ``r z n``, ``u``)
      to its value at every step, (T, H).
    - ``truncate=k``: truncated BPTT. The forward pass is unchanged, but the gradient
      flows only within consecutive chunks of ``k`` steps (counted in processing
      order): the state entering each chunk is a constant for ``jax.grad``. ``k=1`` is
      Elman's (1990) one-step training; ``k >= T`` is full BPTT.
    - ``remat=True`` recomputes each step in the backward pass instead of storing its
      internals (``jax.checkpoint``), so long sequences fit in memory.

    >>> import jax, jax.numpy as jnp, rnnlab
    >>> cell = rnnlab.GRUCell(2, 3, key=jax.random.key(0))
    >>> ys, h = rnnlab.unroll(cell, jnp.ones((10, 2)))
    >>> ys.shape, h.shape
    ((10, 3), (3,))
    """
    return _scan(
        cell,
        xs,
        state,
        lengths=lengths,
        reverse=reverse,
        trace=trace,
        truncate=truncate,
        remat=remat,
    )


def check_truncate(truncate) -> None:
    """``truncate`` must be None or a positive integer."""
    if truncate is not None and (int(truncate) != truncate or truncate < 1):
        raise UserError(f"truncate must be a positive integer, got {truncate!r}")


def is_cut(n, truncate):
    """Whether truncated BPTT stops the gradient at the state entering step ``n``
    (counted in processing order): at steps k, 2k, ... for ``truncate=k``."""
    return (n % truncate == 0) & (n > 0)


def _scan(cell, xs, state, *, lengths, reverse, trace, truncate, remat, deltas=None):
    """:func:`unroll`, plus ``deltas``: perturbations added to the state after each
    step, whose gradient is dL/ds(t) (see :func:`rnnlab.grad_norms_through_time`)."""
    if xs.ndim != 2 or xs.shape[-1] != cell.input_size:
        raise UserError(f"unroll expects xs of shape (T, {cell.input_size}), got {tuple(xs.shape)}")
    check_truncate(truncate)
    T = xs.shape[0]
    if state is None:
        state = cell.init_state()
    if lengths is not None:
        # Padding never reaches the cell: garbage there (even NaN) cannot leak into
        # the gradients through the masked branch.
        xs = jnp.where((jnp.arange(T) < lengths)[:, None], xs, 0)
    xps = cell.input_proj(xs)  # (T, G*H): one matmul for all steps, outside the loop
    n_valid = T if lengths is None else lengths

    def body(state, inp):
        t, xp, delta = inp
        if truncate is not None:
            n = (n_valid - 1 - t) if reverse else t  # position in processing order
            # Padding steps are not processed: never cut there, or the final state
            # (carried through the padding) would lose its gradient.
            cut = is_cut(n, truncate) & (t < n_valid)
            state = tree_map(lambda s: jnp.where(cut, jax.lax.stop_gradient(s), s), state)
        new_state, y, internals = cell.step(state, xp)
        if delta is not None:
            new_state = tree_map(jnp.add, new_state, delta)
            y = cell.output(new_state)
        if lengths is not None:
            valid = t < lengths
            new_state = tree_map(lambda a, b: jnp.where(valid, a, b), new_state, state)
            y = jnp.where(valid, y, 0)
            internals = tree_map(lambda a: jnp.where(valid, a, 0), internals)
        return new_state, ((y, internals) if trace else y)

    if remat:
        body = jax.checkpoint(body)
    state, out = jax.lax.scan(body, state, (jnp.arange(T), xps, deltas), reverse=reverse)
    if trace:
        ys, internals = out
        return ys, state, internals
    return out, state


def grad_norms_through_time(cell, xs, loss_fn=None, *, state=None, truncate=None):
    """The norm of dL/dh(t) for every step t: the vanishing/exploding gradient picture.

    ``loss_fn(ys)`` maps the outputs (T, output_size) to a scalar; by default it is
    ``sum(ys[-1])``, a loss at the last step only, so that the norms show how far
    back its error reaches. ``h(t)`` is the state after step t (for an LSTM its
    ``h`` part, for an MTRNN the potentials ``u``); the gradient is the total one,
    through every later step. With ``truncate=k`` and the default loss (last step
    only), the norms further back than the last chunk are exactly zero; a loss on
    every step gives each chunk its own gradient. Returns an array (T,).

    >>> import jax, jax.numpy as jnp, rnnlab
    >>> cell = rnnlab.ElmanCell(1, 8, key=jax.random.key(0))
    >>> g = rnnlab.grad_norms_through_time(cell, jnp.ones((50, 1)))
    >>> bool(g[0] < g[-1])  # the gradient vanishes going back in time
    True
    """
    if loss_fn is None:
        loss_fn = lambda ys: jnp.sum(ys[-1])
    if state is None:
        state = cell.init_state()
    T = xs.shape[0]
    zeros = tree_map(lambda s: jnp.zeros((T,) + s.shape, s.dtype), state)

    def loss(deltas):
        ys, _ = _scan(
            cell,
            xs,
            state,
            lengths=None,
            reverse=False,
            trace=False,
            truncate=truncate,
            remat=False,
            deltas=deltas,
        )
        return loss_fn(ys)

    grads = cell.hidden(jax.grad(loss)(zeros))  # (T, H)
    return jnp.linalg.norm(grads.reshape(T, -1), axis=-1)
