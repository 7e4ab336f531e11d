"""The one time loop: ``unroll`` runs a cell over a sequence or a batch of sequences.

Everything about time lives here, never in the cells: masks for padded batches,
running backwards, traces of every internal, truncated back-propagation through
time and rematerialisation. The fast path lives here too, for every cell:

- the input projection ``W x + b`` is computed outside the loop, one large matmul
  for all steps (per chunk of steps with ``remat``);
- for cells of the pointwise form (``step = pointwise(state, W x + b, U h + b)``,
  see :class:`rnnlab.Cell`) the derivative is written out by hand (``_fast``): the
  loop carries only the tangent of the state, and the weight parts ``dU h`` and
  ``dW x`` are single large matmuls outside it. It is a ``jax.custom_jvp``, so
  forward mode (``jax.jvp``, ``jax.jacfwd``) uses it directly and reverse mode
  (``jax.grad``) is its transpose: ``dL/dU = sum_t d(Uh)_t^T h_{t-1}`` as one
  matmul after the loop, as in cuDNN and PyTorch's fused kernels;
- any other cell gets plain autodiff of the scan over its ``step``.

The loop runs time-major, (T, B, ...), so that each step's recurrent matmul is
(B, H) x (H, G). Cells are written for one sample; the loop vmaps them.
"""

from __future__ import annotations

import math
from functools import partial

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.extend.core import Literal

from rnnlab.cells import Cell, project
from rnnlab.errors import UserError

tree_map = jax.tree_util.tree_map
tree_leaves = jax.tree_util.tree_leaves
AFFINE = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


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
    projected=False,
):
    """Run ``cell`` over ``xs``; return ``(ys, final_state)``.

    - ``xs`` is one sequence (T, input_size) or a batch (B, T, input_size); ``state``
      (default: the cell's zero state) and ``lengths`` are then batched too, (B, ...)
      and (B,). ``ys`` is (T, output_size) or (B, T, output_size); ``final_state``
      has the cell's state structure.
    - ``lengths``: the number of valid steps of each sequence. Outputs past the end
      are zero and the final state is the state after the last valid step; the
      padding never reaches the cell. With ``reverse`` the valid part is read
      backwards, from step ``lengths - 1`` down to 0, as PyTorch's packed
      bidirectional layers do.
    - ``trace=True`` returns ``(ys, final_state, internals)`` where ``internals`` maps
      every name the cell exposes (``h``, ``c``, gates ``i f g o``, ``r z n``, ``u``)
      to its value at every step, (T, H) (or (B, T, H)).
    - ``truncate=k``: truncated BPTT. The forward pass is unchanged, but the gradient
      flows only within consecutive chunks of ``k`` steps (counted in processing
      order): the state entering each chunk is a constant for ``jax.grad``. ``k=1`` is
      Elman's (1990) one-step training; ``k >= T`` is full BPTT.
    - ``remat=True`` keeps for the backward pass only the state at the start of each
      chunk of about sqrt(T) steps and recomputes the chunk (input projection
      included) when its gradient is needed: memory grows like sqrt(T), time stays
      linear in T (about one more forward pass). ``remat=k`` sets the chunk length.
    - ``projected=True``: ``xs`` already hold ``W x`` (..., G*H), without ``b_ih``, for a
      cell whose ``input_proj`` is :class:`rnnlab.Cell`'s; the input matmul is skipped
      and the gradient of ``W x`` flows to ``xs``. A token input gathers it from a table:
      ``(E W^T)[ids]`` for an embedding ``E``, ``W^T[ids]`` for one-hot (see
      :class:`rnnlab.charlm.CharLM`).

    ``jax.grad``, ``jax.jvp``, ``jax.jacfwd`` and ``jax.vmap`` all work through it.

    >>> import jax, jax.numpy as jnp, rnnlab
    >>> cell = rnnlab.GRUCell(2, 3, key=jax.random.key(0))
    >>> ys, h = rnnlab.unroll(cell, jnp.ones((10, 2)))
    >>> ys.shape, h.shape
    ((10, 3), (3,))
    >>> ys, h = rnnlab.unroll(cell, jnp.ones((4, 10, 2)), lengths=jnp.array([10, 7, 3, 0]))
    >>> ys.shape, h.shape
    ((4, 10, 3), (4, 3))
    """
    ys, final, internals = _run(
        cell,
        xs,
        state,
        lengths=lengths,
        reverse=reverse,
        trace=trace,
        truncate=truncate,
        remat=remat,
        projected=projected,
    )
    return (ys, final, internals) if trace else (ys, final)


