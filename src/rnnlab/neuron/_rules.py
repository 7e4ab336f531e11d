"""Three local learning rules for a single neuron, one update per input x.

Perceptron rule (Rosenblatt 1958), threshold unit ``y = H(w . x + b)``, target t in {0, 1}:

    w <- w + eta * (t - y) * x
    b <- b + eta * (t - y)

Hebb's rule (Hebb 1949, "cells that fire together wire together"), linear unit y = w . x:

    w <- w + eta * y * x

Oja's rule (Oja 1982), Hebb with a decay that keeps ||w|| near 1, linear unit y = w . x:

    w <- w + eta * y * (x - y * w)

For zero-mean inputs Oja's w converges to the unit eigenvector of the covariance
E[x x^T] with the largest eigenvalue: the first principal component (centre X first).
Hebb's w turns towards the same direction but its norm grows without bound.

Each ``*_update`` is one step for one sample; each ``train_*`` sweeps the samples in a
fresh random order per epoch (drawn from ``key``) and returns the history of weights.
"""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from rnnlab.errors import UserError
from rnnlab.neuron._activations import threshold
from rnnlab.neuron._neuron import Neuron

__all__ = [
    "hebb_update",
    "oja_update",
    "perceptron_update",
    "train_hebb",
    "train_oja",
    "train_perceptron",
]


def perceptron_update(w, b, x, t, eta=1.0):
    """One perceptron step: ``y = H(w.x + b)``, ``w += eta (t - y) x``, ``b += eta (t - y)``.

    Shapes: w (D,), b (), x (D,), t () in {0, 1}. Returns the new ``(w, b)``.
    Nothing changes when the point is already classified correctly (t == y).
    """
    y = threshold(jnp.dot(w, x) + b)
    w = w + eta * (t - y) * x
    b = b + eta * (t - y)
    return w, b


def hebb_update(w, x, eta):
    """One Hebbian step for a linear neuron: ``y = w . x``, ``w += eta y x``. w, x: (D,)."""
    y = jnp.dot(w, x)
    return w + eta * y * x


def oja_update(w, x, eta):
    """One step of Oja's rule: ``y = w . x``, ``w += eta y (x - y w)``. w, x: (D,)."""
    y = jnp.dot(w, x)
    return w + eta * y * (x - y * w)


def _check_data(X, epochs, eta, epochs_name: str = "epochs") -> jax.Array:
    X = jnp.asarray(X, dtype=jnp.result_type(float))
    if X.ndim != 2 or X.shape[0] == 0:
        raise UserError(f"X must have shape (N, D) with N >= 1, got {X.shape}")
    if not isinstance(epochs, int) or epochs < 1:
        raise UserError(f"{epochs_name} must be a positive integer, got {epochs!r}")
    if not eta > 0:
        raise UserError(f"learning rate eta must be > 0, got {eta!r}")
    return X


def _initial_weight(w0, D: int, key) -> jax.Array:
    if w0 is None:
        return jr.normal(key, (D,)) / jnp.sqrt(D)  # (D,), norm about 1
    w0 = jnp.asarray(w0, dtype=jnp.result_type(float))
    if w0.shape != (D,):
        raise UserError(f"w0 must have shape ({D},) to match X, got {w0.shape}")
    return w0


def _sweep(update, X, w0, eta, epochs: int, key) -> jax.Array:
    """Run ``w = update(w, x, eta)`` over shuffled samples; returns (epochs + 1, D)."""

    def epoch(w, k):
        order = jr.permutation(k, X.shape[0])  # (N,)
        w, _ = jax.lax.scan(lambda w, x: (update(w, x, eta), None), w, X[order])
        return w, w

    _, ws = jax.lax.scan(epoch, w0, jr.split(key, epochs))  # (epochs, D)
    return jnp.concatenate([w0[None], ws])


_sweep_jit = jax.jit(_sweep, static_argnums=(0, 4))


def train_hebb(X, *, eta: float, epochs: int, key: jax.Array, w0=None):
    """Hebb's rule over the rows of X (N, D). Returns ``(w, history)``, history (epochs+1, D).

    ``w0`` defaults to a random vector drawn from ``key``. The norm grows like
    (1 + eta * lambda_1)^steps, so keep ``eta * epochs * N`` small.
    """
    X = _check_data(X, epochs, eta)
    k_init, k_order = jr.split(key)
    ws = _sweep_jit(hebb_update, X, _initial_weight(w0, X.shape[1], k_init), eta, epochs, k_order)
    return ws[-1], ws


def train_oja(X, *, eta: float, epochs: int, key: jax.Array, w0=None):
    """Oja's rule over the rows of X (N, D). Returns ``(w, history)``, history (epochs+1, D).

    With centred X and a small ``eta`` (eta * lambda_1 << 1), w tends to +/- the first
    principal component with ||w|| = 1.

    >>> import jax.random as jr, numpy as np
    >>> X = np.random.default_rng(0).normal(size=(500, 2)) * [3.0, 0.5]
    >>> w, _ = train_oja(X - X.mean(0), eta=0.005, epochs=20, key=jr.key(0))
    >>> bool(abs(w[0]) > 0.99)
    True
    """
    X = _check_data(X, epochs, eta)
    k_init, k_order = jr.split(key)
    ws = _sweep_jit(oja_update, X, _initial_weight(w0, X.shape[1], k_init), eta, epochs, k_order)
    return ws[-1], ws


@jax.jit
def _perceptron_epoch(w, b, X, t, eta, key):
    def step(carry, xt):
        w, b = carry
        x, t_n = xt
        mistake = threshold(jnp.dot(w, x) + b) != t_n
        return perceptron_update(w, b, x, t_n, eta), mistake

    order = jr.permutation(key, X.shape[0])  # (N,)
    (w, b), mistakes = jax.lax.scan(step, (w, b), (X[order], t[order]))
    return w, b, mistakes.sum()


def train_perceptron(X, t, *, eta: float = 1.0, max_epochs: int = 100, key: jax.Array):
    """Rosenblatt's perceptron on X (N, D) with targets t (N,) in {0, 1}.

    Sweeps the data until an epoch makes no mistake (guaranteed for linearly separable
    data by the perceptron convergence theorem, Novikoff 1962) or ``max_epochs`` pass.
    Starts from w = 0, b = 0. Returns ``(neuron, mistakes)``: a threshold
    :class:`Neuron` and the number of mistakes in each epoch (NumPy, int).
    """
    X = _check_data(X, max_epochs, eta, "max_epochs")
    t = jnp.asarray(t)
    if t.shape != (X.shape[0],):
        raise UserError(f"targets t must have shape ({X.shape[0]},) to match X, got {t.shape}")
    if not bool(jnp.all((t == 0) | (t == 1))):
        raise UserError("perceptron targets t must be 0 or 1")
    t = t.astype(X.dtype)
    w, b = jnp.zeros(X.shape[1], X.dtype), jnp.zeros((), X.dtype)
    mistakes = []
    for k in jr.split(key, max_epochs):
        w, b, m = _perceptron_epoch(w, b, X, t, eta, k)
        mistakes.append(int(m))
        if mistakes[-1] == 0:
            break
    return Neuron(w, b, activation="threshold"), np.array(mistakes)
