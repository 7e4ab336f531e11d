"""Issue 21's speed levers change no result: each against the path without it, written out
here (float64, tiny sizes). Their timings are bench/speed_levers.py's."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.sharding import PartitionSpec as P

import rnnlab
from rnnlab.charlm.model import CharLM, lm_loss
from rnnlab.config import ModelConfig
from rnnlab.engine import devices as dev
from rnnlab.engine._step import _grad_step, _psum_flat

B, T, V = 3, 5, 7


def value_and_grad(f, model):
    """``f(model)`` and its gradient, compiled as one program."""
    return eqx.filter_jit(eqx.filter_value_and_grad(f))(model)


def close(a, b, rtol=1e-10):
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=1e-12)


def ids(seed, shape=(B, T)):
    return jnp.asarray(np.random.default_rng(seed).integers(0, V, shape), jnp.int32)


@pytest.mark.parametrize("onehot", [False, True], ids=["embedding", "onehot"])
def test_gathered_input_projection_matches_the_matmul(onehot):
    """CharLM gathers W x per token ((E W^T)[ids], or W^T[ids] for one-hot); its loss and
    every gradient (embedding and W_ih included) equal the input-times-W path's, with
    truncation, remat and a trace of the same layer."""
    with jax.enable_x64(True):
        config = ModelConfig(cell="lstm", hidden=4, embed=3, layers=2, onehot=onehot)
        model = CharLM(V, config, key=jax.random.key(1))
        model = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), model)
        x = ids(1)

        def gathered(m):
            hs, _ = m.features(x, truncate=2)
            return jnp.sum(jnp.tanh(hs))

        def reference(m):
            xs = jax.nn.one_hot(x, V) if onehot else m.embedding[x]  # (B, T, D)
            hs, _ = m.rnn(xs, truncate=2)
            return jnp.sum(jnp.tanh(hs))

        close(value_and_grad(gathered, model), value_and_grad(reference, model))

        # the whole loss (gathered, time-major) against the logits' cross-entropy
        y = ids(2)

        def whole(m):
            return lm_loss(2)(m, (x, y), None, None)[0]

        def plain(m):
            xs = jax.nn.one_hot(x, V) if onehot else m.embedding[x]
            hs, _ = m.rnn(xs, truncate=2)
            logits = hs @ m.readout_weight.T + m.readout_bias
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).sum()

        close(value_and_grad(whole, model), value_and_grad(plain, model))

        # unroll's other paths with projected input: remat chunks, autodiff (trace)
        cell = model.rnn.cells[0][0]
        xs = jax.nn.one_hot(x, V) if onehot else model.embedding[x]
        xw = xs @ cell.weight_ih.T
        run = jax.jit(rnnlab.unroll, static_argnames=("remat", "trace", "projected"))
        want = run(cell, xs, remat=2)
        close(run(cell, xw, remat=2, projected=True), want)
        close(run(cell, xw, trace=True, projected=True)[:2], want)


def test_flat_all_reduce_equals_one_per_leaf():
    """The engine's step with its gradients all-reduced as one flat buffer against one
    all-reduce per leaf, and _psum_flat against psum, on 2 devices."""
    mesh = dev.make_mesh(2)
    with jax.enable_x64(True):
        tree = {"a": jnp.arange(6.0).reshape(2, 3), "b": (jnp.ones(4), jnp.arange(2.0))}
        both = jax.shard_map(
            lambda t: (_psum_flat(t), jax.lax.psum(t, dev.AXIS)),
            mesh=mesh,
            in_specs=P(dev.AXIS),
            out_specs=P(),
            check_vma=False,
        )
        flat, per_leaf = both(tree)
        close(flat, per_leaf)

        model = CharLM(V, ModelConfig(cell="lstm", hidden=4, embed=3), key=jax.random.key(2))
        model = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), model)
        params, static = eqx.partition(model, eqx.is_array)
        batch = (ids(5, (4, T)), ids(6, (4, T)))
        args = (lm_loss(None), static, mesh, False, params, model.init_state(4), batch)
        key, step = jax.random.key(0), jnp.asarray(0, jnp.int32)
        close(
            _grad_step(*args, key, step, flat=True)[:2],
            _grad_step(*args, key, step, flat=False)[:2],
            rtol=1e-12,
        )
