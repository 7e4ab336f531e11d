"""Activation functions phi(a) of the artificial neuron, and a lookup by name.

The threshold (Heaviside step) of McCulloch & Pitts (1943) and Rosenblatt (1958) has a
derivative that is zero almost everywhere, so gradient descent cannot train through it.
:func:`threshold` keeps the exact step in the forward pass and uses a *surrogate
gradient* in the backward pass: the derivative of a sigmoid of steepness ``slope``,

    forward:   H(a)  = 1 if a >= 0 else 0
    backward:  dH/da ~ slope * sigma(slope * a) * (1 - sigma(slope * a))

(Neftci, Mostafa & Zenke 2019, "Surrogate gradient learning in spiking neural
networks"; the straight-through estimator of Bengio, Leonard & Courville 2013 is the
limit of a constant surrogate). As ``slope`` grows the surrogate approaches the Dirac
delta that is the true derivative of H.
"""

from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp

from rnnlab.errors import UserError

__all__ = ["ACTIVATIONS", "get_activation", "relu", "sigmoid", "tanh", "threshold"]


def _as_float(a: jax.Array) -> jax.Array:
    a = jnp.asarray(a)
    return a if jnp.issubdtype(a.dtype, jnp.floating) else a.astype(jnp.result_type(float))


@partial(jax.custom_jvp, nondiff_argnums=(1,))
def _heaviside(a: jax.Array, slope: float) -> jax.Array:
    return jnp.where(a >= 0, 1.0, 0.0).astype(a.dtype)


@_heaviside.defjvp
def _heaviside_jvp(slope, primals, tangents):
    (a,), (da,) = primals, tangents
    s = jax.nn.sigmoid(slope * a)
    # Surrogate: d/da sigma(slope * a), in place of the Dirac delta.
    return _heaviside(a, slope), slope * s * (1.0 - s) * da


def threshold(a: jax.Array, slope: float = 1.0) -> jax.Array:
    """Heaviside step ``H(a) = 1 if a >= 0 else 0`` with a sigmoid surrogate gradient.

    The gradient is ``slope * sigma(slope*a) * (1 - sigma(slope*a))`` (see module doc).

    >>> import jax
    >>> float(threshold(0.3)), float(jax.grad(threshold)(0.0))
    (1.0, 0.25)
    """
    return _heaviside(_as_float(a), float(slope))


def sigmoid(a: jax.Array) -> jax.Array:
    """Logistic sigmoid ``sigma(a) = 1 / (1 + exp(-a))``; ``sigma' = sigma (1 - sigma)``."""
    return jax.nn.sigmoid(_as_float(a))


def tanh(a: jax.Array) -> jax.Array:
    """Hyperbolic tangent ``tanh(a) = 2 sigma(2a) - 1``; ``tanh' = 1 - tanh^2``."""
    return jnp.tanh(_as_float(a))


def relu(a: jax.Array) -> jax.Array:
    """Rectified linear unit ``relu(a) = max(0, a)``; derivative 1 for a > 0, else 0."""
    return jax.nn.relu(_as_float(a))


ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "threshold": threshold,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "relu": relu,
}


def get_activation(name: str) -> Callable[[jax.Array], jax.Array]:
    """The activation called ``name`` (one of ``ACTIVATIONS``).

    >>> get_activation("tanh") is tanh
    True
    """
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(ACTIVATIONS))
        raise UserError(f"unknown activation {name!r}; expected one of: {known}") from None