def check_truncate(truncate) -> None:
    """``truncate`` must be None or a positive integer."""
    if truncate is not None and (int(truncate) != truncate or truncate < 1):
        raise UserError(f"truncate must be a positive integer, got {truncate!r}")


def is_cut(n, truncate):
    """Whether truncated BPTT stops the gradient at the state entering step ``n``
    (counted in processing order): at steps k, 2k, ... for ``truncate=k``."""
    return (n % truncate == 0) & (n > 0)


def chunk_length(remat, T: int) -> int | None:
    """Steps per rematerialised chunk: ``ceil(sqrt(T))`` for ``remat=True``, ``remat``
    itself for an integer, None for no remat."""
    if remat is False or remat is None:
        return None
    if remat is True:
        return max(1, math.ceil(math.sqrt(T)))
    if int(remat) != remat or remat < 1:
        raise UserError(f"remat must be True, False or a positive chunk length, got {remat!r}")
    return int(remat)


def _run(
    cell, xs, state, *, lengths, reverse, trace, truncate, remat, deltas=None, projected=False
):
    """:func:`unroll`, plus ``deltas`` (T, B, ...): perturbations added to the state
    after each step, whose gradient is dL/ds(t) (see :func:`grad_norms_through_time`).
    Returns ``(ys, final_state, internals or None)``."""
    D = cell.input_size
    if projected:
        if not _plain_proj(cell):
            raise UserError(
                f"projected inputs need a cell with W x + b_ih, not {type(cell).__name__}"
            )
        D = cell.weight_ih.shape[0]  # G*H
    if xs.ndim not in (2, 3) or xs.shape[-1] != D:
        raise UserError(
            f"unroll expects xs of shape (T, {D}) or (B, T, {D}), got {tuple(xs.shape)}"
        )
    check_truncate(truncate)
    batched = xs.ndim == 3
    if not batched:  # one sequence: a batch of one
        xs = xs[None]
        state = None if state is None else tree_map(lambda s: jnp.asarray(s)[None], state)
        lengths = None if lengths is None else jnp.reshape(lengths, (1,))
    B, T = xs.shape[:2]
    if state is None:
        state = tree_map(lambda s: jnp.broadcast_to(s, (B,) + s.shape), cell.init_state())
    elif any(jnp.shape(s)[:1] != (B,) for s in jax.tree_util.tree_leaves(state)):
        raise UserError(f"unroll over a batch of {B} needs a state batched along axis 0")
    chunk = chunk_length(remat, T)
    xs = jnp.swapaxes(xs, 0, 1)  # (T, B, D): time-major
    t = jnp.arange(T)[:, None]  # (T, 1)
    n_valid = T if lengths is None else jnp.broadcast_to(jnp.asarray(lengths), (B,))
    valid = None if lengths is None else t < n_valid  # (T, B)
    if valid is not None:
        # Padding never reaches the cell: garbage there (even NaN) cannot leak into
        # the gradients through the masked branch.
        xs = jnp.where(valid[..., None], xs, 0)
    cut = None
    if truncate is not None:
        n = (n_valid - 1 - t) if reverse else t  # position in processing order
        # Padding steps are not processed: never cut there, or the final state
        # (carried through the padding) would lose its gradient.
        cut = jnp.broadcast_to(is_cut(n, truncate) & (t < n_valid), (T, B))
    if chunk is not None and T % chunk:  # pad to whole chunks with masked steps
        pad = chunk - T % chunk
        grow = lambda a, v=0: jnp.concatenate([a, jnp.full((pad,) + a.shape[1:], v, a.dtype)])
        valid = grow(jnp.ones((T, B), bool) if valid is None else valid, False)
        xs, cut = grow(xs), None if cut is None else grow(cut, False)
        deltas = None if deltas is None else tree_map(grow, deltas)

    internals = None
    if trace or deltas is not None or not _fast_form(cell):
        ys, final, internals = _autodiff(
            cell, xs, state, valid, cut, deltas,
            reverse=reverse, trace=trace, chunk=chunk, projected=projected,
        )  # fmt: skip
    else:
        params, static = eqx.partition(cell, eqx.is_array)
        opts = (reverse, chunk, _Static(static), projected)
        ys, final = _fast(opts, params, xs, state, valid, cut)

    # (T', B, ...) -> (B, T, ...), the padding of the last chunk cut off
    out = lambda a: jnp.swapaxes(a[:T], 0, 1) if batched else a[:T, 0]
    ys, internals = out(ys), tree_map(out, internals)
    if not batched:
        final = tree_map(lambda s: s[0], final)
    return ys, final, internals


