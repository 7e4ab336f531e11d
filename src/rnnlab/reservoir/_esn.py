"""An echo state network: a reservoir (a cell, or a stack of them) and a fitted readout."""

from __future__ import annotations

from collections.abc import Iterable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.errors import UserError
from rnnlab.layers import RNN
from rnnlab.reservoir._readout import (
    Readout,
    RidgeStats,
    host_stats,
    ridge_stats,
    solve_ridge_host,
    warmup_mask,
)
from rnnlab.unroll import unroll


def run_reservoir(reservoir, xs, state=None, *, lengths=None):
    """States of ``reservoir`` (a cell, or an :class:`rnnlab.RNN` stack: a deep ESN whose
    last layer is read) over ``xs`` (T, D) or (B, T, D): ``(states, final_state)``."""
    if not isinstance(reservoir, RNN):
        return unroll(reservoir, xs, state, lengths=lengths)
    single = xs.ndim == 2
    if single:  # RNN runs batches: a batch of one
        xs = xs[None]
        state = None if state is None else jax.tree_util.tree_map(lambda s: s[None], state)
    ys, finals = reservoir(xs, state, lengths=lengths)
    if single:
        ys, finals = ys[0], jax.tree_util.tree_map(lambda s: s[0], finals)
    return ys, finals


def readout_features(states, inputs, input_to_readout: bool):
    """What the readout reads: the states, then the inputs if ``input_to_readout``
    (ReservoirPy's ``[Input >> Reservoir, Input] >> Ridge`` order)."""
    return jnp.concatenate([states, inputs], axis=-1) if input_to_readout else states


class ESN(eqx.Module):
    """A reservoir and its readout: ``ys, state = esn(xs, state, lengths=...)`` with
    ``xs`` (T, D) or (B, T, D) and ``ys`` of the same layout, (..., O). Built by
    :func:`fit`; ``esn.states(xs)`` gives the readout's features."""

    reservoir: eqx.Module
    readout: Readout
    input_to_readout: bool = eqx.field(static=True)

    def states(self, xs, state=None, *, lengths=None):
        """``(features, final_state)``: the reservoir's states (and inputs, if they
        reach the readout) at every step."""
        lengths = None if lengths is None else jnp.asarray(lengths)
        return _states(self.reservoir, jnp.asarray(xs), state, lengths, self.input_to_readout)

    def __call__(self, xs, state=None, *, lengths=None):
        feats, final = self.states(xs, state, lengths=lengths)
        return self.readout(feats), final


@eqx.filter_jit
def _states(reservoir, xs, state, lengths, input_to_readout):
    states, final = run_reservoir(reservoir, xs, state, lengths=lengths)
    return readout_features(states, xs, input_to_readout), final


@eqx.filter_jit
def _features(reservoir, xs, state, lengths, warmup, input_to_readout):
    """The readout's features over a batch, the mask of the steps a fit uses, the final
    state."""
    feats, final = run_reservoir(reservoir, xs, state, lengths=lengths)
    feats = readout_features(feats, xs, input_to_readout)
    batched = xs.ndim == 3
    B, T = (xs.shape[0], xs.shape[1]) if batched else (1, xs.shape[0])
    mask = warmup_mask(T, B, warmup, lengths)
    return feats, (mask if batched else mask[0]), final


SUMS = {"float64": np.float64, "float32": np.float32}
BLOCK_ROWS = 8192  # feature rows per block of the host sums (8192 x 1,000 float32: 33 MB)


