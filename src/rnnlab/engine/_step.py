"""The compiled, data-parallel training step of :func:`rnnlab.engine.fit`, and moving
state between the host and the device mesh.

The global batch is split over a 1-D mesh of devices with ``jax.shard_map``; each device
computes the gradient of its rows' summed loss and one ``psum`` adds gradients, losses
and the count of valid targets (see :mod:`rnnlab.engine.loop`). A step's loss is the pair
(summed loss, count), so that a logged loss is per target over its window.
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree
from jax.sharding import PartitionSpec as P

from rnnlab.engine import devices as dev

tree_map = jax.tree_util.tree_map


class _StepSpec:
    """The compiled step: a sharded gradient and an optimizer update, in one jit or two."""

    def __init__(self, loss_fn, static, mesh, stochastic, optimizer, fused, skip_empty=False):
        self.args = (loss_fn, static, mesh, stochastic, optimizer)
        self.fused, self.skip_empty = fused, skip_empty

    def run(self, params, opt_state, carry, batch, base_key, step):
        loss_fn, static, mesh, stochastic, optimizer = self.args
        step = jnp.asarray(step, jnp.int32)
        if self.fused and not self.skip_empty:
            return _fused_step(
                loss_fn, static, mesh, stochastic, optimizer,
                params, opt_state, carry, batch, base_key, step,
            )  # fmt: skip
        loss, grads, carry = _grad_step(
            loss_fn, static, mesh, stochastic, params, carry, batch, base_key, step
        )
        if self.skip_empty:  # a batch with no target: parameters and optimizer state kept
            params, opt_state = _update_scored(optimizer, grads, params, opt_state, loss[1])
        else:
            params, opt_state = _update(optimizer, grads, params, opt_state)
        return loss, params, opt_state, carry


def _sharded_grad(
    loss_fn, static, mesh, stochastic, params, carry, batch, base_key, step, *, flat=False
):
    """Loss and gradient of the global batch, computed shard by shard and ``psum``-ed:
    one all-reduce per leaf, or with ``flat`` all in one flat buffer (:func:`_psum_flat`;
    no gain measured on 2 CPU devices, bench/speed_levers.py: 0.97-1.03x)."""
    B = jax.tree_util.tree_leaves(batch)[0].shape[0]
    keys = jax.random.split(jax.random.fold_in(base_key, step), B) if stochastic else None

    def local(params, carry, batch, keys):
        def f(p):
            total, count, carry_out = loss_fn(eqx.combine(p, static), batch, carry, keys)
            return total, (count, carry_out)

        (total, (count, carry_out)), grads = jax.value_and_grad(f, has_aux=True)(params)
        summed = (total, jnp.asarray(count, total.dtype), grads)
        total, count, grads = _psum_flat(summed) if flat else jax.lax.psum(summed, dev.AXIS)
        # an online learner's chunk may hold no target (count 0): its gradient is zero
        grads = tree_map(lambda g: g / jnp.maximum(count, 1), grads)
        return jnp.stack([total, count]), grads, carry_out  # the loss: (summed loss, count)

    data = P(dev.AXIS)
    sharded = jax.shard_map(
        local,
        mesh=mesh,
        in_specs=(P(), data, data, data),
        out_specs=(P(), P(), data),
        check_vma=False,
    )
    return sharded(params, carry, batch, keys)


def _psum_flat(tree):
    """``psum`` of every leaf of ``tree`` as one all-reduce of one flat buffer (leaves of
    one dtype, as the engine's float32 gradients): one collective, one synchronisation
    of the devices, instead of one per leaf."""
    flat, unravel = ravel_pytree(tree)  # (N,)
    return unravel(jax.lax.psum(flat, dev.AXIS))


# Two jitted functions by default: with the update inside the sharded step's jit, the
# whole char-model step was 10 ms slower on 2 CPU devices (issue 7's prototype;
# bench/cells.py measures both placements).
_grad_step = jax.jit(
    _sharded_grad, static_argnums=(0, 1, 2, 3), static_argnames=("flat",), donate_argnums=(5,)
)


def _apply(optimizer, grads, params, opt_state):
    """One optimizer update: the new parameters and optimizer state."""
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state


_update = jax.jit(_apply, static_argnums=(0,), donate_argnums=(2, 3))


@functools.partial(jax.jit, static_argnums=(0,), donate_argnums=(2, 3))
def _update_scored(optimizer, grads, params, opt_state, count):
    """``_update`` if ``count`` (the batch's targets) > 0, else everything unchanged."""
    apply = functools.partial(_apply, optimizer)
    keep = lambda grads, params, opt_state: (params, opt_state)
    return jax.lax.cond(count > 0, apply, keep, grads, params, opt_state)


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3, 4), donate_argnums=(5, 6, 7))
def _fused_step(
    loss_fn, static, mesh, stochastic, optimizer, params, opt_state, carry, batch, base_key, step
):  # noqa: E501
    loss, grads, carry = _sharded_grad(
        loss_fn, static, mesh, stochastic, params, carry, batch, base_key, step
    )
    params, opt_state = _apply(optimizer, grads, params, opt_state)
    return loss, params, opt_state, carry


def _device_info(mesh) -> dict:
    d = mesh.devices.flat[0]
    return {
        "count": int(mesh.devices.size),
        "platform": d.platform,
        "processes": dev.process_count(),
    }


def _to_global(tree, sharding):
    """Host (or single-device) arrays -> global arrays laid out by ``sharding``, on every
    process (each process supplies the same full values; it keeps its own slices)."""

    def put(x):
        x = np.asarray(x)
        return jax.make_array_from_callback(x.shape, sharding, lambda idx: x[idx])

    return tree_map(put, tree)


def _gather(tree):
    """Global arrays -> NumPy arrays with the full values, on every process."""
    from jax.experimental import multihost_utils

    def get(x):
        if not isinstance(x, jax.Array):
            return x
        if x.is_fully_addressable:
            return np.asarray(x)
        if x.sharding.is_fully_replicated:
            return np.asarray(x.addressable_data(0))
        return np.asarray(multihost_utils.process_allgather(x, tiled=True))

    return tree_map(get, tree)


def _local(tree):
    """Replicated global arrays -> arrays on this process's first device (no copy)."""
    return tree_map(lambda x: x.addressable_data(0) if isinstance(x, jax.Array) else x, tree)


def _host(tree):
    return tree_map(lambda x: np.asarray(x) if isinstance(x, jax.Array) else x, tree)


def _agree(flag: bool) -> bool:
    """Process 0's answer on every process, so all stop at the same step."""
    if dev.process_count() == 1:
        return bool(flag)
    from jax.experimental import multihost_utils

    return bool(multihost_utils.broadcast_one_to_all(np.asarray(flag)))