def _rows(mask, a):
    """A (B,) mask shaped to broadcast against ``a`` (B, ...)."""
    return mask.reshape(mask.shape + (1,) * (a.ndim - 1))


def _keep(ok, new, old):
    """``new`` on the rows where ``ok``, ``old`` elsewhere (pytrees of (B, ...))."""
    return tree_map(lambda a, b: jnp.where(_rows(ok, a), a, b), new, old)


def _chunked(run, carry, xs, chunk, reverse, remat):
    """``lax.scan``-like ``run(carry, xs)`` over all steps at once, or over chunks of
    ``chunk`` steps, each rematerialised in the backward pass when ``remat``."""
    if chunk is None:
        return run(carry, xs)
    split = lambda a: a.reshape((-1, chunk) + a.shape[1:])  # (T, ...) -> (T/k, k, ...)
    body = jax.checkpoint(run, prevent_cse=False) if remat else run
    carry, out = jax.lax.scan(body, carry, tree_map(split, xs), reverse=reverse)
    return carry, tree_map(lambda a: a.reshape((-1,) + a.shape[2:]), out)


# --- plain autodiff of the hoisted scan ------------------------------------------------


def _autodiff(cell, xs, state, valid, cut, deltas, *, reverse, trace, chunk, projected):
    """Any cell: scan ``cell.step`` over ``xp = cell.input_proj(xs)`` computed outside
    the loop (per chunk), and let JAX differentiate the scan."""
    step, output = jax.vmap(cell.step), jax.vmap(cell.output)

    def body(state, inp):
        xp, ok, cut, delta = inp
        if cut is not None:
            state = _keep(cut, tree_map(jax.lax.stop_gradient, state), state)
        new, y, internals = step(state, xp)
        if delta is not None:
            new = tree_map(jnp.add, new, delta)
            y = output(new)
        if ok is not None:
            new = _keep(ok, new, state)
            y, internals = tree_map(lambda a: jnp.where(_rows(ok, a), a, 0), (y, internals))
        return new, (y, internals if trace else None)

    def run(state, inp):
        xs, *rest = inp
        xp = _with_bias(cell, xs) if projected else cell.input_proj(xs)
        return jax.lax.scan(body, state, (xp, *rest), reverse=reverse)

    final, (ys, internals) = _chunked(
        run, state, (xs, valid, cut, deltas), chunk, reverse, remat=True
    )
    return ys, final, internals


# --- the fast path: a hand-written derivative for the pointwise form -------------------


class _Static:
    """The non-array part of a cell, as a static argument of ``_fast`` (compared by
    identity: a new cell object traces anew)."""

    def __init__(self, tree):
        self.tree = tree


def _fast_form(cell) -> bool:
    """Whether ``cell`` has the pointwise form and its ``pointwise`` leaves the affine
    parameters alone (they are applied outside it; if it read them itself, their
    gradient would be wrong, so such a cell takes the autodiff path)."""
    if not getattr(cell, "pointwise_form", False):
        return False
    params, static = eqx.partition(cell, eqx.is_array)
    is_affine, treedef = _affine_mask(params)
    lin, rest = _split(tree_leaves(params), is_affine)
    shape = lambda a: jax.ShapeDtypeStruct(jnp.shape(a), jnp.result_type(a))
    xp = jax.ShapeDtypeStruct(cell.weight_hh.shape[:1], cell.weight_hh.dtype)

    def pointwise(lin, rest, state, xp, hp):
        c = eqx.combine(_merge(lin, rest, is_affine, treedef), static)
        return c.pointwise(state, xp, hp)

    jaxpr = jax.make_jaxpr(pointwise)(
        *tree_map(shape, (lin, rest, cell.init_state())), xp, xp
    ).jaxpr
    lin_vars = set(jaxpr.invars[: len(lin)])
    used = [v for e in jaxpr.eqns for v in e.invars] + list(jaxpr.outvars)
    return not any(v in lin_vars for v in used if not isinstance(v, Literal))