def accumulate(
    reservoir,
    xs,
    ys,
    *,
    state=None,
    lengths=None,
    warmup: int = 0,
    input_to_readout: bool = False,
    host: bool = False,
    sums: str = "float64",
) -> tuple[RidgeStats, object]:
    """One batch's contribution to a ridge fit: ``(stats, final_state)``. ``xs`` (T, D) or
    (B, T, D), ``ys`` (..., O) aligned with it; ``warmup`` leading steps of each
    sequence and the padding past ``lengths`` are left out. The engine sums the stats
    over batches and devices, then calls :func:`solve_ridge` once.

    ``host=True`` takes the sums with the host's BLAS (:func:`host_stats`, returned in
    float64; ``sums="float32"``: the products in float32), block by block along time
    (``BLOCK_ROWS`` feature rows at a time): while the host sums one block, the device
    already runs the reservoir over the next (JAX dispatches asynchronously), so a long
    series costs about the longer of the two, not their sum."""
    xs, ys = jnp.asarray(xs), jnp.asarray(ys)
    if ys.shape[:-1] != xs.shape[:-1]:
        raise UserError(f"targets {tuple(ys.shape)} do not match inputs {tuple(xs.shape)}")
    if sums not in SUMS:
        raise UserError(f"sums must be float64 or float32, got {sums!r}")
    if lengths is not None:
        lengths = jnp.asarray(lengths)
    itr = bool(input_to_readout)
    if not host:
        feats, mask, final = _features(reservoir, xs, state, lengths, int(warmup), itr)
        return ridge_stats(feats, ys, mask), final
    batched = xs.ndim == 3
    B, T = (xs.shape[0], xs.shape[1]) if batched else (1, xs.shape[0])
    mask = warmup_mask(T, B, int(warmup), lengths)  # (B, T)
    mask = mask if batched else mask[0]
    block = max(1, -(-BLOCK_ROWS // B))  # steps per block
    total, pending = None, None
    for t0 in range(0, T, block):
        t1 = min(T, t0 + block)
        part = None if lengths is None else jnp.clip(lengths - t0, 0, t1 - t0)
        # dispatched, not waited for: it runs while the host sums the previous block
        feats, _, state = _features(reservoir, xs[..., t0:t1, :], state, part, 0, itr)
        if pending is not None:
            total = _plus(total, host_stats(*pending, dtype=SUMS[sums]))
        pending = (feats, ys[..., t0:t1, :], mask[..., t0:t1])
    return _plus(total, host_stats(*pending, dtype=SUMS[sums])), state


def _plus(a: RidgeStats | None, b: RidgeStats) -> RidgeStats:
    return b if a is None else a + b


def fit(
    reservoir,
    xs,
    ys=None,
    *,
    ridge: float = 0.0,
    warmup: int = 0,
    lengths=None,
    input_to_readout: bool = False,
    bias: str = "centred",
    state=None,
    return_state: bool = False,
    sums: str = "float64",
):
    """Fit a ridge readout on ``reservoir``'s states: an :class:`ESN`.

    ``xs`` (T, D) or (B, T, D) with targets ``ys`` (..., O); or, for data larger than
    memory, ``xs`` an iterable of batches ``(xs, ys)`` or ``(xs, ys, lengths)`` (each
    sequence starts from the zero state), summed one at a time. ``bias`` is the
    convention of :func:`solve_ridge` (default: ReservoirPy 0.4's, centred data and an
    unregularised bias); the solve is float64 on the host, whatever the reservoir's
    dtype, and so are the sums by default; ``sums="float32"`` takes ``X^T X`` and
    ``X^T Y`` in float32 (block by block, added in float64): the fast path, for a ridge
    far above float32's rounding of ``X^T X`` (keep float64 for ReservoirPy parity or a
    ridge like 1e-8). With ``return_state`` (arrays only), also the state after the
    last step, from which a forecast continues, as ReservoirPy's ``run`` after ``fit``.

    >>> import jax, jax.numpy as jnp, rnnlab
    >>> from rnnlab import reservoir as rc
    >>> cell = rc.ReservoirCell(1, 50, leak_rate=0.3, spectral_radius=0.9, key=0)
    >>> u = jnp.sin(jnp.arange(300.0) / 5)[:, None]
    >>> esn = rc.fit(cell, u[:-1], u[1:], ridge=1e-6, warmup=20)
    >>> float(jnp.abs(esn(u[:-1])[0][20:] - u[21:]).max()) < 0.01
    True
    """
    if ys is None:
        if isinstance(xs, jax.Array | np.ndarray):
            raise UserError("fit needs targets ys, or an iterable of (xs, ys) batches")
        batches: Iterable = xs
        total, final = None, None
        for batch in batches:
            bx, by, *rest = batch
            stats, final = accumulate(
                reservoir,
                bx,
                by,
                lengths=rest[0] if rest else None,
                warmup=warmup,
                input_to_readout=input_to_readout,
                host=True,
                sums=sums,
            )
            total = stats if total is None else total + stats
        if total is None:
            raise UserError("fit got no batches")
    else:
        total, final = accumulate(
            reservoir,
            xs,
            ys,
            state=state,
            lengths=lengths,
            warmup=warmup,
            input_to_readout=input_to_readout,
            host=True,
            sums=sums,
        )
    esn = ESN(reservoir, solve_ridge_host(total, ridge, bias=bias), bool(input_to_readout))
    return (esn, final) if return_state else esn
