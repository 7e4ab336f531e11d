"""The leaky reservoir cell: an echo state network's fixed recurrent layer."""

from __future__ import annotations

import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sp

from rnnlab.cells import Step, activation, project
from rnnlab.errors import UserError
from rnnlab.reservoir import _matrices as M


class EchoStateWarning(UserWarning):
    """A reservoir whose leaky effective matrix has a spectral radius above 1."""


class ReservoirCell(Step):
    r"""Leaky-integrator echo state network, one step (Jaeger 2001; Jaeger et al. 2007).

    .. math::
        x_t = (1 - lr)\, x_{t-1} + lr\, f(W_{in} u_t + W x_{t-1} + b)

    ``W`` (H, H), ``W_in`` (H, D) and ``b`` (H,) are drawn once and never trained
    (they sit behind ``stop_gradient``); only a readout of the states is learnt (see
    :func:`rnnlab.reservoir.fit`). This is ReservoirPy's ``Reservoir`` update
    (``reservoirpy/nodes/reservoir.py``), and an MTRNN unit with fixed weights.

    Drawn weights (from ``key``, on the host with NumPy): ``W`` has a fraction
    ``connectivity`` of N(0, 1) entries, rescaled to ``spectral_radius``; ``W_in`` a
    fraction ``input_connectivity`` of +-1 entries times ``input_scaling`` (a number,
    or one per input); ``b`` is +-1 times ``bias_scaling`` (0 by default, as
    ReservoirPy 0.4). ``leak_rate`` (lr) is a number or one per unit, in (0, 1].
    ``spectral_radius`` defaults to 1 (ReservoirPy 0.4's ``sr``). Or pass the arrays
    themselves: ``W=``, ``W_in=``, ``bias=`` (NumPy, SciPy sparse or JAX arrays): they
    are used as given, the scalings and connectivities ignored, and ``W`` is rescaled
    only if ``spectral_radius`` is passed. ``key`` may also be an int seed.

    ``matmul``: ``"dense"`` or ``"sparse"`` (``W`` stored as row-sorted coordinates, the
    product a gather and a segment sum); ``"auto"`` picks the one measured faster for
    the size and density (``bench/reservoir.py``): sparse from 500 units at
    connectivity <= 0.01 and from 2,000 units at <= 0.05. The spectral radius is
    computed on the host (NumPy's ``eigvals``, ARPACK above 200 units).

    Echo state property: with zero input and no bias, the states forget their start
    only if rho(lr W + (1 - lr) I) < 1; above 1 the cell warns
    (:class:`EchoStateWarning`, ``esp_warning=False`` to silence). Input drive and
    saturation often restore it (ReservoirPy's tutorials run at 1.003).

    State: ``x`` (H,). Output: ``x``. Internals (``trace=True``): ``x`` (also as ``h``, the
    output's name in every cell, which ``rnnlab inspect`` reads).

    >>> import jax, rnnlab
    >>> cell = rnnlab.reservoir.ReservoirCell(1, 100, leak_rate=0.3, spectral_radius=0.9,
    ...                                       key=jax.random.key(0))
    >>> xs, x = rnnlab.unroll(cell, jax.numpy.ones((50, 1)))
    >>> xs.shape
    (50, 100)
    """

    W: jax.Array | None  # (H, H) dense, or None when sparse
    W_rows: jax.Array | None  # (nnz,) row of each non-zero, sorted (sparse layout)
    W_cols: jax.Array | None  # (nnz,) its column
    W_vals: jax.Array | None  # (nnz,) its value
    W_in: jax.Array  # (H, D)
    bias: jax.Array  # (H,)
    lr: jax.Array  # () or (H,)
    input_size: int = eqx.field(static=True)
    hidden_size: int = eqx.field(static=True)
    nonlinearity: str = eqx.field(static=True)

    def __init__(
        self,
        input_size: int,
        hidden_size: int | None = None,
        *,
        leak_rate=1.0,
        spectral_radius: float | None = None,
        input_scaling=1.0,
        connectivity: float = 0.1,
        input_connectivity: float = 0.1,
        bias_scaling: float = 0.0,
        nonlinearity: str = "tanh",
        W=None,
        W_in=None,
        bias=None,
        matmul: str = "auto",
        esp_warning: bool = True,
        key=None,
    ):
        activation(nonlinearity)  # fail early on an unknown name
        if W is None and hidden_size is None:
            raise UserError("ReservoirCell needs hidden_size (units) or an explicit W")
        H = M.check_units(W.shape[0] if W is not None else hidden_size)
        D = M.check_units(input_size)
        lr = np.asarray(leak_rate, np.float64)
        if lr.ndim > 1 or lr.size not in (1, H) or np.any(lr <= 0) or np.any(lr > 1):
            raise UserError(f"leak_rate must be in (0, 1], a number or {H} values, got {leak_rate}")
        if spectral_radius is not None and not spectral_radius > 0:
            raise UserError(f"spectral_radius must be > 0, got {spectral_radius}")
        if matmul not in ("auto", "dense", "sparse"):
            raise UserError(f"matmul must be auto, dense or sparse, got {matmul!r}")
        rng = host_rng(key)
        W_host, eig = _recurrent(W, H, connectivity, spectral_radius, rng)
        W_in_host = _input_weights(W_in, H, D, input_scaling, input_connectivity, rng)
        bias_host = _bias(bias, H, bias_scaling, rng)
        self._set_arrays(W_host, W_in_host, bias_host, lr, matmul)
        self.input_size, self.hidden_size, self.nonlinearity = D, H, nonlinearity
        if esp_warning:
            message = _esp_message(M.effective_spectral_radius(W_host, lr, eig))
            if message:  # stacklevel: the caller of ReservoirCell(...), past equinox's
                warnings.warn(message, EchoStateWarning, stacklevel=4)

    def echo_state_warning(self) -> str | None:
        """The warning's line (see the class) if rho(lr W + (1 - lr) I) > 1, else None:
        for a caller that reports it its own way (``rnnlab train --model esn``)."""
        W = sp.csr_array(self.dense_W().astype(np.float64))
        lr = np.asarray(self.lr, np.float64)
        return _esp_message(M.effective_spectral_radius(W, lr))

    def _set_arrays(self, W, W_in, bias, lr, matmul):
        nnz = W.nnz if sp.issparse(W) else int(np.count_nonzero(W))
        sparse = matmul == "sparse" or (matmul == "auto" and M.choose_sparse(W.shape[0], nnz))
        if sparse:
            rows, cols, vals = M.to_coo(W)
            self.W, self.W_rows = None, jnp.asarray(rows)
            self.W_cols, self.W_vals = jnp.asarray(cols), jnp.asarray(vals)
        else:
            dense = W.toarray() if sp.issparse(W) else np.asarray(W)
            self.W, self.W_rows, self.W_cols, self.W_vals = jnp.asarray(dense), None, None, None
        self.W_in, self.bias, self.lr = jnp.asarray(W_in), jnp.asarray(bias), jnp.asarray(lr)

    @property
    def output_size(self) -> int:
        return self.hidden_size

    @property
    def sparse(self) -> bool:
        return self.W is None

    def dense_W(self) -> np.ndarray:
        """``W`` (H, H) as a NumPy array, whatever its layout."""
        if not self.sparse:
            return np.asarray(self.W)
        H = self.hidden_size
        out = np.zeros((H, H), np.asarray(self.W_vals).dtype)
        np.add.at(out, (np.asarray(self.W_rows), np.asarray(self.W_cols)), np.asarray(self.W_vals))
        return out

    def recurrent(self, x: jax.Array) -> jax.Array:
        """``W x`` for ``x`` (H,)."""
        if self.sparse:
            rows, cols, vals = jax.lax.stop_gradient((self.W_rows, self.W_cols, self.W_vals))
            terms = x.at[cols].get(mode="promise_in_bounds") * vals  # (nnz,)
            return jax.ops.segment_sum(terms, rows, self.hidden_size, indices_are_sorted=True)
        return jax.lax.stop_gradient(self.W) @ x

    def input_proj(self, u: jax.Array) -> jax.Array:
        """``W_in u + b`` for ``u`` (..., D) -> (..., H)."""
        W_in, b = jax.lax.stop_gradient((self.W_in, self.bias))
        return project(u, W_in) + b

    def step(self, x, xp):
        lr = jax.lax.stop_gradient(self.lr)
        f = activation(self.nonlinearity)
        x = (1 - lr) * x + lr * f(xp + self.recurrent(x))
        return x, x, {"x": x, "h": x}  # h: the name rnnlab inspect reads of every cell


