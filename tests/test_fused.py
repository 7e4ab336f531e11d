"""unroll's fast path (the hand-written derivative of the pointwise form) against plain
autodiff of the same loop: same outputs, final states and gradients, with masks,
reverse, truncation and remat; the opt-in ``additive`` shortcut verified per cell."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import SPECS

from rnnlab.unroll import _fast_form, _run

FAST = [s for s in SPECS if s.name in ("elman", "lstm", "lstm1997", "peephole", "cifg")]
FAST += [s for s in SPECS if s.name == "gru" and s.kwargs.get("reset_after", True)]
ADDITIVE = [s for s in FAST if s.name != "gru"]
tree_leaves = jax.tree_util.tree_leaves


def test_which_cells_take_the_fast_path():
    assert {s.name for s in FAST} == {"elman", "lstm", "lstm1997", "peephole", "cifg", "gru"}
    for s in SPECS:
        cell = s.make(2, 3, 0)
        assert _fast_form(cell) == (s in FAST), s.id
        assert getattr(cell, "additive", False) == (s in ADDITIVE), s.id


def run(path, cell, xs, state, **kw):
    """unroll through its fast path, or forced onto plain autodiff (``trace=True`` takes
    it; the internals are dropped)."""
    ys, final, _ = _run(cell, xs, state, trace=path == "autodiff", deltas=None, **kw)
    return ys, final


@pytest.mark.parametrize("spec", FAST, ids=[s.id for s in FAST])
@pytest.mark.parametrize(
    "reverse, truncate, lengths, remat",
    [(False, None, False, False), (True, 3, True, False), (False, 3, True, 3)],
    ids=["plain", "reverse-truncate-lengths", "truncate-lengths-remat"],
)
def test_fast_path_equals_autodiff(x64, spec, reverse, truncate, lengths, remat):
    B, T, D, H = 3, 8, 2, 4
    cell = spec.make(D, H, seed=1, dtype=jnp.float64)
    rng = np.random.default_rng(0)
    xs = jnp.asarray(rng.normal(size=(B, T, D)))
    state = jax.tree_util.tree_map(
        lambda s: jnp.asarray(rng.normal(size=(B,) + s.shape)), cell.init_state()
    )
    w = jnp.asarray(rng.normal(size=(B, T, H)))
    n = jnp.array([8, 5, 0]) if lengths else None
    kw = dict(lengths=n, reverse=reverse, truncate=truncate, remat=remat)

    @eqx.filter_jit
    def value_and_grads(path, cell, xs, state):
        def loss(cell, xs, state):
            ys, final = run(path, cell, xs, state, **kw)
            return jnp.sum(ys * w) + sum(jnp.sum(leaf**2) for leaf in tree_leaves(final))

        return jax.value_and_grad(loss, argnums=(0, 1, 2))(cell, xs, state)

    v1, g1 = value_and_grads("fast", cell, xs, state)
    v2, g2 = value_and_grads("autodiff", cell, xs, state)
    assert float(v1) == pytest.approx(float(v2), rel=1e-12)
    for a, b in zip(tree_leaves(g1), tree_leaves(g2), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-10, atol=1e-12)
    assert np.max(np.abs(np.asarray(g1[0].weight_hh))) > 1e-3
