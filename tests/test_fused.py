"""The layer's fused time loop (hand-written backward, rnnlab._fused) against
differentiating ``unroll`` directly: same outputs, final states and gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import SPECS

from rnnlab.layers import _fused_layer
from rnnlab.unroll import unroll

FUSED = [s for s in SPECS if s.name in ("elman", "lstm", "lstm1997", "peephole", "cifg")]
FUSED += [s for s in SPECS if s.name == "gru" and s.kwargs.get("reset_after", True)]
tree_leaves = jax.tree_util.tree_leaves


def test_which_cells_are_fused():
    assert {s.name for s in FUSED} == {"elman", "lstm", "lstm1997", "peephole", "cifg", "gru"}
    for s in SPECS:
        cell = s.make(2, 3, 0)
        assert getattr(cell, "fused", False) == (s in FUSED), s.id


@pytest.mark.parametrize("spec", FUSED, ids=[s.id for s in FUSED])
@pytest.mark.parametrize("reverse, truncate", [(False, None), (True, None), (False, 3)])
def test_fused_equals_unroll(x64, spec, reverse, truncate):
    B, T, D, H = 3, 8, 2, 4
    cell = spec.make(D, H, seed=1, dtype=jnp.float64)
    rng = np.random.default_rng(0)
    xs = jnp.asarray(rng.normal(size=(B, T, D)))
    state = jax.tree_util.tree_map(
        lambda s: jnp.asarray(rng.normal(size=(B,) + s.shape)), cell.init_state()
    )
    w = jnp.asarray(rng.normal(size=(B, T, H)))

    def loss(run, cell, xs, state):
        ys, final = run(cell, xs, state)
        return jnp.sum(ys * w) + sum(jnp.sum(leaf**2) for leaf in tree_leaves(final))

    fused = lambda c, x, s: _fused_layer(c, x, s, reverse, truncate)
    plain = lambda c, x, s: jax.vmap(
        lambda xi, si: unroll(c, xi, si, reverse=reverse, truncate=truncate)
    )(x, s)
    v1, g1 = jax.value_and_grad(lambda *a: loss(fused, *a), argnums=(0, 1, 2))(cell, xs, state)
    v2, g2 = jax.value_and_grad(lambda *a: loss(plain, *a), argnums=(0, 1, 2))(cell, xs, state)
    assert float(v1) == pytest.approx(float(v2), rel=1e-12)
    for a, b in zip(tree_leaves(g1), tree_leaves(g2), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-10, atol=1e-12)