def _affine_mask(params):
    """Which leaves of ``params`` (a cell's arrays) are its affine parameters."""
    flat, treedef = jax.tree_util.tree_flatten_with_path(params)
    mask = [len(p) == 1 and getattr(p[0], "name", None) in AFFINE for p, _ in flat]
    return mask, treedef


def _split(leaves, mask):
    """``(affine leaves, other leaves)`` by ``mask`` from :func:`_affine_mask`."""
    pairs = list(zip(leaves, mask, strict=True))
    return [a for a, m in pairs if m], [a for a, m in pairs if not m]


def _merge(lin, rest, mask, treedef):
    lin, rest = iter(lin), iter(rest)
    return jax.tree_util.tree_unflatten(treedef, [next(lin) if m else next(rest) for m in mask])


def _plain_proj(cell) -> bool:
    """Whether ``cell.input_proj`` is :class:`Cell`'s ``W x + b_ih`` (the loop may then
    add ``b_ih`` itself, per step, instead of materialising ``W x + b_ih``)."""
    return getattr(type(cell), "input_proj", None) is Cell.input_proj


def _with_bias(cell, xw):
    """``W x + b_ih`` from ``W x``."""
    return xw if cell.bias_ih is None else xw + cell.bias_ih


def _forward(cell, xs, state, valid, reverse, projected=False):
    """The loop of the pointwise form over ``xs`` (K, B, D). Returns the outputs
    (K, B, O), the final state, each step's incoming state and the pre-activations
    the derivative needs: for an additive cell ``a = xp + hp`` (K, B, G), else
    ``(xw, hp)``, where ``xw`` is ``W x`` without ``b_ih`` when the cell's
    ``input_proj`` is the plain one (:func:`_plain_proj`), else ``input_proj(x)``.

    Memory costs here: every (K, B, G) array is a fresh allocation on every call (the
    step's scratch memory is allocated anew each time, with mmap once it is large),
    and the page faults of first touching it cost about as much as its matmul. So
    ``W x`` gets ``b_ih`` in the loop (no second (K, B, G) array with the bias), and
    an additive cell writes ``a`` over ``W x`` in place, step by step, instead of
    stacking ``hp`` into a new array.
    """
    plain = _plain_proj(cell)
    if projected:  # xs is W x already
        xw = xs
    else:
        xw = project(xs, cell.weight_ih) if plain else cell.input_proj(xs)  # (K, B, G)
    b_ih = cell.bias_ih if plain else None
    # U^T laid out once, outside the loop: h @ U^T inside it was ~15 % slower (2 cores).
    U_T = jax.lax.optimization_barrier(cell.weight_hh.T)  # (H, G)
    pointwise, hidden = jax.vmap(cell.pointwise), jax.vmap(cell.hidden)

    def pre(state, xp):
        """``(xp + b_ih, U h + b_hh)`` for one step."""
        hp = hidden(state) @ U_T  # (B, G)
        if cell.bias_hh is not None:
            hp = hp + cell.bias_hh
        return (xp if b_ih is None else xp + b_ih), hp

    def finish(state, new, y, ok):
        if ok is None:
            return new, y
        return _keep(ok, new, state), jnp.where(ok[:, None], y, 0)

    if getattr(cell, "additive", False):

        def body(carry, inp):
            state, buf = carry
            t, ok = inp
            xp, hp = pre(state, jax.lax.dynamic_index_in_dim(buf, t, keepdims=False))
            # a = xp + hp over xp, in place. The step reads a back from the updated
            # buffer, so that every read of the old one precedes the write: reading
            # xp there made XLA copy the whole buffer, twice, on every step.
            buf = jax.lax.dynamic_update_index_in_dim(buf, xp + hp, t, 0)
            a = jax.lax.dynamic_index_in_dim(buf, t, keepdims=False)
            new, y, _ = pointwise(state, a, jnp.zeros_like(a))
            new, y = finish(state, new, y, ok)
            return (new, buf), (y, state)

        K = xw.shape[0]
        (final, a), (ys, states) = jax.lax.scan(
            body, (state, xw), (jnp.arange(K), valid), reverse=reverse
        )
        return ys, final, states, a

    def body(state, inp):
        xw, ok = inp
        xp, hp = pre(state, xw)
        new, y, _ = pointwise(state, xp, hp)
        new, y = finish(state, new, y, ok)
        return new, (y, state, hp)

    final, (ys, states, hps) = jax.lax.scan(body, state, (xw, valid), reverse=reverse)
    return ys, final, states, (xw, hps)


