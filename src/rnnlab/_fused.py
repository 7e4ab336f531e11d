"""A faster time loop for the gated cells: the recurrent matmul's gradient outside the loop.

Differentiating ``lax.scan`` directly makes XLA keep every intermediate of every
step and accumulate ``dL/dU`` one small product per step. Here the backward pass
is written out once for every cell of the form ``pointwise(state, W x + b, U h + b)``:
each reverse step does the cell's elementwise backward (``jax.vjp`` of
``pointwise``) and one matmul ``dh = d(Uh) U``; the weight gradient
``dL/dU = sum_t d(Uh)_t^T h_{t-1}`` is then a single large matmul, as in cuDNN and
PyTorch's fused kernels. Same values as differentiating :func:`rnnlab.unroll`
(tested); used by :class:`rnnlab.RNN` when no masks or traces are asked for.
"""

from __future__ import annotations

import dataclasses
from functools import partial

import equinox as eqx
import jax
import jax.numpy as jnp

from rnnlab.unroll import is_cut

tree_map = jax.tree_util.tree_map
# Steps per loop iteration. 2 made the forward pass faster but the whole training
# step slower (LSTM 256: 79.5 against 77.3 ms on 2 cores), so: 1.
UNROLL = 1


def fused_scan(cell, xps, state0, truncate=None):
    """Run ``cell`` over a batch, time-major: ``xps`` (T, B, G) from ``cell.input_proj``.

    ``state0`` is batched (B, ...). Returns ``(ys (T, B, O), final_state)``.
    ``truncate=k`` stops the gradient at the state entering steps k, 2k, ...
    """
    if not getattr(cell, "fused", False):
        raise TypeError(f"{type(cell).__name__} has no fused time loop; use rnnlab.unroll")
    return _fused(truncate, cell, xps, state0)


def _forward(cell, xps, state0):
    # U^T laid out once, outside the loop: h @ U^T inside it was ~15 % slower (2 cores).
    U_T = jnp.copy(cell.weight_hh.T)  # (H, G)

    def body(state, xp):
        hp = cell.hidden(state) @ U_T  # (B, G)
        if cell.bias_hh is not None:
            hp = hp + cell.bias_hh
        new, y, _ = cell.pointwise(state, xp, hp)
        return new, (y, state, hp)

    final, (ys, states_prev, hps) = jax.lax.scan(body, state0, xps, unroll=UNROLL)
    return ys, final, states_prev, hps


@partial(jax.custom_vjp, nondiff_argnums=(0,))
def _fused(truncate, cell, xps, state0):
    ys, final, _, _ = _forward(cell, xps, state0)
    return ys, final


def _fused_fwd(truncate, cell, xps, state0):
    ys, final, states_prev, hps = _forward(cell, xps, state0)
    return (ys, final), (cell, xps, states_prev, hps)


LINEAR = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _fused_bwd(truncate, saved, cotangents):
    cell, xps, states_prev, hps = saved
    dys, dfinal = cotangents
    T = xps.shape[0]

    # When pointwise sees only a = xp + hp (every LSTM form, Elman), one cotangent
    # serves both inputs: half the per-step work and output (LSTM 256: 27 -> 19 ms).
    additive = cell.additive
    # Parameters of the elementwise part itself (peepholes): their per-step gradients
    # leave the loop as outputs and are summed after it, not carried through it.
    names = [
        f.name
        for f in dataclasses.fields(cell)
        if f.name not in LINEAR and isinstance(getattr(cell, f.name), jax.Array)
    ]
    extra = {n: getattr(cell, n) for n in names}

    def pointwise(extra, state, xp, hp):
        # by name: JAX rebuilds dicts with sorted keys
        c = eqx.tree_at(lambda c: [getattr(c, n) for n in names], cell, [extra[n] for n in names])
        new, y, _ = c.pointwise(state, xp, hp)
        return new, y

    def body(dstate, inp):
        t, xp, hp, state, dy = inp
        if additive:
            zero_hp = lambda e, s, a: pointwise(e, s, a, jnp.zeros_like(a))
            _, vjp = jax.vjp(zero_hp, extra, state, xp + hp)
            de, dstate_prev, dhp = vjp((dstate, dy))
            dxp = None
        else:
            _, vjp = jax.vjp(pointwise, extra, state, xp, hp)
            de, dstate_prev, dxp, dhp = vjp((dstate, dy))
        dh = dhp @ cell.weight_hh  # (B, H): through hp = h U^T + b
        _, hidden_vjp = jax.vjp(cell.hidden, state)
        dstate_prev = tree_map(jnp.add, dstate_prev, hidden_vjp(dh)[0])
        if truncate is not None:
            cut = is_cut(t, truncate)
            dstate_prev = tree_map(lambda d: jnp.where(cut, 0.0, d), dstate_prev)
        return dstate_prev, (dxp, dhp, de)

    dstate0, (dxps, dhps, dextra) = jax.lax.scan(
        body, dfinal, (jnp.arange(T), xps, hps, states_prev, dys), reverse=True, unroll=UNROLL
    )
    if additive:
        dxps = dhps
    h_prev = cell.hidden(states_prev)  # (T, B, H)
    # dL/dU = sum_t d(Uh)_t^T h_{t-1}: one large matmul, laid out as in cells._base.project
    G, H = dhps.shape[-1], h_prev.shape[-1]
    dU = jax.lax.optimization_barrier(h_prev.reshape(-1, H).T @ dhps.reshape(-1, G)).T
    grads = {"weight_hh": dU, **{n: d.sum(axis=0) for n, d in dextra.items()}}
    if cell.bias_hh is not None:
        grads["bias_hh"] = dhps.sum(axis=(0, 1))
    # weight_ih and bias_ih get their gradient through xps, outside this function
    dcell = tree_map(jnp.zeros_like, cell)
    dcell = eqx.tree_at(lambda c: [getattr(c, n) for n in grads], dcell, list(grads.values()))
    return dcell, dxps, dstate0


_fused.defvjp(_fused_fwd, _fused_bwd)
