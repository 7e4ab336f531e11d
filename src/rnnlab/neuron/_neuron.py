"""The artificial neuron: a weighted sum of inputs plus a bias, through an activation.

    a = w . x + b          (the net input, a scalar)
    y = phi(a)             (the output)

With ``phi`` the threshold this is the unit of McCulloch & Pitts (1943) and the
perceptron of Rosenblatt (1958); with a sigmoid it is the unit that back-propagation
trains (Rumelhart, Hinton & Williams 1986).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr

from rnnlab.errors import UserError
from rnnlab.neuron._activations import get_activation

__all__ = ["Neuron"]


class Neuron(eqx.Module):
    """One neuron ``y = phi(w . x + b)``.

    Fields: ``weight`` w of shape (D,), ``bias`` b of shape (), ``activation`` the name
    of phi (see :data:`rnnlab.neuron.ACTIVATIONS`). Call it on one input x of shape
    (D,); use ``jax.vmap`` for a batch (N, D).

    >>> import jax.numpy as jnp
    >>> n = Neuron(jnp.array([1.0, 1.0]), -1.5, activation="threshold")  # an AND gate
    >>> [float(n(jnp.array(x))) for x in ([0.0, 0.0], [0.0, 1.0], [1.0, 1.0])]
    [0.0, 0.0, 1.0]
    """

    weight: jax.Array  # (D,)
    bias: jax.Array  # ()
    activation: str = eqx.field(static=True)

    def __init__(self, weight, bias=0.0, activation: str = "sigmoid"):
        weight = jnp.asarray(weight, dtype=jnp.result_type(float))
        bias = jnp.asarray(bias, dtype=weight.dtype)
        if weight.ndim != 1:
            raise UserError(f"neuron weight must have shape (D,), got {weight.shape}")
        if bias.ndim != 0:
            raise UserError(f"neuron bias must be a scalar, got shape {bias.shape}")
        get_activation(activation)  # fail early on an unknown name
        self.weight, self.bias, self.activation = weight, bias, activation

    @classmethod
    def init(cls, in_features: int, activation: str = "sigmoid", *, key: jax.Array) -> "Neuron":
        """A neuron with w ~ U(-1/sqrt(D), 1/sqrt(D)) and b = 0 (LeCun et al. 1998)."""
        if not isinstance(in_features, int) or in_features <= 0:
            raise UserError(f"in_features must be a positive integer, got {in_features!r}")
        bound = 1.0 / in_features**0.5
        w = jr.uniform(key, (in_features,), minval=-bound, maxval=bound)  # (D,)
        return cls(w, 0.0, activation)

    def net_input(self, x: jax.Array) -> jax.Array:
        """``a = w . x + b`` for one input x of shape (D,); returns a scalar."""
        x = jnp.asarray(x)
        if x.shape != self.weight.shape:
            raise UserError(f"neuron input must have shape {self.weight.shape}, got {x.shape}")
        return jnp.dot(self.weight, x) + self.bias

    def __call__(self, x: jax.Array) -> jax.Array:
        """``y = phi(w . x + b)`` for one input x of shape (D,); returns a scalar."""
        return get_activation(self.activation)(self.net_input(x))
