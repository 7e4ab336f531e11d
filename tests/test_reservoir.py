"""rnnlab.reservoir against independent references: NumPy loops, closed forms, exact ODEs."""

import doctest
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rnnlab
from rnnlab import reservoir as rc


def numpy_states(W, W_in, b, lr, xs, x0=None, f=np.tanh):
    """The leaky reservoir, step by step: x = (1 - lr) x + lr f(W_in u + W x + b)."""
    x = np.zeros(W.shape[0]) if x0 is None else x0
    out = []
    for u in xs:
        x = (1 - lr) * x + lr * f(W_in @ u + W @ x + b)
        out.append(x)
    return np.array(out)


def small_cell(matmul="dense", seed=0, H=30, D=2, **kw):
    kw = {"leak_rate": 0.4, "spectral_radius": 0.9, "bias_scaling": 0.3, **kw}
    return rc.ReservoirCell(D, H, matmul=matmul, esp_warning=False, key=seed, **kw)


@pytest.mark.parametrize("matmul", ["dense", "sparse"])
def test_cell_matches_numpy_loop(x64, matmul):
    lr = np.linspace(0.1, 1.0, 30)  # one leak rate per unit
    cell = small_cell(matmul, leak_rate=lr, connectivity=0.2)
    assert cell.sparse == (matmul == "sparse")
    xs = np.random.default_rng(1).standard_normal((40, 2))
    ys, final = rnnlab.unroll(cell, jnp.asarray(xs))
    ref = numpy_states(cell.dense_W(), np.asarray(cell.W_in), np.asarray(cell.bias), lr, xs)
    np.testing.assert_allclose(ys, ref, atol=1e-13)
    np.testing.assert_allclose(final, ref[-1], atol=1e-13)
    # the drawn W has the requested spectral radius and connectivity
    W = cell.dense_W()
    assert abs(np.max(np.abs(np.linalg.eigvals(W))) - 0.9) < 1e-12
    assert np.count_nonzero(W) == round(0.2 * 30 * 30)


def test_lengths_trace_and_deep_esn(x64):
    cell = small_cell()
    xs = np.random.default_rng(2).standard_normal((3, 12, 2))
    lengths = np.array([12, 7, 1])
    ys, final, internals = rnnlab.unroll(cell, jnp.asarray(xs), lengths=lengths, trace=True)
    args = (cell.dense_W(), np.asarray(cell.W_in), np.asarray(cell.bias), 0.4)
    for b, n in enumerate(lengths):
        ref = numpy_states(*args, xs[b, :n])
        np.testing.assert_allclose(ys[b, :n], ref, atol=1e-13)
        np.testing.assert_allclose(internals["x"][b, :n], ref, atol=1e-13)
        np.testing.assert_allclose(final[b], ref[-1], atol=1e-13)
        assert np.all(np.asarray(ys[b, n:]) == 0)
    # stacked: layer 2 reads layer 1's states (a deep ESN)
    deep = rnnlab.RNN(
        rc.ReservoirCell,
        2,
        20,
        num_layers=2,
        key=jax.random.key(3),
        spectral_radius=0.8,
        leak_rate=0.5,
        esp_warning=False,
    )
    out, _ = deep(jnp.asarray(xs))
    (c1,), (c2,) = deep.cells
    for b in range(3):
        h1 = numpy_states(c1.dense_W(), np.asarray(c1.W_in), np.asarray(c1.bias), 0.5, xs[b])
        h2 = numpy_states(c2.dense_W(), np.asarray(c2.W_in), np.asarray(c2.bias), 0.5, h1)
        np.testing.assert_allclose(out[b], h2, atol=1e-13)


