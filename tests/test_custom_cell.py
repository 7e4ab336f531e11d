"""A cell written outside the library, by the documented protocol, gets the fast path:
its input projection is hoisted out of the loop and its gradients equal plain autodiff
of a Python loop; a wrong ``additive`` claim is caught by ``check_cell``."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rnnlab
from rnnlab.unroll import _fast_form

B, T, D, H = 3, 7, 2, 4
PROJECTED = []  # the shapes that GatedUnit.input_proj was called with, as traced


class GatedUnit(rnnlab.Cell):
    """A minimal gated unit: h = (1 - z) h + z n with z = sigma(a_z), n = tanh(a_n)."""

    gates = 2
    additive = True

    def input_proj(self, x):
        PROJECTED.append(x.shape)
        return super().input_proj(x)

    def pointwise(self, h, xp, hp):
        a_z, a_n = jnp.split(xp + hp, 2)
        z, n = jax.nn.sigmoid(a_z), jnp.tanh(a_n)
        h = (1 - z) * h + z * n
        return h, h, {"h": h, "z": z, "n": n}


class NotAdditive(GatedUnit):
    """n = tanh(x_n + z * h_n): xp and hp enter apart, so additive = True is a lie."""

    def pointwise(self, h, xp, hp):
        x_z, x_n = jnp.split(xp, 2)
        h_z, h_n = jnp.split(hp, 2)
        z = jax.nn.sigmoid(x_z + h_z)
        h = (1 - z) * h + z * jnp.tanh(x_n + z * h_n)
        return h, h, {"h": h}


def python_loop(cell, xs, state):
    """The reference: ``cell(state, x)`` step after step, for each sequence."""

    def one(xs, state):
        ys = []
        for x in xs:
            state, y = cell(state, x)
            ys.append(y)
        return jnp.stack(ys), state

    return jax.vmap(one)(xs, state)


def data(dtype):
    rng = np.random.default_rng(0)
    cell = GatedUnit(D, H, key=jax.random.key(0))
    cell = jax.tree_util.tree_map(lambda a: jnp.asarray(rng.normal(size=a.shape), dtype), cell)
    xs = jnp.asarray(rng.normal(size=(B, T, D)), dtype)
    h0 = jnp.asarray(rng.normal(size=(B, H)), dtype)
    return cell, xs, h0


def test_input_projection_is_hoisted():
    cell, xs, h0 = data(jnp.float32)
    assert _fast_form(cell)
    PROJECTED.clear()
    jax.make_jaxpr(lambda c: jax.grad(lambda c: rnnlab.unroll(c, xs, h0)[0].sum())(c))(cell)
    # Once for all steps (time-major), never per step; per chunk under remat.
    assert set(PROJECTED) == {(T, B, D)}
    PROJECTED.clear()
    jax.make_jaxpr(lambda c: rnnlab.unroll(c, xs, h0, remat=3)[0])(cell)
    assert set(PROJECTED) == {(3, B, D)}


@pytest.mark.parametrize("remat", [False, 3], ids=["plain", "remat"])
def test_gradients_equal_autodiff_of_a_python_loop(x64, remat, close):
    cell, xs, h0 = data(jnp.float64)
    R = jnp.asarray(np.random.default_rng(1).normal(size=(B, T, H)))

    def loss(run, cell, xs, h0):
        ys, h = run(cell, xs, h0)
        return jnp.sum(ys * R) + jnp.sum(h**3)

    fast = lambda c, x, h: rnnlab.unroll(c, x, h, remat=remat)
    g = jax.jit(jax.grad(lambda *a: loss(fast, *a), argnums=(0, 1, 2)))(cell, xs, h0)
    g_ref = jax.jit(jax.grad(lambda *a: loss(python_loop, *a), argnums=(0, 1, 2)))(cell, xs, h0)
    close(g, g_ref, rtol=1e-10)
    assert float(jnp.max(jnp.abs(g[0].weight_hh))) > 1e-2


def test_check_cell_catches_a_wrong_additive_claim():
    good = GatedUnit(D, H, key=jax.random.key(1))
    assert rnnlab.check_cell(good, key=jax.random.key(2)) < 1e-4
    bad = NotAdditive(D, H, key=jax.random.key(1))
    with pytest.raises(rnnlab.UserError, match="additive"):
        rnnlab.check_cell(bad, key=jax.random.key(2))
    # Without the claim, the same cell is differentiated correctly.
    honest = type("Honest", (NotAdditive,), {"additive": False})(D, H, key=jax.random.key(1))
    assert rnnlab.check_cell(honest, key=jax.random.key(2)) < 1e-4


# Every built-in additive cell is checked against autodiff in float64 in test_fused.py.
@pytest.mark.parametrize("spec", ["peephole"], indirect=True)
def test_a_builtin_additive_cell_passes_check_cell(spec):
    cell = spec.make(D, H, seed=3)
    assert cell.additive
    assert rnnlab.check_cell(cell, key=jax.random.key(4)) < 1e-5
