"""The cell protocol and its base class, :class:`Cell`; activations and initialisers.

A cell does one time step for one sample; :func:`rnnlab.unroll` owns time and the
batch. Every cell provides:

- ``cell.init_state()`` -> the zero state (a pytree of arrays);
- ``cell.input_proj(x)`` -> the part of the pre-activations that depends on ``x``
  only, for any leading shape ``(..., input_size)``; ``unroll`` computes it for many
  steps at once, as one large matrix product, outside the time loop;
- ``cell.step(state, xp)`` -> ``(state, y, internals)``: one step given the projected
  input; ``internals`` is a dict of what a trace shows (gates, cell state);
- ``cell.hidden(state)`` -> the part of the state that plays the role of ``h``;
- ``cell.output(state)`` -> the output ``y`` that a state gives;
- ``cell(state, x)`` -> ``(state, y)``: one step from the raw input.

:class:`Cell` implements all of these for the common form
``step(state, xp) = pointwise(state, xp, U h + b_hh)``: a subclass sets ``gates``
(the number of stacked blocks in ``W`` and ``U``) and writes ``pointwise``, the
elementwise part of a step, which must not read the four affine parameters itself.
For such a cell ``unroll`` uses its fast path (the recurrent weight gradient as one
large matmul after the loop); see docs/guide/custom-cell.md.
"""

from __future__ import annotations

import math
from typing import ClassVar

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


def sigmoid(a: jax.Array) -> jax.Array:
    """The logistic function, as ``(1 + tanh(a / 2)) / 2`` (see :func:`gates`)."""
    return 0.5 * jnp.tanh(0.5 * a) + 0.5


tanh = jnp.tanh


def gates(a: jax.Array, **activations) -> list[jax.Array]:
    """Split pre-activations ``a`` (..., G*H) into the named gates and activate each:
    ``i, f, g, o = gates(a, i=sigmoid, f=sigmoid, g=tanh, o=sigmoid)`` is
    ``i = sigmoid(a_i)``, ... for the blocks ``a_i, a_f, a_g, a_o`` of ``a``, in order.

    With only :func:`sigmoid` and ``jnp.tanh`` (``tanh``), all blocks go through one
    tanh pass over the contiguous array (sigma(x) = (1 + tanh(x / 2)) / 2): XLA then
    computes them once, where per-block activations made it recompute or re-read
    them (LSTM 256 training step 77 -> 68 ms, forward 21 -> 15 ms).
    """
    fns = list(activations.values())
    blocks = jnp.split(a, len(fns), axis=-1)
    if not all(fn in (sigmoid, tanh) for fn in fns):
        return [fn(b) for fn, b in zip(fns, blocks, strict=True)]
    H = blocks[0].shape[-1]
    is_sigmoid = np.repeat(np.array([fn is sigmoid for fn in fns]), H)  # static (G*H,)
    t = jnp.tanh(jnp.where(is_sigmoid, 0.5 * a, a))
    return jnp.split(jnp.where(is_sigmoid, 0.5 * t + 0.5, t), len(fns), axis=-1)


def project(x: jax.Array, W: jax.Array) -> jax.Array:
    """``x @ W.T`` for ``x`` (..., D) and ``W`` (G, D), as one 2-D matmul.

    ``W.T`` is laid out once behind an optimisation barrier, so that the weight
    gradient is computed as ``(x^T g)^T``: XLA's CPU kernel for ``g^T x`` with a (G, D)
    result was 2.5x slower (8 against 3 ms for the LSTM-256 benchmark's input
    weights, 2 cores). Plain JAX operations: forward mode works through it.
    """
    W_T = jax.lax.optimization_barrier(W.T)  # (D, G)
    return (x.reshape(-1, x.shape[-1]) @ W_T).reshape(*x.shape[:-1], W.shape[0])


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


class Step(eqx.Module):
    """The defaults every cell shares: a zero state of size H that is its own ``h`` and
    its own output, and one step from the raw input."""

    def init_state(self):
        return jnp.zeros(self.hidden_size)

    def hidden(self, state):
        return state

    def output(self, state):
        return self.hidden(state)

    def __call__(self, state, x: jax.Array):
        """One step from the raw input ``x`` (input_size,): ``(state, y)``."""
        state, y, _ = self.step(state, self.input_proj(x))
        return state, y


class Cell(Step):
    """Base of the cells whose pre-activations are ``W x + b_ih + U h + b_hh``.

    A subclass sets ``gates`` and writes ``pointwise(state, xp, hp)`` ->
    ``(state, y, internals)`` for one sample, given ``xp = W x + b_ih`` and
    ``hp = U h + b_hh`` (each (gates*H,)). Parameters: ``weight_ih`` (G*H, D),
    ``weight_hh`` (G*H, H) and optional ``bias_ih``/``bias_hh`` (G*H,), the gate
    blocks stacked in a fixed order, drawn as torch draws them. The state is ``h``
    (H,) unless ``init_state``/``hidden``/``output`` are overridden.

    ``additive = True`` declares that ``pointwise`` depends on ``xp`` and ``hp`` only
    through ``xp + hp``, so that ``unroll``'s backward needs one cotangent for both;
    it is opt-in, and :func:`rnnlab.check_cell` verifies it.
    """

    weight_ih: jax.Array
    weight_hh: jax.Array
    bias_ih: jax.Array | None
    bias_hh: jax.Array | None
    input_size: int = eqx.field(static=True)
    hidden_size: int = eqx.field(static=True)

    gates: ClassVar[int] = 1
    additive: ClassVar[bool] = False

    def __init__(self, input_size: int, hidden_size: int, *, use_bias: bool = True, key):
        self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh = init_affine(
            key, self.gates, input_size, hidden_size, use_bias
        )
        self.input_size, self.hidden_size = input_size, hidden_size

    @property
    def output_size(self) -> int:
        return self.hidden_size

    @property
    def pointwise_form(self) -> bool:
        """Whether ``step`` is ``pointwise(state, xp, U h + b_hh)`` (``unroll``'s fast path)."""
        return type(self).step is Cell.step

    def input_proj(self, x: jax.Array) -> jax.Array:
        """``W x + b_ih`` for ``x`` of shape (..., D) -> (..., G*H)."""
        xp = project(x, self.weight_ih)
        return xp if self.bias_ih is None else xp + self.bias_ih

    def hidden_proj(self, h: jax.Array) -> jax.Array:
        """``U h + b_hh`` for ``h`` of shape (..., H) -> (..., G*H)."""
        hp = h @ self.weight_hh.T
        return hp if self.bias_hh is None else hp + self.bias_hh

    def pointwise(self, state, xp, hp):
        raise NotImplementedError(f"{type(self).__name__} must define pointwise or step")

    def step(self, state, xp):
        """One step given ``xp = W x + b_ih``: the recurrent matmul, then ``pointwise``."""
        return self.pointwise(state, xp, self.hidden_proj(self.hidden(state)))