def test_echo_state_warning():
    with pytest.warns(rc.EchoStateWarning, match="echo state") as caught:
        loud = rc.ReservoirCell(1, 50, leak_rate=1.0, spectral_radius=1.1, key=0)
    assert loud.echo_state_warning() == str(caught[0].message)  # the CLI's line, the same
    assert "= 1.1 > 1" in str(caught[0].message)  # lr = 1: rho(W) itself
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cell = rc.ReservoirCell(1, 50, leak_rate=0.3, spectral_radius=0.95, key=0)
    lam = np.linalg.eigvals(cell.dense_W().astype(np.float64))
    rho = rc.effective_spectral_radius(cell.dense_W(), 0.3)
    assert abs(rho - np.max(np.abs(0.3 * lam + 0.7))) < 1e-6 and rho < 1
    assert cell.echo_state_warning() is None


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"spectral_radius": 0.0}, "spectral_radius"),
        ({"spectral_radius": -1.0}, "spectral_radius"),
        ({"leak_rate": 0.0}, "leak_rate"),
        ({"leak_rate": 1.5}, "leak_rate"),
        ({"connectivity": 0.0}, "connectivity"),
        ({"connectivity": 1.2}, "connectivity"),
        ({"input_connectivity": 0.0}, "input_connectivity"),
        ({"units": 10**7}, "units"),
        ({"matmul": "csr"}, "matmul"),
        ({"nonlinearity": "softsign"}, "activation"),
    ],
)
def test_bad_settings_are_user_errors(kwargs, match):
    units = kwargs.pop("units", 20)
    with pytest.raises(rnnlab.UserError, match=match):
        rc.ReservoirCell(1, units, key=0, **kwargs)


def test_ridge_conventions_against_closed_forms(x64):
    rng = np.random.default_rng(4)
    X, Y = rng.standard_normal((200, 6)), rng.standard_normal((200, 2))
    Y += X @ rng.standard_normal((6, 2)) + 3.0
    # ridge 0, centred: ordinary least squares with an intercept
    ones = np.hstack([X, np.ones((200, 1))])
    ols = np.linalg.lstsq(ones, Y, rcond=None)[0]
    r = rc.solve_ridge_host(rc.host_stats(X, Y), 0.0)
    np.testing.assert_allclose(r.W_out, ols[:6], atol=1e-12)
    np.testing.assert_allclose(r.bias, ols[6], atol=1e-12)
    # centred, ridge 2: the bias is not penalised
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    W = np.linalg.solve(Xc.T @ Xc + 2 * np.eye(6), Xc.T @ Yc)
    r = rc.solve_ridge_host(rc.host_stats(X, Y), 2.0)
    np.testing.assert_allclose(r.W_out, W, atol=1e-12)
    np.testing.assert_allclose(r.bias, Y.mean(0) - X.mean(0) @ W, atol=1e-12)
    # regularised: the ones column penalised too; none: no bias
    Wr = np.linalg.solve(ones.T @ ones + 2 * np.eye(7), ones.T @ Y)
    r = rc.solve_ridge_host(rc.host_stats(X, Y), 2.0, bias="regularised")
    np.testing.assert_allclose(np.vstack([r.W_out, r.bias[None]]), Wr, atol=1e-12)
    Wn = np.linalg.solve(X.T @ X + 2 * np.eye(6), X.T @ Y)
    r = rc.solve_ridge_host(rc.host_stats(X, Y), 2.0, bias="none")
    np.testing.assert_allclose(r.W_out, Wn, atol=1e-12)
    # the traceable solve on device-accumulated sums agrees, in every convention
    for bias in ("centred", "regularised", "none"):
        a = rc.solve_ridge(rc.ridge_stats(jnp.asarray(X), jnp.asarray(Y)), 2.0, bias=bias)
        b = rc.solve_ridge_host(rc.host_stats(X, Y), 2.0, bias=bias)
        np.testing.assert_allclose(a.W_out, b.W_out, atol=1e-10)
        np.testing.assert_allclose(a.bias, b.bias, atol=1e-10)


