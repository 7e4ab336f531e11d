"""Weight noise (Graves 2011; the regulariser of Chung et al. 2014's polyphonic music
runs): every gradient evaluation sees the weights plus fresh Gaussian noise.

.. math::
    \\tilde w = w + \\epsilon, \\quad \\epsilon \\sim \\mathcal N(0, \\sigma^2 I), \\qquad
    g = \\nabla_w L(\\tilde w) = \\nabla L \\big|_{\\tilde w}

so the update uses the gradient at the noisy weights (``d w~ / d w = I``); evaluation and
checkpoints use the clean ``w``. One draw per gradient evaluation: per batch, or per
device shard of a batch split over devices.
"""

from __future__ import annotations

import equinox as eqx
import jax

NOISE_SALT = 0x3A5E  # folded into the first row's key: the noise is not the dropout's


def noise_key(keys: jax.Array) -> jax.Array:
    """The key of this gradient evaluation's noise, from the engine's per-row keys."""
    return jax.random.fold_in(keys[0], NOISE_SALT)


def noisy(model, key: jax.Array, sd: float):
    """``model`` with N(0, sd^2) added to every floating-point array (weights and
    biases), one independent draw per leaf (``jax.random.split(key, leaves)`` in leaf
    order)."""
    params, static = eqx.partition(model, eqx.is_inexact_array)
    leaves, tree = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(key, max(len(leaves), 1))
    leaves = [
        w + sd * jax.random.normal(k, w.shape, w.dtype) for w, k in zip(leaves, keys, strict=False)
    ]
    return eqx.combine(jax.tree_util.tree_unflatten(tree, leaves), static)
