"""Shared pieces of the cells: initialisation, activations, the affine map.

Every cell follows one protocol (see :mod:`rnnlab.cells`):

- ``cell.init_state()`` -> the zero state (a pytree of arrays);
- ``cell.input_proj(x)`` -> the part of the pre-activations that depends on ``x``
  only, for any leading shape ``(..., input_size)``; ``unroll`` computes it for all
  steps at once, as one large matrix product, before the time loop;
- ``cell.step(state, xp)`` -> ``(state, y, internals)`` for one time step, given the
  projected input; ``internals`` is a dict of what a trace shows (gates, cell state);
  for the gated cells it is ``pointwise(state, xp, U h + b_hh)``: the recurrent
  matmul, then elementwise work only, which ``rnnlab._fused`` differentiates by hand;
- ``cell(state, x)`` -> ``(state, y)``: one step from the raw input;
- ``cell.hidden(state)`` -> the part of a state-shaped pytree that plays the role of
  ``h`` (used by :func:`rnnlab.grad_norms_through_time`).
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

ACTIVATIONS = {
    "tanh": jnp.tanh,
    "relu": jax.nn.relu,
    "sigmoid": jax.nn.sigmoid,
    "identity": lambda a: a,
}


def activation(name: str):
    """The activation function called ``name`` (tanh, relu, sigmoid, identity)."""
    from rnnlab.errors import UserError

    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise UserError(
            f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}"
        ) from None


def gate_activations(a: jax.Array, kinds: str) -> list[jax.Array]:
    """Split pre-activations ``a`` (..., G*H) into G gates and activate each block.

    ``kinds`` has one letter per block: ``s`` for the logistic sigmoid, ``t`` for tanh.
    All blocks go through one tanh, using sigma(x) = (1 + tanh(x / 2)) / 2: one
    elementwise pass over the contiguous (..., G*H) array was twice as fast on the
    CPU as separate sigmoid and tanh passes over its slices (bench/cells.py).
    """
    G = len(kinds)
    H = a.shape[-1] // G
    is_sigmoid = np.repeat(np.array([k == "s" for k in kinds]), H)  # static mask (G*H,)
    t = jnp.tanh(jnp.where(is_sigmoid, 0.5 * a, a))
    return jnp.split(jnp.where(is_sigmoid, 0.5 * t + 0.5, t), G, axis=-1)


@jax.custom_vjp
def project(x: jax.Array, W: jax.Array) -> jax.Array:
    """``x @ W.T`` for ``x`` (..., D) and ``W`` (G, D), as one 2-D matmul.

    Same values and gradients as ``x @ W.T``; only the weight gradient is laid out
    differently: computed as ``(x^T g)^T`` behind an optimisation barrier, because
    XLA's CPU kernel for ``g^T x`` with a (G, D) result was 2.5x slower (8 against
    3 ms for the LSTM-256 benchmark's input weights, 2 cores).
    """
    return (x.reshape(-1, x.shape[-1]) @ W.T).reshape(*x.shape[:-1], W.shape[0])


def _project_fwd(x, W):
    return project(x, W), (x, W)


def _project_bwd(saved, g):
    x, W = saved
    x2, g2 = x.reshape(-1, x.shape[-1]), g.reshape(-1, g.shape[-1])  # (N, D), (N, G)
    dW = jax.lax.optimization_barrier(x2.T @ g2).T  # (G, D)
    return (g2 @ W).reshape(x.shape), dW


project.defvjp(_project_fwd, _project_bwd)


def uniform(key, shape, hidden_size: int) -> jax.Array:
    """torch's RNN initialisation: U(-1/sqrt(H), 1/sqrt(H)) for every tensor."""
    bound = 1.0 / math.sqrt(hidden_size)
    return jax.random.uniform(key, shape, minval=-bound, maxval=bound)


def init_affine(key, gates: int, input_size: int, hidden_size: int, use_bias: bool):
    """``(weight_ih, weight_hh, bias_ih, bias_hh)`` for ``gates`` stacked blocks of H rows."""
    k1, k2, k3, k4 = jax.random.split(key, 4)
    G = gates * hidden_size
    weight_ih = uniform(k1, (G, input_size), hidden_size)  # (G*H, D)
    weight_hh = uniform(k2, (G, hidden_size), hidden_size)  # (G*H, H)
    bias_ih = uniform(k3, (G,), hidden_size) if use_bias else None
    bias_hh = uniform(k4, (G,), hidden_size) if use_bias else None
    return weight_ih, weight_hh, bias_ih, bias_hh


class GatedCell(eqx.Module):
    """Base of the cells whose pre-activations are ``W x + b_ih + U h + b_hh``.

    Subclasses declare ``weight_ih`` (G*H, D), ``weight_hh`` (G*H, H) and optional
    ``bias_ih``/``bias_hh`` (G*H,), with the gate blocks stacked in a fixed order.
    """

    weight_ih: jax.Array
    weight_hh: jax.Array
    bias_ih: jax.Array | None
    bias_hh: jax.Array | None
    input_size: int = eqx.field(static=True)
    hidden_size: int = eqx.field(static=True)

    @property
    def output_size(self) -> int:
        return self.hidden_size

    def input_proj(self, x: jax.Array) -> jax.Array:
        """``W x + b_ih`` for ``x`` of shape (..., D) -> (..., G*H)."""
        xp = project(x, self.weight_ih)
        return xp if self.bias_ih is None else xp + self.bias_ih

    def hidden_proj(self, h: jax.Array) -> jax.Array:
        """``U h + b_hh`` for ``h`` of shape (..., H) -> (..., G*H)."""
        hp = h @ self.weight_hh.T
        return hp if self.bias_hh is None else hp + self.bias_hh

    # Cells of this kind can use the fused backward pass of rnnlab._fused ...
    fused = True
    # ... and their pointwise depends on xp and hp only through xp + hp.
    additive = True

    def step(self, state, xp):
        """One step given ``xp = W x + b_ih``: the recurrent matmul, then ``pointwise``."""
        return self.pointwise(state, xp, self.hidden_proj(self.hidden(state)))

    def __call__(self, state, x: jax.Array):
        """One step from the raw input ``x`` (input_size,): ``(state, y)``."""
        state, y, _ = self.step(state, self.input_proj(x))
        return state, y
