"""rnnlab.reservoir against ReservoirPy 0.4.2 (numpy backend, float64), on the same arrays.

The design of ReservoirPy's own NumPy-vs-JAX tests (PR #240): explicit W, W_in and
bias handed to both sides. The series is rnnlab's RK4 Mackey-Glass (ReservoirPy >= 0.4.1
integrates with a first-order step, so each side's generator would give another series).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rnnlab
from rnnlab import reservoir as rc

rpy_nodes = pytest.importorskip("reservoirpy.nodes")
rpy_obs = pytest.importorskip("reservoirpy.observables")


def tutorial_arrays(seed, N=100):
    """Dense W (N(0, 1) at density 0.1, spectral radius 1.25) and W_in (+-1 at 0.2), the
    shapes of ReservoirPy's tutorial 3, drawn here in NumPy."""
    rng = np.random.default_rng(seed)
    W = (rng.random((N, N)) < 0.1) * rng.standard_normal((N, N))
    W *= 1.25 / np.max(np.abs(np.linalg.eigvals(W)))
    W_in = (rng.random((N, 1)) < 0.2) * np.where(rng.random((N, 1)) < 0.5, -1.0, 1.0)
    return W, W_in


@pytest.fixture(scope="module")
def series():
    X = rc.rescale(rc.mackey_glass(2510))
    x, y = rc.to_forecasting(X, 10)  # (2500, 1) each
    return x[:2000], y[:2000], x[2000:], y[2000:]


@pytest.mark.parametrize("matmul", ["dense", "sparse"])
def test_states_ridge_predictions(x64, series, matmul):
    """(a) states to 1e-12 over 2,000 steps; (b) Ridge(1e-8).fit(warmup=100) weights and
    bias to 1e-8; (c) the test forecast, continuing from the last training state, and its
    NRMSE to 1e-10.

    The end-to-end weight bound is set by conditioning, not by the solver: cond(X^T X +
    1e-8 I) is about 1e9 here, so ReservoirPy's own fit moves by ~1e-9 (relative) when
    its states move by 1e-15 (seed 7 of tutorial_arrays, at 1.2e10, moves 2e-8). Given
    the same states, rnnlab's host solve is ReservoirPy's call and agrees exactly.
    """
    x_tr, y_tr, x_te, y_te = series
    W, W_in = tutorial_arrays(3)
    node = rpy_nodes.Reservoir(W=W, Win=W_in, bias=0.0, lr=0.3)
    cell = rc.ReservoirCell(
        1, W=W, W_in=W_in, bias=0.0, leak_rate=0.3, matmul=matmul, esp_warning=False
    )
    S_rpy = node.run(x_tr)
    S, final = rnnlab.unroll(cell, jnp.asarray(x_tr))
    assert np.max(np.abs(np.asarray(S) - S_rpy)) < 1e-12

    ridge = rpy_nodes.Ridge(1e-8).fit(S_rpy, y_tr, warmup=100)
    esn, final2 = rc.fit(cell, x_tr, y_tr, ridge=1e-8, warmup=100, return_state=True)
    W_out, bias = np.asarray(esn.readout.W_out), np.asarray(esn.readout.bias)
    scale = np.max(np.abs(ridge.Wout))  # about 27
    assert np.max(np.abs(W_out - ridge.Wout)) < 1e-8 * scale
    assert np.max(np.abs(bias - ridge.bias)) < 1e-8
    same = rc.solve_ridge_host(rc.host_stats(S_rpy[100:], y_tr[100:]), 1e-8)
    assert np.max(np.abs(np.asarray(same.W_out) - ridge.Wout)) < 1e-12 * scale

    y_rpy = ridge.run(node.run(x_te))  # node.run continues from its last state
    y_hat, _ = esn(jnp.asarray(x_te), final2)
    assert np.max(np.abs(np.asarray(y_hat) - y_rpy)) < 1e-10
    e_rpy, e = rpy_obs.nrmse(y_te, y_rpy), rc.nrmse(y_te, y_hat)
    assert abs(e - e_rpy) < 1e-10 and e < 0.01
    np.testing.assert_allclose(final, final2, atol=0)


