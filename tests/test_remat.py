"""remat: same values and gradients as without it, on both paths; the memory XLA plans
for a training step grows like sqrt(T) with it and like T without it."""

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest

import rnnlab

D, H, B = 3, 8, 2


@pytest.mark.parametrize("spec", ["lstm", "mtrnn"], indirect=True)  # fast path, autodiff path
@pytest.mark.parametrize("remat", [True, 4], ids=["sqrt", "chunk4"])
def test_remat_equals_no_remat(spec, remat, random_like, close):
    T = 11  # no whole number of chunks: the last one is padded
    cell = spec.make(D, H, seed=0)
    xs = random_like(jnp.zeros((B, T, D)), 1, 1.0)
    R = random_like(jnp.zeros((B, T, cell.output_size)), 2, 1.0)
    lengths = jnp.array([T, 6])

    @eqx.filter_jit
    def value_and_grad(cell, remat):
        def loss(cell, xs):
            ys, final = rnnlab.unroll(cell, xs, lengths=lengths, reverse=True, remat=remat)
            return jnp.sum(ys * R) + sum(jnp.sum(s) for s in jax.tree_util.tree_leaves(final))

        return jax.value_and_grad(loss, argnums=(0, 1))(cell, xs)

    close(value_and_grad(cell, remat), value_and_grad(cell, False), rtol=1e-5)


def temp_bytes(T, remat):
    """XLA's planned scratch memory for one gradient of an LSTM over T steps, less what
    is linear in T whatever the method: the time-major copy of the inputs (T, B, D), the
    outputs and their gradient (T, B, H) each."""
    cell = rnnlab.LSTMCell(D, H, key=jax.random.key(0))
    xs = jax.ShapeDtypeStruct((B, T, D), jnp.float32)
    grad = jax.grad(lambda c, x: jnp.sum(rnnlab.unroll(c, x, remat=remat)[0] ** 2))
    compiled = jax.jit(grad).lower(cell, xs).compile()
    return compiled.memory_analysis().temp_size_in_bytes - 4 * T * B * (D + 2 * H)


def test_remat_memory_grows_like_sqrt_T():
    small, large = 400, 6400  # 16x the steps
    plain = temp_bytes(large, False) / temp_bytes(small, False)
    remat = temp_bytes(large, True) / temp_bytes(small, True)
    assert plain > 12  # linear in T
    assert remat < 6  # sqrt(16) = 4, plus the fixed part
    assert temp_bytes(large, True) < temp_bytes(large, False) / 5
