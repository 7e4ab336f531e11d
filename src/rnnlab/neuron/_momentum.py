"""Gradient descent and momentum on a quadratic, after Goh, "Why Momentum Really Works"
(Distill 2017).

On f(w) = 1/2 w^T A w, with A symmetric positive definite with eigenvalues
lambda_min = lambda_1 <= ... <= lambda_n = lambda_max and minimum w* = 0:

    gradient descent:        w^{k+1} = w^k - alpha grad f(w^k)
    momentum (heavy ball):   z^{k+1} = beta z^k + grad f(w^k)
                             w^{k+1} = w^k - alpha z^{k+1}

The heavy ball is Polyak's (1964) method; Goh's form above is exactly
``optax.sgd(alpha, momentum=beta)``, which both runs below use. With condition number
kappa = lambda_max / lambda_min the best constant parameters and the resulting rates
(the factor by which ||w^k - w*|| shrinks per step, asymptotically) are

    gradient descent:  alpha = 2 / (lambda_min + lambda_max),
                       rate  = (kappa - 1) / (kappa + 1)
    momentum:          alpha = (2 / (sqrt(lambda_min) + sqrt(lambda_max)))^2,
                       beta  = ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^2,
                       rate  = (sqrt(kappa) - 1) / (sqrt(kappa) + 1)

so momentum needs about sqrt(kappa) steps where gradient descent needs kappa.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax

from rnnlab.errors import UserError

__all__ = [
    "GDParams",
    "MomentumParams",
    "convergence_rate",
    "gradient_descent",
    "heavy_ball",
    "optimal_gd",
    "optimal_momentum",
    "quadratic",
]


class GDParams(NamedTuple):
    alpha: float  # step size
    rate: float  # asymptotic contraction of ||w - w*|| per step


class MomentumParams(NamedTuple):
    alpha: float  # step size
    beta: float  # momentum
    rate: float  # asymptotic contraction of ||w - w*|| per step


def _check_spectrum(lambda_min, lambda_max) -> None:
    if not 0 < lambda_min <= lambda_max:
        raise UserError(
            f"need 0 < lambda_min <= lambda_max, got lambda_min={lambda_min!r}, "
            f"lambda_max={lambda_max!r}"
        )


def optimal_gd(lambda_min: float, lambda_max: float) -> GDParams:
    """Best step of plain gradient descent: alpha = 2/(l_min + l_max), rate (k-1)/(k+1)."""
    _check_spectrum(lambda_min, lambda_max)
    kappa = lambda_max / lambda_min
    return GDParams(alpha=2.0 / (lambda_min + lambda_max), rate=(kappa - 1) / (kappa + 1))


def optimal_momentum(lambda_min: float, lambda_max: float) -> MomentumParams:
    """Best heavy-ball parameters (Polyak 1964; Goh 2017, "optimal parameters").

    >>> p = optimal_momentum(1.0, 100.0)
    >>> round(p.alpha, 4), round(p.beta, 4), round(p.rate, 4)
    (0.0331, 0.6694, 0.8182)
    """
    _check_spectrum(lambda_min, lambda_max)
    sqrt_kappa = (lambda_max / lambda_min) ** 0.5
    rate = (sqrt_kappa - 1) / (sqrt_kappa + 1)
    alpha = (2.0 / (lambda_min**0.5 + lambda_max**0.5)) ** 2
    return MomentumParams(alpha=alpha, beta=rate**2, rate=rate)


def quadratic(eigenvalues, *, key: jax.Array | None = None) -> np.ndarray:
    """The matrix A (n, n) = Q diag(eigenvalues) Q^T of f(w) = 1/2 w^T A w.

    Q is the identity when ``key`` is None, else a random rotation drawn from ``key``
    (the rates do not depend on it; the iterates do).
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    if lam.ndim != 1 or lam.size == 0 or not np.all(lam > 0):
        raise UserError(f"eigenvalues must be a non-empty 1-D list of positive numbers: {lam}")
    if key is None:
        return np.diag(lam)
    Q, _ = np.linalg.qr(np.asarray(jr.normal(key, (lam.size, lam.size)), dtype=np.float64))
    return (Q * lam) @ Q.T


def heavy_ball(A, w0, *, alpha: float, beta: float, steps: int) -> np.ndarray:
    """Iterates of momentum on f(w) = 1/2 w^T A w: an array (steps + 1, n), row 0 = w0.

    Computed in JAX's default float (float32 unless x64 is on), returned as float64.

    z^{k+1} = beta z^k + A w^k,  w^{k+1} = w^k - alpha z^{k+1},  z^0 = 0 (Goh 2017).
    Distance to the optimum w* = 0 per step: ``np.linalg.norm(ws, axis=1)``.
    """
    A, w0 = jnp.asarray(A), jnp.asarray(w0, dtype=jnp.asarray(A).dtype)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise UserError(f"A must be a square matrix (n, n), got shape {A.shape}")
    if w0.shape != (A.shape[0],):
        raise UserError(f"w0 must have shape ({A.shape[0]},) to match A, got {w0.shape}")
    if not isinstance(steps, int) or steps < 1:
        raise UserError(f"steps must be a positive integer, got {steps!r}")
    if not (alpha > 0 and 0 <= beta < 1):
        raise UserError(f"need alpha > 0 and 0 <= beta < 1, got alpha={alpha}, beta={beta}")
    # Returned as float64: the iterates reach 1e-25 and beyond, and a norm taken in float32
    # would square them below the smallest float32 (1e-38) and report exact zeros.
    return np.asarray(_run(A, w0, alpha, beta, steps), dtype=np.float64)


def gradient_descent(A, w0, *, alpha: float, steps: int) -> np.ndarray:
    """Iterates of w^{k+1} = w^k - alpha A w^k: an array (steps + 1, n), row 0 = w0."""
    return heavy_ball(A, w0, alpha=alpha, beta=0.0, steps=steps)


def _run(A, w0, alpha, beta, steps):
    opt = optax.sgd(alpha, momentum=beta if beta > 0 else None)

    def step(carry, _):
        w, state = carry
        grad = A @ w  # grad f(w) = A w, (n,)
        updates, state = opt.update(grad, state, w)
        w = optax.apply_updates(w, updates)
        return (w, state), w

    _, ws = jax.lax.scan(step, (w0, opt.init(w0)), length=steps)  # (steps, n)
    return jnp.concatenate([w0[None], ws])


def convergence_rate(errors, start: int = 0) -> float:
    """Measured rate: geometric mean of errors[k+1] / errors[k] for k >= start.

    Equals (errors[-1] / errors[start]) ** (1 / (len(errors) - 1 - start)). Use a late
    ``start`` to skip the transient before the slowest mode dominates.
    """
    e = np.asarray(errors, dtype=np.float64)
    if e.ndim != 1 or not 0 <= start < e.size - 1 or not np.all(e[start:] > 0):
        raise UserError(f"need positive errors (K,) and 0 <= start < K - 1, got start={start}")
    return float(np.exp(np.mean(np.diff(np.log(e[start:])))))