def _esp_message(rho: float) -> str | None:
    if not rho > 1 + 1e-6:  # not a radius rescaled to 1, up to the eigensolver's rounding
        return None
    return (
        f"reservoir: rho(lr*W + (1-lr)*I) = {rho:.4g} > 1: with no input driving it (and no "
        "bias) it lacks the echo state property; lower the spectral radius or the leak rate, "
        "or rely on the input's drive"
    )


def host_rng(key) -> np.random.Generator | None:
    """A NumPy generator seeded from a JAX PRNG key (typed or raw) or an int seed."""
    if key is None:
        return None
    if isinstance(key, int | np.integer):
        return np.random.default_rng(int(key))
    if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    return np.random.default_rng(np.asarray(key, np.uint32).ravel().tolist())


def _recurrent(W, H, connectivity, spectral_radius, rng):
    """``(W, eig)``: ``W`` (H, H), dense NumPy or CSR, rescaled to ``spectral_radius`` if
    given; ``eig`` its eigenvalues when they were computed in full, else None."""
    if W is None:
        if rng is None:
            raise UserError("ReservoirCell needs key=jax.random.key(seed) to draw its weights")
        M.check_fraction("connectivity", connectivity)
        W = M.sparse_random(H, H, connectivity, rng, M.normal)
        spectral_radius = 1.0 if spectral_radius is None else spectral_radius
    elif sp.issparse(W):
        W = sp.csr_array(W, dtype=np.float64)
    else:
        W = np.asarray(W, np.float64)
    if W.shape != (H, H):
        raise UserError(f"W must be square ({H}, {H}), got {W.shape}")
    if spectral_radius is None:
        return W, None
    eig = M.eigenvalues(W)
    rho = M.spectral_radius(W) if eig is None else float(np.max(np.abs(eig)))
    if rho == 0:
        raise UserError("W has spectral radius 0 (nilpotent or empty); cannot rescale it")
    scale = spectral_radius / rho
    return W * scale, None if eig is None else eig * scale


def _input_weights(W_in, H, D, input_scaling, input_connectivity, rng):
    if W_in is None:
        M.check_fraction("input_connectivity", input_connectivity)
        if rng is None:
            raise UserError("ReservoirCell needs key=jax.random.key(seed) to draw its weights")
        scale = np.asarray(input_scaling, np.float64)
        if scale.ndim > 1 or scale.size not in (1, D):
            raise UserError(f"input_scaling must be a number or {D} values, got {input_scaling}")
        W_in = M.sparse_random(H, D, input_connectivity, rng, M.bernoulli).toarray() * scale
    W_in = W_in.toarray() if sp.issparse(W_in) else np.asarray(W_in, np.float64)
    if W_in.shape != (H, D):
        raise UserError(f"W_in must have shape ({H}, {D}), got {W_in.shape}")
    return W_in


def _bias(bias, H, bias_scaling, rng):
    if bias is None:
        if bias_scaling == 0:
            return np.zeros(H)
        if rng is None:
            raise UserError("ReservoirCell needs key=jax.random.key(seed) to draw its bias")
        return M.bernoulli(rng, H) * float(bias_scaling)
    bias = np.broadcast_to(np.asarray(bias, np.float64).ravel(), (H,))
    return bias.copy()
