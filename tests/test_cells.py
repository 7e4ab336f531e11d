"""Cells against their equations: NumPy references, hand stepping, float64 gradient checks,
and the identities between variants (peepholes at zero, MTRNN at tau = 1)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

import rnnlab

D, H, T = 3, 5, 6


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


# --- The slides' equations in NumPy, float64, written from the docstrings and papers. ---
# Each takes the parameters ``P`` (NumPy arrays by torch's names), the state and one
# input ``x`` (D,), and returns ``(state, y, internals)``.


def np_elman(P, h, x, cell):
    h = np.tanh(P["weight_ih"] @ x + P["bias_ih"] + P["weight_hh"] @ h + P["bias_hh"])
    return h, h, {"h": h}


def np_jordan(P, state, x, cell):
    # Jordan 1986: the context is the state units s = mu s + y (previous output y),
    # not the hidden layer; with mu = 0 the state is y alone.
    s = state if cell.mu == 0 else state[0]
    h = np.tanh(P["weight_ih"] @ x + P["bias_ih"] + P["weight_hh"] @ s + P["bias_hh"])
    y = np.tanh(P["weight_out"] @ h + P["bias_out"])
    if cell.mu == 0:
        return y, y, {"h": h, "y": y}
    s = cell.mu * s + y
    return (s, y), y, {"h": h, "y": y, "s": s}


def _affine(P, x, h, blocks):
    a = P["weight_ih"] @ x + P["bias_ih"] + P["weight_hh"] @ h + P["bias_hh"]
    return np.split(a, blocks)


def np_lstm(P, state, x, cell):
    h, c = state
    a_i, a_f, a_g, a_o = _affine(P, x, h, 4)
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
    c = f * c + i * g
    h = o * np.tanh(c)
    return (h, c), h, {"h": h, "c": c, "i": i, "f": f, "g": g, "o": o}


def np_lstm1997(P, state, x, cell):
    # Hochreiter & Schmidhuber 1997: no forget gate, the carousel keeps c; with
    # squash="paper" their g = 4 sigma - 2 and h = 2 sigma - 1.
    h, c = state
    a_i, a_g, a_o = _affine(P, x, h, 3)
    paper = cell.squash == "paper"
    i, o = sigmoid(a_i), sigmoid(a_o)
    g = 4 * sigmoid(a_g) - 2 if paper else np.tanh(a_g)
    c = c + i * g
    h = o * (2 * sigmoid(c) - 1 if paper else np.tanh(c))
    return (h, c), h, {"h": h, "c": c, "i": i, "g": g, "o": o}


def np_peephole(P, state, x, cell):
    # Gers & Schmidhuber 2000: i, f peek at c(t-1); o peeks at the new c(t).
    h, c_prev = state
    a_i, a_f, a_g, a_o = _affine(P, x, h, 4)
    i = sigmoid(a_i + P["peephole_i"] * c_prev)
    f = sigmoid(a_f + P["peephole_f"] * c_prev)
    g = np.tanh(a_g)
    c = f * c_prev + i * g
    o = sigmoid(a_o + P["peephole_o"] * c)
    h = o * np.tanh(c)
    return (h, c), h, {"h": h, "c": c, "i": i, "f": f, "g": g, "o": o}


def np_cifg(P, state, x, cell):
    # Greff et al. 2017: the input gate is 1 - f.
    h, c = state
    a_f, a_g, a_o = _affine(P, x, h, 3)
    f, g, o = sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
    c = f * c + (1 - f) * g
    h = o * np.tanh(c)
    return (h, c), h, {"h": h, "c": c, "f": f, "g": g, "o": o}


def np_gru(P, h, x, cell):
    # torch.nn.GRUCell: the reset gate scales U_n h + b_hn (after the matmul).
    W, U, b_i, b_h = P["weight_ih"], P["weight_hh"], P["bias_ih"], P["bias_hh"]
    (W_r, W_z, W_n), (U_r, U_z, U_n) = np.split(W, 3), np.split(U, 3)
    (b_ir, b_iz, b_in), (b_hr, b_hz, b_hn) = np.split(b_i, 3), np.split(b_h, 3)
    r = sigmoid(W_r @ x + b_ir + U_r @ h + b_hr)
    z = sigmoid(W_z @ x + b_iz + U_z @ h + b_hz)
    n = np.tanh(W_n @ x + b_in + r * (U_n @ h + b_hn))
    h = (1 - z) * n + z * h
    return h, h, {"h": h, "r": r, "z": z, "n": n}


def np_gru_reset_before(P, h, x, cell):
    # Cho et al. 2014: the reset gate scales h before the matmul.
    W, U, b_i, b_h = P["weight_ih"], P["weight_hh"], P["bias_ih"], P["bias_hh"]
    (W_r, W_z, W_n), (U_r, U_z, U_n) = np.split(W, 3), np.split(U, 3)
    (b_ir, b_iz, b_in), (b_hr, b_hz, b_hn) = np.split(b_i, 3), np.split(b_h, 3)
    r = sigmoid(W_r @ x + b_ir + U_r @ h + b_hr)
    z = sigmoid(W_z @ x + b_iz + U_z @ h + b_hz)
    n = np.tanh(W_n @ x + b_in + U_n @ (r * h) + b_hn)
    h = (1 - z) * n + z * h
    return h, h, {"h": h, "r": r, "z": z, "n": n}


def mtrnn_masks_and_tau(groups, input_size):
    """Yamashita & Tani 2008: input reaches io and fast units; slow and io never touch."""
    n_io, n_fast, n_slow = groups
    io = np.arange(n_io + n_fast + n_slow) < n_io
    slow = np.arange(n_io + n_fast + n_slow) >= n_io + n_fast
    mask_ih = np.repeat(~slow[:, None], input_size, axis=1).astype(float)
    mask_hh = np.ones((len(io), len(io)))
    mask_hh[np.ix_(slow, io)] = 0
    mask_hh[np.ix_(io, slow)] = 0
    tau = np.concatenate([np.full(n_io, 2.0), np.full(n_fast, 5.0), np.full(n_slow, 70.0)])
    return mask_ih, mask_hh, tau


def np_mtrnn(P, u, x, cell):
    mask_ih, mask_hh, tau = mtrnn_masks_and_tau(cell.groups, cell.input_size)
    W, U = P["weight_ih"] * mask_ih, P["weight_hh"] * mask_hh
    u = (1 - 1 / tau) * u + (1 / tau) * (W @ x + U @ np.tanh(u) + P["bias"])
    h = np.tanh(u)
    return u, h, {"u": u, "h": h}


NUMPY_STEP = {
    "elman": np_elman,
    "jordan": np_jordan,
    "jordan_mu": np_jordan,
    "lstm": np_lstm,
    "lstm1997": np_lstm1997,
    "lstm1997_paper": np_lstm1997,
    "peephole": np_peephole,
    "cifg": np_cifg,
    "gru": np_gru,
    "gru_reset_before": np_gru_reset_before,
    "mtrnn": np_mtrnn,
}


def to_np(tree):
    return jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), tree)


def make_case(spec, random_like, seed=0, dtype=jnp.float32, steps=T):
    """A randomized cell, a random sequence (steps, D) and a random initial state."""
    cell = spec.make(D, H, seed, dtype=dtype)
    xs = random_like(jnp.zeros((steps, D), dtype), seed + 100, 1.0)
    state = random_like(cell.init_state(), seed + 200)
    return cell, xs, state


# One compiled function per (cell structure, shapes, options), shared by every test.
unroll = eqx.filter_jit(rnnlab.unroll)


@eqx.filter_jit
def step_by_hand(cell, xs, state):
    ys = []
    for x in xs:  # a Python loop over time, traced once: cell(state, x) step after step
        state, y = cell(state, x)
        ys.append(y)
    return jnp.stack(ys), state


def test_catalogue_covers_every_cell(all_specs):
    assert {s.name for s in all_specs} == set(rnnlab.CELLS)
    assert {s.id for s in all_specs} == set(NUMPY_STEP)


def test_unroll_and_trace_equal_numpy_equations(spec, x64, random_like, close):
    cell, xs, state = make_case(spec, random_like, dtype=jnp.float64)
    ys, final, internals = unroll(cell, xs, state, trace=True)

    P = to_np(spec.params(cell))
    s, ys_ref, trace_ref = to_np(state), [], []
    for x in np.asarray(xs):
        s, y, inside = NUMPY_STEP[spec.id](P, s, x, cell)
        ys_ref.append(y)
        trace_ref.append(inside)
    close(ys, np.stack(ys_ref), rtol=1e-12)
    close(final, s, rtol=1e-12)
    assert set(internals) == set(trace_ref[0])
    for name, values in internals.items():
        close(values, np.stack([step[name] for step in trace_ref]), rtol=1e-12)


def test_hand_stepping_equals_unroll(spec, random_like, close):
    cell, xs, state = make_case(spec, random_like, seed=1)
    ys, final = unroll(cell, xs, state)
    ys_hand, final_hand = step_by_hand(cell, xs, state)
    close(ys, ys_hand, rtol=1e-5)
    close(final, final_hand, rtol=1e-5)


def test_float64_gradients_match_finite_differences(spec, x64, random_like, weighted_sum, close):
    cell, xs, state = make_case(spec, random_like, seed=2, dtype=jnp.float64, steps=4)
    ys0, final0 = unroll(cell, xs, state)
    R, S = random_like(ys0, 3, 1.0), random_like(final0, 4, 1.0)
    flat, unravel = ravel_pytree((spec.params(cell), xs, state))

    def loss(v):
        params, xs, state = unravel(v)
        ys, final = rnnlab.unroll(spec.replace(cell, params), xs, state)
        return weighted_sum(ys, R) + weighted_sum(final, S)

    eps = 1e-6

    @jax.jit
    def grad_and_fd(flat):
        steps = eps * jnp.eye(flat.size)
        plus, minus = jnp.split(jax.vmap(loss)(flat + jnp.concatenate([steps, -steps])), 2)
        fd = (plus - minus) / (2 * eps)
        return jax.grad(loss)(flat), fd

    grad, fd = grad_and_fd(flat)
    assert np.max(np.abs(fd)) > 1e-2
    close(grad, fd, rtol=1e-7)


def test_peephole_with_zero_peepholes_is_lstm(random_like, close, all_specs):
    specs = {s.id: s for s in all_specs}
    peep, xs, state = make_case(specs["peephole"], random_like, seed=4)
    lstm = rnnlab.LSTMCell(D, H, key=jax.random.key(5))
    lstm = specs["lstm"].replace(
        lstm, {n: getattr(peep, n) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    )
    zero = specs["peephole"].replace(
        peep, {n: jnp.zeros(H) for n in ("peephole_i", "peephole_f", "peephole_o")}
    )
    ys, final, inside = unroll(zero, xs, state, trace=True)
    ys_l, final_l, inside_l = unroll(lstm, xs, state, trace=True)
    close((ys, final, inside), (ys_l, final_l, inside_l), rtol=1e-6)
    # ... and the peepholes drawn at random do change the result.
    assert np.max(np.abs(unroll(peep, xs, state)[0] - ys_l)) > 1e-3


def test_mtrnn_with_unit_time_constants_is_elman(random_like, close):
    mtrnn = rnnlab.MTRNNCell(
        D, 7, io_size=2, fast_size=3, slow_size=2, tau=1.0, key=jax.random.key(6)
    )
    # Dense weights: the cell must apply its masks itself.
    W, U, b, xs, u0 = random_like(
        [jnp.zeros((7, D)), jnp.zeros((7, 7)), jnp.zeros(7), jnp.zeros((T, D)), jnp.zeros(7)],
        6,
        1.0,
    )
    mtrnn = eqx.tree_at(lambda c: (c.weight_ih, c.weight_hh, c.bias), mtrnn, (W, U, b))
    mask_ih, mask_hh, _ = mtrnn_masks_and_tau((2, 3, 2), D)
    elman = rnnlab.ElmanCell(D, 7, key=jax.random.key(6))
    elman = eqx.tree_at(
        lambda c: (c.weight_ih, c.weight_hh, c.bias_ih, c.bias_hh),
        elman,
        (W * mask_ih, U * mask_hh, b, jnp.zeros(7)),
    )
    ys, u = unroll(mtrnn, xs, u0)
    ys_e, h = unroll(elman, xs, jnp.tanh(u0))
    close(ys, ys_e, rtol=1e-6)
    close(jnp.tanh(u), h, rtol=1e-6)


def test_mtrnn_defaults_follow_the_paper():
    cell = rnnlab.MTRNNCell(4, key=jax.random.key(7))
    assert cell.groups == (4, 60, 20)
    assert (cell.input_size, cell.hidden_size) == (4, 84)
    expected_tau = np.array([2.0] * 4 + [5.0] * 60 + [70.0] * 20)
    np.testing.assert_array_equal(np.asarray(cell.tau), expected_tau)
    mask_ih, mask_hh, tau = mtrnn_masks_and_tau(cell.groups, 4)
    np.testing.assert_array_equal(tau, expected_tau)
    W, U = np.asarray(cell.weight_ih), np.asarray(cell.weight_hh)
    assert np.all(W[mask_ih == 0] == 0) and np.all(W[mask_ih == 1] != 0)
    assert np.all(U[mask_hh == 0] == 0) and np.all(U[mask_hh == 1] != 0)
    # Given hidden_size instead: no io units, the rest split 3:1 into fast and slow.
    assert rnnlab.MTRNNCell(3, 8, key=jax.random.key(0)).groups == (0, 6, 2)
    with pytest.raises(rnnlab.UserError):
        rnnlab.MTRNNCell(3, 8, io_size=2, fast_size=5, slow_size=5, key=jax.random.key(0))
    with pytest.raises(rnnlab.UserError):
        rnnlab.MTRNNCell(3, 8, tau=0.5, key=jax.random.key(0))


def test_mtrnn_masked_connections_get_no_gradient(random_like):
    cell = rnnlab.MTRNNCell(D, 7, io_size=2, fast_size=3, slow_size=2, key=jax.random.key(8))
    W_other, U_other, xs, R = random_like(
        [jnp.zeros((7, D)), jnp.zeros((7, 7)), jnp.zeros((T, D)), jnp.zeros((T, 7))], 8, 1.0
    )
    masked_ys = unroll(cell, xs)[0]
    # Dense weights that agree with the cell's on the allowed connections: same outputs.
    mask_ih, mask_hh, _ = mtrnn_masks_and_tau(cell.groups, D)
    W = jnp.where(mask_ih == 1, cell.weight_ih, W_other)
    U = jnp.where(mask_hh == 1, cell.weight_hh, U_other)
    dense = eqx.tree_at(lambda c: (c.weight_ih, c.weight_hh), cell, (W, U))
    np.testing.assert_array_equal(unroll(dense, xs)[0], masked_ys)

    grads = jax.jit(jax.grad(lambda c: jnp.sum(rnnlab.unroll(c, xs)[0] * R)))(dense)
    g_ih, g_hh = np.asarray(grads.weight_ih), np.asarray(grads.weight_hh)
    assert np.all(g_ih[mask_ih == 0] == 0) and np.all(g_ih[mask_ih == 1] != 0)
    assert np.all(g_hh[mask_hh == 0] == 0) and np.all(g_hh[mask_hh == 1] != 0)
    # tau and the masks are fixed data, not trained.
    for fixed in (grads.tau, grads.mask_ih, grads.mask_hh):
        assert not np.any(np.asarray(fixed))


def test_mtrnn_paper_form_logistic_units_and_no_io_to_io(random_like, close):
    """nonlinearity="sigmoid", cut_io_io=True against a NumPy step written from the paper's
    equation with logistic units and the io-to-io block of U removed."""
    cell = rnnlab.MTRNNCell(
        D, 7, io_size=2, fast_size=3, slow_size=2, nonlinearity="sigmoid", cut_io_io=True,
        key=jax.random.key(9),
    )  # fmt: skip
    (xs,) = random_like([jnp.zeros((T, D))], 9, 1.0)
    mask_ih, mask_hh, tau = mtrnn_masks_and_tau(cell.groups, D)
    mask_hh[:2, :2] = 0  # io -> io cut
    np.testing.assert_array_equal(np.asarray(cell.mask_hh), mask_hh)
    W, U, b = (np.asarray(a, np.float64) for a in (cell.weight_ih, cell.weight_hh, cell.bias))
    sig = lambda a: 1 / (1 + np.exp(-a))
    u, expected = np.zeros(7), []
    for x in np.asarray(xs, np.float64):
        u = (1 - 1 / tau) * u + (1 / tau) * ((W * mask_ih) @ x + (U * mask_hh) @ sig(u) + b)
        expected.append(sig(u))
    close(unroll(cell, xs)[0], np.stack(expected), rtol=1e-5)
    with pytest.raises(rnnlab.UserError):
        rnnlab.MTRNNCell(3, 8, nonlinearity="relu", key=jax.random.key(0))