def test_fit_batch_by_batch_equals_one_pass(x64, monkeypatch):
    cell = small_cell()
    rng = np.random.default_rng(5)
    xs, ys = rng.standard_normal((6, 15, 2)), rng.standard_normal((6, 15, 1))
    lengths = np.array([15, 9, 15, 4, 12, 15])
    whole = rc.fit(cell, xs, ys, ridge=1e-3, warmup=3, lengths=lengths)
    parts = [(xs[i : i + 2], ys[i : i + 2], lengths[i : i + 2]) for i in range(0, 6, 2)]
    batched = rc.fit(cell, parts, ridge=1e-3, warmup=3)
    np.testing.assert_allclose(batched.readout.W_out, whole.readout.W_out, atol=1e-10)
    # the same fit by hand: states from NumPy, rows past warm-up and before the end
    args = (cell.dense_W(), np.asarray(cell.W_in), np.asarray(cell.bias), 0.4)
    S = [numpy_states(*args, xs[b, :n])[3:] for b, n in enumerate(lengths)]
    T = [ys[b, 3:n] for b, n in enumerate(lengths)]
    S, T = np.concatenate(S), np.concatenate(T)
    Sc, Tc = S - S.mean(0), T - T.mean(0)
    W = np.linalg.solve(Sc.T @ Sc + 1e-3 * np.eye(30), Sc.T @ Tc)
    np.testing.assert_allclose(whole.readout.W_out, W, atol=1e-9)
    # the host sums block by block along time (2 steps a block: blocks cross the warm-up
    # and the ends of sequences), in float64, then with float32 products
    monkeypatch.setattr("rnnlab.reservoir._esn.BLOCK_ROWS", 10)
    blocks = rc.fit(cell, xs, ys, ridge=1e-3, warmup=3, lengths=lengths)
    np.testing.assert_allclose(blocks.readout.W_out, W, atol=1e-9)
    fast = rc.fit(cell, xs, ys, ridge=1e-3, warmup=3, lengths=lengths, sums="float32")
    np.testing.assert_allclose(fast.readout.W_out, W, atol=2e-3 * np.abs(W).max())
    assert not np.allclose(fast.readout.W_out, W, atol=1e-12)  # float32 products indeed


def test_singular_ridge_and_empty_fit_are_user_errors(x64):
    X = np.ones((50, 3))  # constant features: centred, X^T X is zero
    with pytest.raises(rnnlab.UserError, match="ridge > 0"):
        rc.solve_ridge_host(rc.host_stats(X, X[:, :1]), 0.0)
    cell = small_cell()
    with pytest.raises(rnnlab.UserError, match="warm-up"):
        rc.fit(cell, np.zeros((5, 2)), np.zeros((5, 1)), ridge=1.0, warmup=5)


def test_rls_converges_to_ridge_and_lms_matches_loop(x64):
    """RLS from P0 = I / alpha minimises sum e^2 + alpha |W|^2: after T steps (forgetting 1,
    no bias) its weights are the ridge solution with ridge alpha."""
    rng = np.random.default_rng(6)
    X, Y = rng.standard_normal((300, 5)), rng.standard_normal((300, 2))
    r, pred = rc.online_fit(rc.rls_init(5, 2, alpha=0.5), X, Y, fit_bias=False)
    W = np.linalg.solve(X.T @ X + 0.5 * np.eye(5), X.T @ Y)
    np.testing.assert_allclose(r.W_out, W, atol=1e-10)
    # LMS: a NumPy loop of the Widrow-Hoff rule
    r, pred = rc.online_fit(rc.lms_init(5, 2), X, Y, rule="lms", learning_rate=0.01)
    Wl, bl, ref = np.zeros((5, 2)), np.zeros(2), []
    for x, y in zip(X, Y, strict=True):
        ref.append(x @ Wl + bl)
        e = ref[-1] - y
        Wl, bl = Wl - 0.01 * np.outer(x, e), bl - 0.01 * e
    np.testing.assert_allclose(pred, np.array(ref), atol=1e-12)
    np.testing.assert_allclose(r.W_out, Wl, atol=1e-12)