@partial(jax.custom_jvp, nondiff_argnums=(0,))
def _fast(opts, params, xs, state, valid, cut):
    """The pointwise-form loop over ``xs`` (T, B, D) -> ``(ys (T, B, O), final)``."""
    reverse, chunk, static, projected = opts
    cell = eqx.combine(params, static.tree)

    def run(state, inp):
        xs, valid = inp
        ys, final, *_ = _forward(cell, xs, state, valid, reverse, projected)
        return final, ys

    final, ys = _chunked(run, state, (xs, valid), chunk, reverse, remat=False)
    return ys, final


@_fast.defjvp
def _fast_jvp(opts, primals, tangents):
    """Forward pass and tangent pass, chunk by chunk (each chunk rematerialised under
    ``remat``). ``jax.grad`` transposes the tangent pass: that transpose is the
    backward pass of the pointwise form, with the weight gradients outside the loop."""
    reverse, chunk, static, projected = opts
    params, xs, state, valid, cut = primals
    dparams, dxs, dstate = tangents[:3]
    cell = eqx.combine(params, static.tree)
    is_affine, treedef = _affine_mask(params)
    lin, rest = _split(tree_leaves(params), is_affine)
    drest = _split(tree_leaves(dparams), is_affine)[1]
    hidden = jax.vmap(cell.hidden)
    # The tangent's U dh contracts U (G, H) on its second axis, so that its transpose,
    # the backward step's dh = da U, is a plain row-major (B, G) x (G, H) product: the
    # transposed form of dh @ U^T (U^T behind a barrier) was ~35 % slower per step
    # (LSTM 256). Forward mode pays that instead, in its tangent loop only.
    U = jax.lax.optimization_barrier(cell.weight_hh)  # (G, H)
    additive = getattr(cell, "additive", False)

    def pointwise(rest, state, xp, hp):
        c = eqx.combine(_merge(lin, rest, is_affine, treedef), static.tree)
        return jax.vmap(c.pointwise)(state, xp, hp)[:2]  # (new state, y)

    b_ih = cell.bias_ih if _plain_proj(cell) else None

    def tangent_step(dstate, inp):
        state, saved, dxp, dhp_w, ok, cut = inp
        if cut is not None:  # truncated BPTT: the state entering this step is a constant
            dstate = _keep(cut, tree_map(jnp.zeros_like, dstate), dstate)
        dh = jax.jvp(hidden, (state,), (dstate,))[1]
        dhp = jax.lax.dot_general(dh, U, (((1,), (1,)), ((), ())))  # (B, G): U dh
        if additive:  # pointwise sees a = xp + hp only: one tangent (one cotangent) for both
            zero = jnp.zeros_like(saved)
            f = lambda r, s, a: pointwise(r, s, a, zero)
            _, (dnew, dy) = jax.jvp(f, (rest, state, saved), (drest, dstate, dxp + dhp))
        else:
            xp, hp = saved
            if b_ih is not None:
                xp = xp + b_ih
            _, (dnew, dy) = jax.jvp(
                pointwise, (rest, state, xp, hp), (drest, dstate, dxp, dhp + dhp_w)
            )
        if ok is not None:
            dnew, dy = _keep(ok, dnew, dstate), jnp.where(ok[:, None], dy, 0)
        return dnew, dy

    def run(carry, inp):
        state, dstate = carry
        xs, dxs, valid, cut = inp
        ys, final, states, saved = _forward(cell, xs, state, valid, reverse, projected)
        # The weight parts of the tangents, each one matmul over the whole chunk:
        # d(W x + b_ih) and (dU) h + d(b_hh); jax.grad turns them into dW and dU.
        if projected:  # d(W x) is the tangent of xs itself
            input_proj = lambda p, xw: _with_bias(eqx.combine(p, static.tree), xw)
        else:
            input_proj = lambda p, x: eqx.combine(p, static.tree).input_proj(x)
        dxps = jax.jvp(input_proj, (params, xs), (dparams, dxs))[1]  # (K, B, G)
        dhps_w = project(jax.vmap(jax.vmap(cell.hidden))(states), dparams.weight_hh)
        if cell.bias_hh is not None:
            dhps_w = dhps_w + dparams.bias_hh
        if additive:  # one input per step instead of two
            dxps, dhps_w = dxps + dhps_w, None
        # The step is rematerialised: its transpose (the backward step) recomputes the
        # cell's elementwise work from the saved state and pre-activations, rather than
        # storing every intermediate for every step (LSTM 256: 101 -> 61 ms per step).
        dfinal, dys = jax.lax.scan(
            jax.checkpoint(tangent_step, prevent_cse=False),
            dstate,
            (states, saved, dxps, dhps_w, valid, cut),
            reverse=reverse,
        )
        return (final, dfinal), (ys, dys)

    (final, dfinal), (ys, dys) = _chunked(
        run, (state, dstate), (xs, dxs, valid, cut), chunk, reverse, remat=True
    )
    return (ys, final), (dys, dfinal)


