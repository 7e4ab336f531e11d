"""Host-side construction of a reservoir's fixed matrices (NumPy/SciPy, float64).

The weights of an echo state network are drawn once and never trained, so they are
built on the host: the sparse random draw, the spectral radius (an eigenvalue
problem, which XLA does not run on accelerators) and the sparse layout that the
device uses. Nothing here is traced by JAX.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from rnnlab.errors import UserError

MAX_UNITS = 100_000  # a bound on units read from user input, before any allocation
# Above this, ARPACK's largest-magnitude eigenvalue (a few hundred matvecs) instead of a
# full eig: at 500 units 0.15 s against 0.7 s for LAPACK on one thread, and 12 s when
# OpenBLAS's threads fight over a loaded 2-core machine.
DENSE_EIG_UNITS = 200

# Dense or sparse recurrent matmul, chosen by measured speed (bench/reservoir.py, the
# "matmul" table: one sequence, float32, a loaded 2-core CPU). The sparse product is a
# gather of the state at the non-zeros' columns and a sorted segment sum over their rows.
# Dense won at 100 units (~2 us a step) and at 1,000 units from connectivity 0.02 (221
# against 547 us); sparse won at 3,000 units up to 0.05 (8.0 against 13.2 ms), where
# the dense W no longer fits in cache, and at 5/N by 2.7x (1,000 units) to 50x (3,000).
# An ELLPACK layout (rows padded to the longest) lost to dense everywhere up to 1,000.
SPARSE_RULES = ((500, 0.01), (2_000, 0.05))  # (from this many units, up to this density)


def check_fraction(name: str, value: float, *, closed_low: bool = False) -> float:
    """``value`` must lie in (0, 1] (or [0, 1] with ``closed_low``)."""
    value = float(value)
    ok = (0.0 <= value <= 1.0) if closed_low else (0.0 < value <= 1.0)
    if not ok:
        interval = "[0, 1]" if closed_low else "(0, 1]"
        raise UserError(f"{name} must be in {interval}, got {value}")
    return value


def check_units(units: int) -> int:
    if int(units) != units or not 1 <= units <= MAX_UNITS:
        raise UserError(f"units must be an integer in [1, {MAX_UNITS}], got {units!r}")
    return int(units)


def sparse_random(rows: int, cols: int, density: float, rng, sampler) -> sp.csr_array:
    """A (rows, cols) CSR matrix with ``round(density * rows * cols)`` non-zeros (at least
    one) at uniformly random positions, values from ``sampler(rng, size)``."""
    nnz = max(1, round(density * rows * cols))
    if density >= 1.0:
        return sp.csr_array(sampler(rng, (rows, cols)))
    # scipy's sampler draws positions without replacement, in O(nnz) memory.
    m = sp.random_array(
        (rows, cols),
        density=nnz / (rows * cols),
        rng=rng,
        data_sampler=lambda size: sampler(rng, size),
    )
    return sp.csr_array(m)


def normal(rng, size):
    return rng.standard_normal(size)


def bernoulli(rng, size):
    """+1 or -1 with probability 1/2 (ReservoirPy's ``bernoulli`` initialiser)."""
    return np.where(rng.random(size) < 0.5, -1.0, 1.0)


def eigenvalues(W) -> np.ndarray | None:
    """All eigenvalues of ``W`` up to ``DENSE_EIG_UNITS`` units; None above (too costly)."""
    if W.shape[0] > DENSE_EIG_UNITS:
        return None
    return np.linalg.eigvals(W.toarray() if sp.issparse(W) else np.asarray(W))


def spectral_radius(W) -> float:
    """max |lambda_i(W)| on the host: a full eigenvalue decomposition up to
    ``DENSE_EIG_UNITS`` units, ARPACK's largest-magnitude eigenvalue above (as
    ReservoirPy's ``spectral_radius`` does for sparse matrices, with ``v0 = 1``; its
    tolerance is machine precision)."""
    n = W.shape[0]
    if n <= DENSE_EIG_UNITS:
        dense = W.toarray() if sp.issparse(W) else np.asarray(W)
        return float(np.max(np.abs(np.linalg.eigvals(dense))))
    lam = spla.eigs(W, k=1, which="LM", v0=np.ones(n), maxiter=50 * n, return_eigenvectors=False)
    return float(np.abs(lam[0]))


def effective_spectral_radius(W, lr, eig=None) -> float:
    """rho(lr W + (1 - lr) I): each eigenvalue maps as ``lambda -> 1 - lr + lr lambda``,
    so for a scalar leak rate it is ``max |1 - lr + lr lambda_i|`` (``eig``: the
    eigenvalues of ``W`` if known); per-unit leak rates need the matrix itself."""
    lr = np.asarray(lr, np.float64)
    n = W.shape[0]
    if lr.ndim == 0 or lr.size == 1:
        eig = eigenvalues(W) if eig is None else eig
        if eig is not None:
            return float(np.max(np.abs(1 - lr.ravel()[0] + lr.ravel()[0] * eig)))
    leaky = sp.diags(np.broadcast_to(lr, (n,))) @ sp.csr_array(W) + sp.diags(
        np.broadcast_to(1 - lr, (n,))
    )
    return spectral_radius(leaky)


def to_coo(W) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``W`` (H, H) as row-sorted coordinates: ``rows``, ``cols`` (nnz,) int32 and ``vals``
    (nnz,), so that ``(W s)_i = sum over k with rows[k] = i of vals[k] s[cols[k]]``."""
    W = sp.csr_array(W)
    W.sum_duplicates()
    rows = np.repeat(np.arange(W.shape[0], dtype=np.int32), np.diff(W.indptr))
    return rows, W.indices.astype(np.int32), W.data.astype(np.float64)


def choose_sparse(units: int, nnz: int) -> bool:
    """Whether the gathered sparse matmul is the faster one for ``nnz`` non-zeros in
    ``W`` (see ``SPARSE_RULES``)."""
    return any(units >= n and nnz <= d * units * units for n, d in SPARSE_RULES)


def draw(
    units: int,
    input_size: int,
    *,
    connectivity: float,
    input_connectivity: float,
    rng: np.random.Generator,
):
    """Unscaled draws ``(W, W_in, b)``: ``W`` (H, H) N(0, 1) at ``connectivity`` (CSR),
    ``W_in`` (H, D) and ``b`` (H,) of +-1, ``W_in`` at ``input_connectivity``."""
    W = sparse_random(units, units, connectivity, rng, normal)
    W_in = sparse_random(units, input_size, input_connectivity, rng, bernoulli).toarray()
    b = bernoulli(rng, units)
    return W, W_in, b