def test_force_learns_a_sine_generator(x64):
    """FORCE (RLS with the output fed back): after training on a sine, the loop runs
    freely and keeps producing it."""
    cell = rc.ReservoirCell(
        1, 200, leak_rate=0.3, spectral_radius=1.2, input_connectivity=1.0, esp_warning=False, key=7
    )
    T = 1500
    target = np.sin(2 * np.pi * np.arange(2 * T) / 50)[:, None]
    none = np.zeros((2 * T, 0))
    state, r, z = rc.force(cell, rc.rls_init(200, 1, alpha=0.1), none[:T], target[:T])
    assert np.sqrt(np.mean((z[-200:] - target[T - 200 : T]) ** 2)) < 0.02
    _, _, z_free = rc.force(cell, r, none[T:], target[T:], state, train=False)
    assert np.sqrt(np.mean((z_free - target[T:]) ** 2)) < 0.1  # 30 periods, unaided


def test_search_scores_as_fit_does(x64):
    X = rc.rescale(rc.mackey_glass(700))
    x, y = rc.to_forecasting(X, 5)
    train, test = (x[:500], y[:500]), (x[500:], y[500:])
    trials = rc.random_trials(
        4, seed=1, spectral_radius=(0.5, 1.3), leak_rate=(0.2, 1.0), ridge=(1e-7, 1e-3)
    )
    res = rc.search(train, test, trials, units=40, seeds=[3, 4], input_connectivity=0.5, warmup=20)
    assert res.loss.shape == (4, 2)
    for i in (0, 3):
        for j, seed in enumerate([3, 4]):
            rng = np.random.default_rng(seed)
            W, W_in, _ = rc._matrices.draw(40, 1, connectivity=0.1, input_connectivity=0.5, rng=rng)
            cell = rc.ReservoirCell(
                1,
                W=W,
                W_in=W_in * trials["input_scaling"][i],
                bias=0.0,
                spectral_radius=trials["spectral_radius"][i],
                leak_rate=trials["leak_rate"][i],
                esp_warning=False,
            )
            esn, final = rc.fit(
                cell, *train, ridge=trials["ridge"][i], warmup=20, return_state=True
            )
            want = rc.nrmse(test[1], esn(jnp.asarray(test[0]), final)[0])
            assert abs(res.loss[i, j] - want) < 1e-8 * max(1.0, want)
    assert res.best["trial"] == int(np.argmin(res.loss.mean(1)))
    # the sparse layout (padded per seed) and vmapped chunks score the same
    kw = dict(units=40, seeds=[3, 4], input_connectivity=0.5, warmup=20)
    res2 = rc.search(train, test, trials, **kw, matmul="sparse", chunk=3)
    np.testing.assert_allclose(res2.loss, res.loss, rtol=1e-7)  # summation order


def test_mackey_glass_is_rk4():
    """With a = 0 the equation is dx/dt = -b x: RK4's relative error per step is (bh)^5 / 120,
    so at most 3e-7 here (n steps: n 8.3e-8 exp(-0.1 n)); a first-order step, 1e-3."""
    x = rc.mackey_glass(100, a=0.0, b=0.1, x0=1.0)[:, 0]
    exact = np.exp(-0.1 * np.arange(100))
    assert np.max(np.abs(x - exact)) < 1e-6
    # with the default history (seed 5555), ReservoirPy 0.4.0's RK4 series starts so (its
    # _mg_rk4 re-run in shared research notes, online-learning-and-reservoirs.md, 2.4)
    x = rc.mackey_glass(3)[:, 0]
    np.testing.assert_allclose(x, [1.2, 1.135497, 1.057360], atol=1e-6)
    with pytest.raises(rnnlab.UserError, match="history"):
        rc.mackey_glass(10, history=[1.0, 1.1])
    assert abs(rc.nrmse([[0.0], [2.0]], [[1.0], [1.0]]) - 0.5) < 1e-15


def test_docstring_examples_run():
    for module in (rc._cell, rc._esn):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__