def test_rls_and_lms_step_by_step(x64, series):
    """ReservoirPy's RLS, one partial_fit call per step: weights, bias, P and the returned
    prediction (its quirk: x W' + b with the old bias) equal rnnlab's at every step."""
    x_tr, y_tr, _, _ = series
    W, W_in = tutorial_arrays(3)
    S = rpy_nodes.Reservoir(W=W, Win=W_in, bias=0.0, lr=0.3).run(x_tr[:300])
    node = rpy_nodes.RLS(alpha=1.0)
    r = rc.rls_init(100, 1, alpha=1.0)
    step = jax.jit(lambda r, x, y: rc.rls_step(r, x, y, prediction="reservoirpy"))
    for t in range(300):
        y_rpy = node.partial_fit(S[t : t + 1], y_tr[t : t + 1])
        r, y_hat = step(r, jnp.asarray(S[t]), jnp.asarray(y_tr[t]))
        scale = 1.0 + np.max(np.abs(node.Wout))
        assert np.max(np.abs(np.asarray(r.W_out) - node.Wout)) < 1e-10 * scale, t
        assert np.max(np.abs(np.asarray(r.bias) - node.bias)) < 1e-10 * scale, t
        assert np.max(np.abs(np.asarray(y_hat) - y_rpy[0])) < 1e-10 * scale, t
    assert np.max(np.abs(np.asarray(r.P) - node.P)) < 1e-10 * np.max(np.abs(node.P))
    # the whole sequence in one scan, and the LMS rule
    r2, preds = rc.online_fit(
        rc.rls_init(100, 1, alpha=1.0), S, y_tr[:300], prediction="reservoirpy"
    )
    np.testing.assert_allclose(r2.W_out, r.W_out, atol=1e-10)
    lms = rpy_nodes.LMS(learning_rate=1e-3)
    y_lms = lms.partial_fit(S, y_tr[:300])
    r3, p3 = rc.online_fit(
        rc.lms_init(100, 1), S, y_tr[:300], rule="lms", learning_rate=1e-3, prediction="reservoirpy"
    )
    np.testing.assert_allclose(p3, y_lms, atol=1e-12)
    np.testing.assert_allclose(r3.W_out, lms.Wout, atol=1e-12)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"units": 200, "lr": 0.3, "sr": 1.25, "input_connectivity": 0.2},  # sparse W (CSR)
        {"units": 50, "lr": np.linspace(0.1, 1, 50), "sr": 0.9, "bias": 0.5, "activation": "relu"},
    ],
)
def test_from_reservoirpy(x64, kwargs):
    """The converter reads a node's own arrays (its sparse W, per-unit leak, bias,
    activation): unroll from the zero state gives node.run's states."""
    node = rpy_nodes.Reservoir(seed=11, **kwargs)
    xs = np.random.default_rng(0).standard_normal((500, 3))
    node.initialize(xs)
    cell = rc.from_reservoirpy(node)
    want = node.run(xs)
    got, _ = rnnlab.unroll(cell, jnp.asarray(xs))
    assert np.max(np.abs(np.asarray(got) - want)) < 1e-12
    with pytest.raises(rnnlab.UserError, match="initialise"):
        rc.from_reservoirpy(rpy_nodes.Reservoir(10))


def test_input_to_readout_matches_esn(x64):
    """ReservoirPy's ESN(input_to_readout=True): the readout reads [states, input]."""
    from reservoirpy import ESN

    rng = np.random.default_rng(1)
    W, W_in = tutorial_arrays(5, N=40)
    W_in = np.hstack([W_in, W_in[::-1]])  # two inputs
    xs, ys = rng.standard_normal((300, 2)), rng.standard_normal((300, 1))
    node = rpy_nodes.Reservoir(W=W, Win=W_in, bias=0.0, lr=0.5)
    model = ESN(reservoir=node, readout=rpy_nodes.Ridge(1e-1), input_to_readout=True)
    model.fit(xs[:200], ys[:200], warmup=2)
    cell = rc.ReservoirCell(2, W=W, W_in=W_in, bias=0.0, leak_rate=0.5, esp_warning=False)
    esn, final = rc.fit(
        cell, xs[:200], ys[:200], ridge=1e-1, warmup=2, input_to_readout=True, return_state=True
    )
    y_rpy = model.run(xs[200:])
    y_hat, _ = esn(jnp.asarray(xs[200:]), final)
    assert np.max(np.abs(np.asarray(y_hat) - y_rpy)) < 1e-10
