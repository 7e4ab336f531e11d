"""The spiking cells against a NumPy simulation of their equations; their surrogate
gradient against finite differences of the smoothed function it stands for; their spikes
read by rnnlab.spikes; the evidence-accumulation task's data."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rnnlab
from rnnlab import learn, spikes
from rnnlab.cells.spiking import ALIFCell, LIFCell, spike_trains

D, H, T = 4, 6, 60


def numpy_alif(P, xs, alpha, rho, beta, v_th, adaptive):
    """v = alpha v + W x + U z + b - v_th z;  a = rho a + z;  z = [v >= v_th + beta a]."""
    v, z, a = np.zeros(H), np.zeros(H), np.zeros(H)
    vs, zs = [], []
    for x in xs:
        if adaptive:
            a = rho * a + z
        v = alpha * v + P["weight_ih"] @ x + P["weight_hh"] @ z + P["bias"] - v_th * z
        z = (v - (v_th + beta * a if adaptive else v_th) >= 0).astype(float)
        vs.append(v)
        zs.append(z)
    return np.array(vs), np.array(zs)


def spiking_cell(kind, seed, use_bias=True):
    kw = dict(tau=5.0, threshold=0.8, use_bias=use_bias, key=jax.random.key(seed))
    cell = (
        LIFCell(D, H, **kw) if kind == "lif" else ALIFCell(D, H, tau_adaptation=8.0, beta=0.7, **kw)
    )
    rng = np.random.default_rng(seed)
    new = (
        jnp.asarray(0.6 + 0.4 * rng.normal(size=(H, D))),
        jnp.asarray(0.4 * rng.normal(size=(H, H))),
    )
    cell = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), cell)
    cell = eqx.tree_at(lambda c: (c.weight_ih, c.weight_hh), cell, new)
    if use_bias:
        cell = eqx.tree_at(lambda c: c.bias_ih, cell, jnp.asarray(0.1 * rng.normal(size=H)))
    return cell


@pytest.mark.parametrize("kind", ["lif", "alif"])
def test_spiking_cell_equals_numpy_simulation(kind, x64):
    cell = spiking_cell(kind, 0)
    xs = (np.random.default_rng(1).random((T, D)) < 0.3).astype(np.float64)
    zs, final, internals = rnnlab.unroll(cell, jnp.asarray(xs), trace=True)
    P = {n: np.asarray(getattr(cell, n)) for n in ("weight_ih", "weight_hh")}
    P["bias"] = np.asarray(cell.bias_ih + cell.bias_hh)
    beta = getattr(cell, "beta", 0.0)
    rho = getattr(cell, "rho", 0.0)
    v_ref, z_ref = numpy_alif(P, xs, cell.alpha, rho, beta, cell.v_th, kind == "alif")
    np.testing.assert_allclose(np.asarray(internals["v"]), v_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(np.asarray(zs), z_ref)
    assert 5 < z_ref.sum() < 0.8 * z_ref.size  # spiking, not saturated
    assert np.isclose(cell.alpha, np.exp(-1 / 5.0))


def smooth_step(params, v, z, z_reset, x, cell):
    """One LIF step with the threshold replaced by the function whose derivative the
    surrogate is, ``damping * sigma(slope a)``; the reset uses ``z_reset`` (constant)."""
    W, U = params
    v = cell.alpha * v + W @ x + U @ z - cell.v_th * z_reset
    a = (v - cell.v_th) / cell.v_th
    return cell.damping / (1 + np.exp(-cell.slope * a))


def test_surrogate_gradient_equals_finite_differences_of_the_smoothed_step(x64):
    cell = spiking_cell("lif", 2, use_bias=False)
    rng = np.random.default_rng(3)
    v, z, x = rng.normal(size=H), (rng.random(H) < 0.5) * 1.0, rng.random(D)
    w = rng.normal(size=H)
    loss = lambda c, v, z: jnp.dot(c((v, z), x)[1], w)
    g_cell, g_v, g_z = jax.grad(loss, argnums=(0, 1, 2))(cell, jnp.asarray(v), jnp.asarray(z))
    params = [np.asarray(cell.weight_ih), np.asarray(cell.weight_hh)]
    f = lambda params, v, z: smooth_step(params, v, z, z_ref, x, cell) @ w
    z_ref, eps = z.copy(), 1e-6

    def fd(get, shape):
        out = np.zeros(shape)
        for i in np.ndindex(shape):
            (p_plus, v_plus, z_plus), (p_minus, v_minus, z_minus) = get(i, eps), get(i, -eps)
            out[i] = (f(p_plus, v_plus, z_plus) - f(p_minus, v_minus, z_minus)) / (2 * eps)
        return out

    def bump(k):
        def get(i, e):
            ps, vv, zz = [p.copy() for p in params], v.copy(), z.copy()
            target = (ps[0], ps[1], vv, zz)[k]
            target[i] += e
            return ps, vv, zz

        return get

    for k, got in enumerate((g_cell.weight_ih, g_cell.weight_hh, g_v, g_z)):
        ref = fd(bump(k), np.shape(got))
        np.testing.assert_allclose(np.asarray(got), ref, rtol=1e-6, atol=1e-9)
        assert np.abs(ref).max() > 1e-3


def test_spikes_read_by_rnnlab_spikes(x64):
    cell = spiking_cell("alif", 4)
    xs = (np.random.default_rng(5).random((T, D)) < 0.3).astype(np.float64)
    zs = np.asarray(rnnlab.unroll(cell, jnp.asarray(xs))[0])
    trains = spike_trains(zs, dt=0.01)
    assert [len(t) for t in trains] == zs.sum(0).astype(int).tolist()
    _, counts = spikes.time_histogram(trains, 0.1, 0.0, T * 0.01)
    np.testing.assert_array_equal(counts, zs.reshape(T // 10, 10, H).sum((1, 2)))
    with pytest.raises(rnnlab.UserError, match="dt must be"):
        spike_trains(zs, dt=0.0)


def test_evidence_accumulation_data():
    d = learn.evidence_accumulation(400, n_cues=5, group=6, seed=0)
    n, T_, C = d.x.shape
    assert (n, C) == (400, 24) and T_ == 5 * 15 + 50 + 10 and d.decision.sum() == 10
    np.testing.assert_array_equal(d.label, (d.cues.sum(1) >= 3).astype(int))
    left, right, recall, noise = d.x.reshape(n, T_, 4, 6).mean(3).transpose(2, 0, 1)
    first = slice(0, 10)  # the first cue
    on_right = d.cues[:, 0] == 1
    assert abs(right[on_right, first].mean() - 0.4) < 0.03 and right[~on_right, first].max() == 0
    assert abs(left[~on_right, first].mean() - 0.4) < 0.03 and left[on_right, first].max() == 0
    assert recall[:, ~d.decision].max() == 0 and abs(recall[:, d.decision].mean() - 0.4) < 0.03
    assert abs(noise.mean() - 0.05) < 0.01
    with pytest.raises(rnnlab.UserError, match="n_cues must be odd"):
        learn.evidence_accumulation(2, n_cues=4)
    with pytest.raises(rnnlab.UserError, match="exceed"):
        learn.evidence_accumulation(10**7)
