"""The papers' options of three cells: LSTM1997's squashing functions, Jordan's state-unit
self-loop, the MTRNN's trainable initial state; each against an independent reference."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rnnlab
from rnnlab.unroll import _fast_form

D, H, T = 3, 4, 7
unroll = eqx.filter_jit(rnnlab.unroll)


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def to_np(cell, names):
    return {n: np.asarray(getattr(cell, n), np.float64) for n in names}


def test_lstm1997_paper_squash_equals_numpy_and_keeps_the_fast_path(x64, random_like, close):
    cell = rnnlab.LSTM1997Cell(D, H, squash="paper", key=jax.random.key(0))
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    # Large weights and inputs, so that c leaves [-1, 1] and the ranges below are tested.
    params = random_like([getattr(cell, n) for n in names], 0, 2.0)
    cell = eqx.tree_at(lambda c: [getattr(c, n) for n in names], cell, params)
    cell = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), cell)
    xs = random_like(jnp.zeros((T, D), jnp.float64), 1, 3.0)
    ys, (h_T, c_T), inside = unroll(cell, xs, trace=True)

    # Hochreiter & Schmidhuber 1997: c += y_in g(net_c), y_c = y_out h(c), with their
    # g = 4 sigma - 2 and h = 2 sigma - 1; the gates i, o are logistic.
    P = to_np(cell, names)
    h, c, ys_ref, gs = np.zeros(H), np.zeros(H), [], []
    for x in np.asarray(xs):
        a = P["weight_ih"] @ x + P["bias_ih"] + P["weight_hh"] @ h + P["bias_hh"]
        a_i, a_g, a_o = np.split(a, 3)
        g = 4 * sigmoid(a_g) - 2
        c = c + sigmoid(a_i) * g
        h = sigmoid(a_o) * (2 * sigmoid(c) - 1)
        ys_ref.append(h), gs.append(g)
    close(ys, np.stack(ys_ref), rtol=1e-12)
    close((h_T, c_T), (h, c), rtol=1e-12)
    close(inside["g"], np.stack(gs), rtol=1e-12)
    assert np.max(np.abs(np.stack(gs))) > 1.2  # beyond tanh's range: the paper's [-2, 2]
    assert np.max(np.abs(c)) > 1.0

    # The tanh default with the same weights is a different cell.
    tanh_cell = rnnlab.LSTM1997Cell(D, H, key=jax.random.key(0))
    tanh_cell = eqx.tree_at(lambda c: [getattr(c, n) for n in names], tanh_cell, params)
    tanh_cell = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), tanh_cell)
    assert np.max(np.abs(unroll(tanh_cell, xs)[0] - ys)) > 1e-2
    # Still additive and pointwise: the fast path, with autodiff's gradients.
    assert _fast_form(cell)
    assert rnnlab.check_cell(cell, key=jax.random.key(2), rtol=1e-9) < 1e-9
    with pytest.raises(rnnlab.UserError):
        rnnlab.LSTM1997Cell(D, H, squash="sigmoid", key=jax.random.key(0))


def test_jordan_state_units_with_self_loop_equal_numpy(x64, random_like, close):
    mu = 0.7
    cell = rnnlab.JordanCell(D, 5, output_size=H, mu=mu, key=jax.random.key(3))
    cell = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), cell)
    xs = random_like(jnp.zeros((T, D), jnp.float64), 3, 1.0)
    ys, (s_T, y_T), inside = unroll(cell, xs, trace=True)

    # Jordan 1986: state units s_t = mu s_{t-1} + y_{t-1} feed the hidden layer.
    P = to_np(cell, ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_out", "bias_out"))
    s, y, ys_ref = np.zeros(H), np.zeros(H), []
    for x in np.asarray(xs):
        s = mu * s + y
        h = np.tanh(P["weight_ih"] @ x + P["bias_ih"] + P["weight_hh"] @ s + P["bias_hh"])
        y = np.tanh(P["weight_out"] @ h + P["bias_out"])
        ys_ref.append(y)
    close(ys, np.stack(ys_ref), rtol=1e-12)
    close((s_T, y_T), (mu * s + y, y), rtol=1e-12)  # carried: the next step's s
    close(inside["s"][-1], s_T, rtol=1e-12)
    assert cell.output((s_T, y_T)) is y_T

    # mu = 0 is the plain Jordan cell: the state is y alone, the outputs differ.
    plain = rnnlab.JordanCell(D, 5, output_size=H, key=jax.random.key(3))
    plain = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), plain)
    ys0, y0 = unroll(plain, xs)
    close(y0, ys0[-1], rtol=0)
    assert np.max(np.abs(ys0 - ys)) > 1e-3


def test_mtrnn_trainable_initial_state_gets_the_finite_difference_gradient(x64, random_like):
    cell = rnnlab.MTRNNCell(D, 7, io_size=2, learn_initial_state=True, key=jax.random.key(4))
    assert rnnlab.MTRNNCell(D, 7, key=jax.random.key(4)).initial_state is None
    np.testing.assert_array_equal(cell.init_state(), np.zeros(7))
    u0, xs, R = random_like([jnp.zeros(7), jnp.zeros((2, T, D)), jnp.zeros((2, T, 7))], 4, 1.0)
    cell = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), cell)
    cell = eqx.tree_at(lambda c: c.initial_state, cell, u0.astype(jnp.float64))
    xs, R = xs.astype(jnp.float64), R.astype(jnp.float64)

    def loss(u0):  # unroll with no state: it starts from init_state, the trained u_0
        c = eqx.tree_at(lambda c: c.initial_state, cell, u0)
        return jnp.sum(rnnlab.unroll(c, xs)[0] * R)

    loss_jit, grad = jax.jit(loss), jax.jit(jax.grad(loss))(cell.initial_state)
    grad_of_cell = eqx.filter_jit(eqx.filter_grad(lambda c: jnp.sum(rnnlab.unroll(c, xs)[0] * R)))
    np.testing.assert_allclose(grad_of_cell(cell).initial_state, grad, rtol=1e-12)
    eps, eye = 1e-6, np.eye(7)
    fd = np.array(
        [
            (loss_jit(cell.initial_state + eps * e) - loss_jit(cell.initial_state - eps * e))
            / (2 * eps)
            for e in eye
        ]
    )
    assert np.all(np.abs(grad) > 1e-3)  # every unit's u_0 reaches the outputs
    np.testing.assert_allclose(grad, fd, rtol=1e-7, atol=1e-9)
