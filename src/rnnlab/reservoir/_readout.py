"""Ridge readouts in closed form, from sums accumulated batch by batch.

The normal equations need only ``X^T X``, ``X^T Y``, the column sums and the count,
and these add up over batches, devices and processes: a data set larger than memory
is one pass of :func:`ridge_stats` per batch, ``+`` (or a ``psum``) between them, and
one :func:`solve_ridge` at the end.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg

from rnnlab.errors import UserError

BIAS_MODES = ("centred", "regularised", "none")


class RidgeStats(eqx.Module):
    """Sufficient statistics of a least-squares fit of targets (O) on features (F):
    ``XtX`` (F, F), ``XtY`` (F, O), ``x_sum`` (F,), ``y_sum`` (O,) and ``count`` (), each
    a sum over the rows used. Two of them add: ``a + b`` is the statistics of both
    data sets (and ``jax.lax.psum(stats, axis)`` their sum over devices)."""

    XtX: jax.Array
    XtY: jax.Array
    x_sum: jax.Array
    y_sum: jax.Array
    count: jax.Array

    def __add__(self, other: RidgeStats) -> RidgeStats:
        # ``+``, not ``jnp.add``: the float64 NumPy sums of :func:`host_stats` stay NumPy
        # float64 (``jnp.add`` cast them to float32, ruining a ridge of 1e-6 over batches).
        return jax.tree_util.tree_map(lambda a, b: a + b, self, other)


def ridge_stats(features: jax.Array, targets: jax.Array, mask=None) -> RidgeStats:
    """:class:`RidgeStats` of the rows of ``features`` (..., F) and ``targets`` (..., O),
    keeping only those where ``mask`` (...) is true (warm-up steps, padding)."""
    X = features.reshape(-1, features.shape[-1])  # (N, F)
    Y = targets.reshape(-1, targets.shape[-1])  # (N, O)
    m = jnp.ones(X.shape[0], X.dtype) if mask is None else mask.reshape(-1).astype(X.dtype)
    Xm = X * m[:, None]
    return RidgeStats(Xm.T @ X, Xm.T @ Y, Xm.sum(0), (Y * m[:, None]).sum(0), m.sum())


def host_stats(features, targets, mask=None, *, dtype=np.float64) -> RidgeStats:
    """:func:`ridge_stats` on the host (NumPy's BLAS), returned in float64 whatever the
    dtype of the states. ``dtype=np.float64`` (default) takes every product in float64:
    a ridge of 1e-8 leaves ``X^T X`` too ill-conditioned for float32. ``np.float32``
    takes ``X^T X`` and ``X^T Y`` in float32 (no copy of float32 states on a CPU device;
    ``X^T X`` is BLAS's symmetric rank-k update, half a matmul's work) and only adds
    them in float64: the fast path, for ridges well above float32's rounding of the
    sums (about 1e-7 of ``X^T X``'s largest entries)."""
    X = np.asarray(features, dtype).reshape(-1, features.shape[-1])  # (N, F)
    Y = np.asarray(targets, dtype).reshape(-1, targets.shape[-1])  # (N, O)
    if mask is not None:
        keep = np.asarray(mask).reshape(-1).astype(bool)
        if not keep.all():
            X, Y = X[keep], Y[keep]
    f64 = np.float64
    XtX = (X.T @ X).astype(f64)  # NumPy calls syrk for X.T @ X (the same buffer)
    return RidgeStats(XtX, (X.T @ Y).astype(f64), X.sum(0, f64), Y.sum(0, f64), f64(X.shape[0]))


class Readout(eqx.Module):
    """A linear readout ``y = x W_out + b``: ``W_out`` (F, O), ``b`` (O,), ReservoirPy's
    layout (``Ridge.Wout``, ``Ridge.bias``)."""

    W_out: jax.Array
    bias: jax.Array

    def __call__(self, features: jax.Array) -> jax.Array:
        return features @ self.W_out + self.bias  # (..., O)


def solve_ridge(stats: RidgeStats, ridge, *, bias: str = "centred") -> Readout:
    r"""The ridge readout from accumulated statistics (traceable: works under ``vmap``).

    - ``bias="centred"`` (ReservoirPy 0.4's ``Ridge``, ``nodes/ridge.py``): the data are
      centred and the bias is not regularised,
      ``(X_c^T X_c + \lambda I) W = X_c^T Y_c``, ``b = \bar y - \bar x W``, where
      ``X_c^T X_c = X^T X - N \bar x \bar x^T``.
    - ``bias="regularised"``: a constant 1 feature, penalised like the weights
      (``W_out = Y X^T (X X^T + \lambda I)^{-1}`` with a ones row; Lukosevicius's
      minimal ESN, ReservoirPy <= 0.3).
    - ``bias="none"``: no bias, ``(X^T X + \lambda I) W = X^T Y``.
    """
    if bias not in BIAS_MODES:
        raise UserError(f"bias must be one of {', '.join(BIAS_MODES)}, got {bias!r}")
    F, O = stats.XtY.shape
    XtX, XtY = stats.XtX, stats.XtY
    if bias == "regularised":  # the ones column appended as the last feature
        XtX = jnp.block(
            [[XtX, stats.x_sum[:, None]], [stats.x_sum[None, :], stats.count[None, None]]]
        )
        XtY = jnp.concatenate([XtY, stats.y_sum[None, :]])
        A = XtX + ridge * jnp.eye(F + 1, dtype=XtX.dtype)
        W = jnp.linalg.solve(A, XtY)
        return Readout(W[:F], W[F])
    if bias == "centred":
        n = jnp.maximum(stats.count, 1)
        x_mean, y_mean = stats.x_sum / n, stats.y_sum / n
        XtX = XtX - n * jnp.outer(x_mean, x_mean)
        XtY = XtY - n * jnp.outer(x_mean, y_mean)
    W = jnp.linalg.solve(XtX + ridge * jnp.eye(F, dtype=XtX.dtype), XtY)  # (F, O)
    b = y_mean - x_mean @ W if bias == "centred" else jnp.zeros(O, XtY.dtype)
    return Readout(W, b)


def solve_ridge_host(stats: RidgeStats, ridge: float, *, bias: str = "centred") -> Readout:
    """:func:`solve_ridge` on the host in float64 with SciPy's symmetric solver (the
    call ReservoirPy's ``Ridge`` makes), after a clear error for a singular system."""
    check_solvable(stats, ridge, bias)
    XtX, XtY = np.asarray(stats.XtX, np.float64), np.asarray(stats.XtY, np.float64)
    x_sum, y_sum, n = (np.asarray(a, np.float64) for a in (stats.x_sum, stats.y_sum, stats.count))
    F, O = XtY.shape
    if bias == "regularised":
        XtX = np.block([[XtX, x_sum[:, None]], [x_sum[None, :], n.reshape(1, 1)]])
        XtY = np.concatenate([XtY, y_sum[None, :]])
    elif bias == "centred":
        x_mean, y_mean = x_sum / n, y_sum / n
        XtX = XtX - n * np.outer(x_mean, x_mean)
        XtY = XtY - n * np.outer(x_mean, y_mean)
    W = scipy.linalg.solve(XtX + ridge * np.eye(XtX.shape[0]), XtY, assume_a="sym")
    if bias == "regularised":
        W, b = W[:F], W[F]
    else:
        b = y_mean - x_mean @ W if bias == "centred" else np.zeros(O)
    return Readout(jnp.asarray(W), jnp.asarray(b))


def check_solvable(stats: RidgeStats, ridge: float, bias: str) -> None:
    """On the host: a clear error for a ridge system that has no unique solution."""
    ridge = float(ridge)
    if bias not in BIAS_MODES:
        raise UserError(f"bias must be one of {', '.join(BIAS_MODES)}, got {bias!r}")
    if ridge < 0:
        raise UserError(f"ridge must be >= 0, got {ridge}")
    if float(stats.count) == 0:
        raise UserError("no training steps left to fit the readout (warm-up too long?)")
    if ridge > 0:
        return
    XtX = np.asarray(stats.XtX, np.float64)
    if bias == "centred":
        n = float(stats.count)
        m = np.asarray(stats.x_sum, np.float64) / n
        XtX = XtX - n * np.outer(m, m)
    if np.linalg.matrix_rank(XtX) < XtX.shape[0]:
        raise UserError(
            f"the ridge system is singular with ridge 0 (rank {np.linalg.matrix_rank(XtX)} "
            f"< {XtX.shape[0]} features); use ridge > 0, e.g. 1e-8"
        )


def warmup_mask(T: int, batch: int, warmup: int, lengths=None) -> jax.Array:
    """(B, T) true at the steps a fit uses: from ``warmup`` on, before ``lengths``."""
    if int(warmup) != warmup or warmup < 0:
        raise UserError(f"warmup must be a non-negative integer, got {warmup!r}")
    t = jnp.arange(T)[None, :]  # (1, T)
    keep = t >= warmup
    if lengths is not None:
        keep = keep & (t < jnp.asarray(lengths)[:, None])
    return jnp.broadcast_to(keep, (batch, T))
