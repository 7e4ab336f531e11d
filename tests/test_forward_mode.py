"""Forward mode through unroll, for every cell: ``jax.jvp`` equals the jvp of a plain
Python loop over ``cell(state, x)``, and ``jax.jacfwd`` equals ``jax.jacrev``, with
padding, reverse and remat (the fast path is a custom_jvp, not a custom_vjp)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rnnlab

B, T, D, H = 2, 5, 3, 4
tree_map = jax.tree_util.tree_map


def python_loop(cell, xs, state, lengths):
    """Each sequence alone, its valid part only, step by step; zeros after its end."""
    outs, finals = [], []
    for b in range(B):
        s, ys = tree_map(lambda a, b=b: a[b], state), []
        for t in range(T):
            if t < lengths[b]:
                s, y = cell(s, xs[b, t])
            else:
                y = jnp.zeros(cell.output_size, xs.dtype)
            ys.append(y)
        outs.append(jnp.stack(ys))
        finals.append(s)
    return jnp.stack(outs), tree_map(lambda *a: jnp.stack(a), *finals)


def test_jvp_equals_jvp_of_a_python_loop(spec, x64, random_like, close):
    cell = spec.make(D, H, seed=0, dtype=jnp.float64)
    xs = random_like(jnp.zeros((B, T, D), jnp.float64), 1, 1.0)
    state = random_like(tree_map(lambda s: jnp.zeros((B,) + s.shape), cell.init_state()), 2)
    lengths = (T, 3)
    primals = (cell, xs, state)
    tangents = random_like(primals, 3, 1.0)

    @jax.jit
    def both(primals, tangents):
        fast = lambda c, x, s: rnnlab.unroll(c, x, s, lengths=jnp.array(lengths), remat=2)
        ref = lambda c, x, s: python_loop(c, x, s, lengths)
        return jax.jvp(fast, primals, tangents), jax.jvp(ref, primals, tangents)

    (out, dout), (out_ref, dout_ref) = both(primals, tangents)
    close(out, out_ref, rtol=1e-12)
    close(dout, dout_ref, rtol=1e-10)
    assert float(jnp.max(jnp.abs(dout[0]))) > 1e-3


@pytest.mark.parametrize("spec", ["lstm", "gru", "mtrnn"], indirect=True)
def test_jacfwd_equals_jacrev(spec, x64, random_like, close):
    cell = spec.make(D, H, seed=4, dtype=jnp.float64)
    xs = random_like(jnp.zeros((T, D), jnp.float64), 5, 1.0)
    f = lambda x, c: rnnlab.unroll(c, x, reverse=True, truncate=3)[0][0]  # (H,): first output
    fwd, rev = eqx.filter_jit(jax.jacfwd(f))(xs, cell), eqx.filter_jit(jax.jacrev(f))(xs, cell)
    close(fwd, rev, rtol=1e-12)
    # Truncation reaches forward mode too: read backwards, step 0 is the 5th processed,
    # in the chunk of the 4th (step 1); the earlier-processed steps 2-4 are cut off.
    np.testing.assert_array_equal(fwd[:, 2:], 0)
    assert np.max(np.abs(np.asarray(fwd[:, :2]))) > 1e-3


def test_jvp_through_a_stacked_layer(random_like, close):
    rnn = rnnlab.RNN("lstm", D, H, num_layers=2, bidirectional=True, key=jax.random.key(6))
    xs = random_like(jnp.zeros((B, T, D)), 7, 1.0)
    dxs = random_like(xs, 8, 1.0)
    f = lambda x: rnn(x)[0]
    _, dys = jax.jit(lambda x, d: jax.jvp(f, (x,), (d,)))(xs, dxs)
    eps = 1e-3  # central differences in float32: agreement to ~1e-4
    fd = (f(xs + eps * dxs) - f(xs - eps * dxs)) / (2 * eps)
    close(dys, fd, rtol=3e-3)
