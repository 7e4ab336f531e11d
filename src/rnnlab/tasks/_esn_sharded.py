"""``--model esn --devices N``: a batch's ridge sums split over devices, added by a ``psum``.

Each device runs the reservoir over its share of the batch's rows and takes the sums of
its rows (``X^T X``, ``X^T Y``, column sums, count; :func:`rnnlab.reservoir.ridge_stats`);
one ``psum`` over the engine's 1-D mesh (:mod:`rnnlab.engine.devices`) adds them, as the
gradient path adds gradients. The sums are float64 (the states are cast first): a float32
sum at ridge 1e-6 once dropped vowels to 25 %. A batch that does not split evenly is
padded with empty rows, left out of the sums.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import PartitionSpec as P

from rnnlab.engine.devices import AXIS, check_device_count, make_mesh
from rnnlab.reservoir import RidgeStats, ridge_stats, warmup_mask


def mesh_of(devices: int):
    """The engine's mesh over ``devices`` local devices (a one-line error beyond them)."""
    return make_mesh(check_device_count(devices))


def device_stats(model, rows, targets: np.ndarray, washout: int, mesh) -> RidgeStats:
    """The float64 :class:`RidgeStats` (NumPy) of a batch ``rows`` ``(x, y, lengths)`` with
    ``targets`` (B, C) (pooled model) or (B, T, C), summed over the devices of ``mesh``."""
    x, _, lengths = rows
    B, n = len(x), mesh.size
    pad = (-B) % n
    valid = np.arange(B + pad) < B  # (B + pad,)
    if pad:
        grow = lambda a: np.concatenate([a, np.zeros((pad, *a.shape[1:]), a.dtype)])
        x, lengths, targets = grow(x), grow(lengths), grow(targets)
    if model.pool:
        mask = valid
    else:
        mask = np.asarray(warmup_mask(x.shape[1], B + pad, washout, lengths)) & valid[:, None]
    with jax.enable_x64(True):
        stats = _sharded_stats(model, mesh, jnp.asarray(x), jnp.asarray(lengths),
                               jnp.asarray(targets, jnp.float64), jnp.asarray(mask))  # fmt: skip
        return jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), stats)


@eqx.filter_jit
def _sharded_stats(model, mesh, x, lengths, targets, mask):
    params, static = eqx.partition(model, eqx.is_array)

    def local(params, x, lengths, targets, mask):  # one device's rows
        m = eqx.combine(params, static)
        ys, finals = m.rnn(x, lengths=lengths)  # (b, T, H), [(b, H)]
        feats = (finals[0] if m.pool else ys).astype(targets.dtype)
        return jax.lax.psum(ridge_stats(feats, targets, mask), AXIS)

    data = P(AXIS)
    return jax.shard_map(
        local, mesh=mesh, in_specs=(P(), data, data, data, data), out_specs=P(), check_vma=False
    )(params, x, lengths, targets, mask)