# --- checking a cell ----------------------------------------------------------------


def check_cell(cell, *, key, batch: int = 3, steps: int = 6, rtol: float = 1e-4) -> float:
    """Check that :func:`unroll` differentiates ``cell`` as plain autodiff does.

    Gradients of a random loss through unroll's fast path (the one ``cell`` takes by
    default), with padded sequences, against JAX differentiating the same loop step
    by step. A wrong ``additive = True`` shows here. Returns the largest
    norm-relative difference; raises :class:`rnnlab.UserError` above ``rtol``.
    """
    kx, ks, kr = jax.random.split(key, 3)
    xs = jax.random.normal(kx, (batch, steps, cell.input_size))
    state = tree_map(
        lambda s: jax.random.normal(ks, (batch,) + s.shape, s.dtype), cell.init_state()
    )
    lengths = jnp.maximum(steps - jnp.arange(batch), 0)  # steps, steps - 1, ...

    def grads(autodiff):
        def loss(args):
            ys, final, _ = _run(
                *args, lengths=lengths, reverse=False, trace=autodiff, truncate=None, remat=False
            )
            R = jax.random.normal(kr, ys.shape, ys.dtype)
            return jnp.sum(ys * R) + sum(jnp.sum(s * s) for s in tree_leaves(final))

        return tree_leaves(eqx.filter_jit(eqx.filter_grad(loss))((cell, xs, state)))

    fast, ref = grads(False), grads(True)
    scale = max(float(jnp.max(jnp.abs(b))) for b in ref)
    err = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(fast, ref, strict=True))
    err = err / scale if scale > 0 else err
    if err > rtol:
        raise UserError(
            f"{type(cell).__name__}: unroll's gradients differ from autodiff by {err:.2g} "
            f"(relative, > {rtol}); is additive = True right for this cell?"
        )
    return err


# --- gradient norms through time -----------------------------------------------------


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
    return stack_grad_norms([cell], xs, loss_fn, [state], truncate)[0]


def stack_grad_norms(cells, xs, loss_fn, states, truncate):
    """``||dL/dh_l(t)||`` (L, T) for cells run one after the other over ``xs`` (T, D), each
    reading the outputs of the one before (a forward stack of layers); ``loss_fn`` maps
    the last one's outputs to a scalar (default: ``sum(ys[-1])``). Each layer's state
    after each step gets a perturbation ``delta`` (zero); ``dL/d delta_l(t)`` at zero is
    the total derivative ``dL/ds_l(t)``, through every later step and every layer above.
    The one walk behind :func:`grad_norms_through_time` and :func:`rnnlab.layer_grad_norms`."""
    if loss_fn is None:
        loss_fn = lambda ys: jnp.sum(ys[-1])
    states = [c.init_state() if s is None else s for c, s in zip(cells, states, strict=True)]
    T = xs.shape[0]
    zeros = [tree_map(lambda s: jnp.zeros((T, 1) + s.shape, s.dtype), s) for s in states]

    def loss(deltas):  # deltas[l]: (T, B=1, ...) like layer l's state
        ys = xs
        for cell, state, delta in zip(cells, states, deltas, strict=True):
            ys, _, _ = _run(
                cell, ys, state, lengths=None, reverse=False, trace=False,
                truncate=truncate, remat=False, deltas=delta,
            )  # fmt: skip
        return loss_fn(ys)

    norms = []
    for cell, g in zip(cells, jax.grad(loss)(zeros), strict=True):
        gh = cell.hidden(tree_map(lambda a: a[:, 0], g))  # (T, H)
        norms.append(jnp.linalg.norm(gh.reshape(T, -1), axis=-1))
    return jnp.stack(norms)  # (L, T)
