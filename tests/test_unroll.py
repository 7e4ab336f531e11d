"""The time loop: masks, reverse, truncated BPTT, gradient norms through time, remat,
the stacked bidirectional layer, dropout and bad input."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rnnlab

D, H, T = 3, 5, 12
tree_map = jax.tree_util.tree_map


def make_case(spec, random_like, seed=0, steps=T):
    cell = spec.make(D, H, seed)
    xs = random_like(jnp.zeros((steps, D)), seed + 100, 1.0)
    state = random_like(cell.init_state(), seed + 200)
    return cell, xs, state


def batch_of(tree, B):
    return tree_map(lambda s: jnp.zeros((B,) + s.shape, s.dtype), tree)


# --- masks and reverse ---------------------------------------------------------------

# One compiled function per (cell structure, shapes, options), shared between tests.
unroll_jit = eqx.filter_jit(rnnlab.unroll)


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_masked_batch_equals_each_sequence_alone(spec, reverse, random_like, close):
    lengths = jnp.array([T, 5, 0])
    B = len(lengths)
    cell, _, _ = make_case(spec, random_like, seed=1)
    valid = np.arange(T)[None, :, None] < np.asarray(lengths)[:, None, None]
    # Padding holds garbage, not zeros: it must not leak into outputs or states.
    xs = random_like(jnp.zeros((B, T, D)), 2, 1.0)
    xs = jnp.where(valid, xs, 3.0 + 2.0 * xs[::-1])
    s0 = random_like(batch_of(cell.init_state(), B), 3)

    run = lambda cell, x, s, n: rnnlab.unroll(cell, x, s, lengths=n, reverse=reverse)
    ys, final = eqx.filter_jit(jax.vmap(run, in_axes=(None, 0, 0, 0)))(cell, xs, s0, lengths)
    for b, n in enumerate(np.asarray(lengths)):
        s_b = tree_map(lambda a, b=b: a[b], s0)
        final_b = tree_map(lambda a, b=b: a[b], final)
        np.testing.assert_array_equal(ys[b, n:], 0)
        if n == 0:  # nothing to read: the state passes through untouched
            close(final_b, s_b, rtol=0)
            continue
        ys_ref, final_ref = unroll_jit(cell, xs[b, :n], s_b, reverse=reverse)
        close(ys[b, :n], ys_ref, rtol=1e-5)
        close(final_b, final_ref, rtol=1e-5)


def test_reverse_equals_unrolling_the_flipped_sequence(spec, random_like, close):
    cell, xs, state = make_case(spec, random_like, seed=6)
    ys, final = unroll_jit(cell, xs, state, reverse=True)
    ys_flip, final_flip = unroll_jit(cell, xs[::-1], state, reverse=False)
    close(ys, ys_flip[::-1], rtol=1e-6)
    close(final, final_flip, rtol=1e-6)


# --- truncated BPTT ------------------------------------------------------------------


def stop_gradient_reference(cell, xs, state, k, reverse):
    """Truncated BPTT written out: a Python loop over ``cell(state, x)`` that cuts the
    gradient of the state entering every k-th step (in processing order)."""
    order = range(len(xs) - 1, -1, -1) if reverse else range(len(xs))
    ys = [None] * len(xs)
    for n, t in enumerate(order):
        if n > 0 and n % k == 0:
            state = tree_map(jax.lax.stop_gradient, state)
        state, ys[t] = cell(state, xs[t])
    return jnp.stack(ys), state


@pytest.mark.parametrize("spec", ["elman", "lstm", "mtrnn"], indirect=True)
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_truncation_equals_stop_gradient_reference(spec, reverse, random_like, weighted_sum, close):
    cell, xs, state = make_case(spec, random_like, seed=7)
    R = random_like(jnp.zeros((T, cell.output_size)), 8, 1.0)
    S = random_like(state, 9, 1.0)
    ks = (T, 1, 5, T + 3)  # 5 does not divide T = 12: chunks of 5, 5 and 2

    def loss(run, cell, xs, state):
        ys, final = run(cell, xs, state)
        return weighted_sum(ys, R) + weighted_sum(final, S), (ys, final)

    grad = jax.value_and_grad(loss, argnums=(1, 2, 3), has_aux=True)

    @jax.jit
    def with_unroll(cell, xs, state):
        full = grad(lambda c, x, s: rnnlab.unroll(c, x, s, reverse=reverse), cell, xs, state)
        return full, {
            k: grad(
                lambda c, x, s, k=k: rnnlab.unroll(c, x, s, truncate=k, reverse=reverse),
                cell,
                xs,
                state,
            )
            for k in ks
        }

    @jax.jit
    def with_reference(cell, xs, state):
        return {
            k: grad(
                lambda c, x, s, k=k: stop_gradient_reference(c, x, s, k, reverse), cell, xs, state
            )
            for k in (1, 5)
        }

    ((_, (ys_full, final_full)), g_full), got = with_unroll(cell, xs, state)
    ref = with_reference(cell, xs, state)
    for k in ks:
        (_, (ys, final)), g = got[k]
        # The forward pass is untouched by truncation (up to XLA's fusion choices).
        close((ys, final), (ys_full, final_full), rtol=1e-6)
        if k >= T:  # nothing to cut: exactly full BPTT
            close(g, g_full, rtol=0)
        else:
            close(g, ref[k][1], rtol=1e-5)
            # Not vacuous: the cut gradients differ from full BPTT.
            assert not np.allclose(g[1], g_full[1], rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("spec", ["lstm"], indirect=True)
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_lengths_gradients_equal_each_sequence_alone(spec, reverse, random_like, close):
    """Gradients of a padded sequence, with and without truncation. With truncate=4 and
    length 3, the padding step 4 must not cut: the final state is carried through it."""
    cell, xs, state = make_case(spec, random_like, seed=10, steps=8)
    xs = xs.at[3:].set(5.0)  # garbage padding
    n = 3
    loss = lambda ys, final: jnp.sum(ys**2) + jnp.sum(final[0] * final[1])

    @jax.jit
    def grads(cell, xs):
        out = []
        for k in (None, 4):
            padded = lambda c, x, k=k: loss(
                *rnnlab.unroll(c, x, state, lengths=n, truncate=k, reverse=reverse)
            )
            alone = lambda c, x, k=k: loss(
                *rnnlab.unroll(c, x[:n], state, truncate=k, reverse=reverse)
            )
            out.append(
                (
                    jax.grad(padded, argnums=(0, 1))(cell, xs),
                    jax.grad(alone, argnums=(0, 1))(cell, xs),
                )
            )
        return out

    for (g_cell, g_xs), (g_cell_ref, g_xs_ref) in grads(cell, xs):
        close(g_cell, g_cell_ref, rtol=1e-5)
        close(g_xs, g_xs_ref, rtol=1e-5)  # zero on the padding in both
        assert np.max(np.abs(g_xs_ref)) > 1e-3


@pytest.mark.parametrize("spec", ["lstm", "mtrnn"], indirect=True)
def test_remat_gives_same_outputs_and_gradients(spec, random_like, close):
    cell, xs, state = make_case(spec, random_like, seed=11)
    R = random_like(jnp.zeros((T, cell.output_size)), 12, 1.0)

    @jax.jit
    def run(cell, xs):
        out = {}
        for remat in (False, True):
            f = lambda c, x, remat=remat: rnnlab.unroll(c, x, state, remat=remat, truncate=5)
            out[remat] = (
                jax.value_and_grad(lambda c, x, f=f: jnp.sum(f(c, x)[0] * R), argnums=(0, 1))(
                    cell, xs
                ),
                f(cell, xs),
            )
        return out

    out = run(cell, xs)
    close(out[True], out[False], rtol=1e-6)


# --- gradient norms through time -----------------------------------------------------


HIDDEN_PART = {"lstm": 0, "lstm1997": 0, "peephole": 0, "cifg": 0}  # (h, c) states: h
OUTPUT_OF_STATE = {"mtrnn": jnp.tanh}  # an MTRNN's state is u, its output tanh(u)


# hidden() and output() differ per family: one cell of each.
@pytest.mark.parametrize("spec", ["elman", "jordan", "lstm", "gru", "mtrnn"], indirect=True)
def test_grad_norms_through_time(spec, random_like, close):
    """dL/dh(t) by a hand loop with a zero perturbation added to the state after each step;
    with truncate=k, zero before the last chunk and unchanged inside it."""
    cell, xs, _ = make_case(spec, random_like, seed=13)
    R = random_like(jnp.zeros((T, cell.output_size)), 14, 1.0)
    loss_fn = lambda ys: jnp.sum(ys * R)
    output = OUTPUT_OF_STATE.get(spec.id, lambda s: s[0] if spec.id in HIDDEN_PART else s)

    def perturbed_loss(deltas):
        state, ys = cell.init_state(), []
        for t in range(T):
            state, _ = cell(state, xs[t])
            state = tree_map(lambda s, d, t=t: s + d[t], state, deltas)
            ys.append(output(state))
        return loss_fn(jnp.stack(ys))

    @jax.jit
    def reference():
        g = jax.grad(perturbed_loss)(batch_of(cell.init_state(), T))
        g = g[HIDDEN_PART[spec.id]] if spec.id in HIDDEN_PART else g
        return jnp.linalg.norm(g, axis=-1)

    @eqx.filter_jit
    def norms(loss_fn, truncate):
        return rnnlab.grad_norms_through_time(cell, xs, loss_fn, truncate=truncate)

    close(norms(loss_fn, None), reference(), rtol=1e-5)
    # The default loss, sum(ys[-1]), looks at the last step only.
    full = norms(None, None)
    assert np.all(np.asarray(full) > 0)
    for k, start in ((5, 10), (4, 8)):  # the last chunk starts at 10 (k = 5) or 8 (k = 4)
        cut = norms(None, k)
        np.testing.assert_array_equal(cut[:start], 0)
        close(cut[start:], full[start:], rtol=1e-5)
        assert np.all(np.asarray(cut[start:]) > 0)


@pytest.mark.parametrize("spec", ["elman"], indirect=True)
def test_grad_norms_of_elman_follow_the_chain_rule(spec, random_like, close):
    """dL/dh(t) = dL/dy(t) + U^T [(1 - h(t+1)^2) * dL/dh(t+1)], in NumPy, float64."""
    cell, xs, _ = make_case(spec, random_like, seed=15)
    W, U = np.asarray(cell.weight_ih, float), np.asarray(cell.weight_hh, float)
    b = np.asarray(cell.bias_ih, float) + np.asarray(cell.bias_hh, float)
    hs, h = [], np.zeros(H)
    for x in np.asarray(xs, float):
        h = np.tanh(W @ x + U @ h + b)
        hs.append(h)
    R = np.asarray(random_like(jnp.zeros((T, H)), 16, 1.0), float)
    last_only = np.zeros((T, H))
    last_only[-1] = 1.0  # the default loss, sum(ys[-1])
    for loss_fn, dL_dy in ((None, last_only), (lambda ys: jnp.sum(ys * R), R)):
        delta, expected = dL_dy[-1], [np.linalg.norm(dL_dy[-1])]
        for t in range(T - 2, -1, -1):
            delta = dL_dy[t] + U.T @ ((1 - hs[t + 1] ** 2) * delta)
            expected.append(np.linalg.norm(delta))
        got = rnnlab.grad_norms_through_time(cell, xs, loss_fn)
        close(got, np.array(expected[::-1]), rtol=1e-5)


# --- the RNN layer -------------------------------------------------------------------


def by_hand(cells, x, states):
    """A stack of (forward, backward) cells composed from unroll: (T, D) -> (T, 2H)."""
    finals = []
    for layer, (fwd, bwd) in enumerate(cells):
        ys_f, s_f = rnnlab.unroll(fwd, x, states[2 * layer])
        ys_b, s_b = rnnlab.unroll(bwd, x[::-1], states[2 * layer + 1])
        x = jnp.concatenate([ys_f, ys_b[::-1]], axis=-1)
        finals += [s_f, s_b]
    return x, finals


@pytest.mark.parametrize("batch_first", [True, False])
def test_stacked_bidirectional_layer_equals_composing_unroll(batch_first, random_like, close):
    rnn = rnnlab.RNN(
        "peephole",
        D,
        H,
        num_layers=2,
        bidirectional=True,
        batch_first=batch_first,
        key=jax.random.key(17),
    )
    lengths = np.array([6, 4, 1])
    B, Tp = len(lengths), 6
    xs = random_like(jnp.zeros((B, Tp, D)), 18, 1.0)
    states = random_like(rnn.init_state(B), 19)
    assert len(states) == 4 and states[0][0].shape == (B, H)

    rnn_call = eqx.filter_jit(lambda r, x, s, n: r(x, s, lengths=n))
    x_in = xs if batch_first else jnp.swapaxes(xs, 0, 1)
    ys, finals = rnn_call(rnn, x_in, states, None)
    ys_n, finals_n = rnn_call(rnn, x_in, states, jnp.asarray(lengths))
    if not batch_first:
        ys, ys_n = jnp.swapaxes(ys, 0, 1), jnp.swapaxes(ys_n, 0, 1)
    assert ys.shape == (B, Tp, 2 * H)

    hand = jax.jit(by_hand)
    for b, n in enumerate(lengths):
        s_b = [tree_map(lambda a, b=b: a[b], s) for s in states]
        pick = lambda fs, b=b: [tree_map(lambda a: a[b], s) for s in fs]
        ys_ref, finals_ref = hand(rnn.cells, xs[b], s_b)
        close(ys[b], ys_ref, rtol=1e-5)
        close(pick(finals), finals_ref, rtol=1e-5)
        # With lengths, each sequence is its valid part alone, zeros after.
        ys_ref, finals_ref = hand(rnn.cells, xs[b, :n], s_b)
        close(ys_n[b, :n], ys_ref, rtol=1e-5)
        np.testing.assert_array_equal(ys_n[b, n:], 0)
        close(pick(finals_n), finals_ref, rtol=1e-5)


def test_dropout_between_layers(random_like):
    rnn = rnnlab.RNN("gru", D, H, num_layers=2, dropout=0.5, key=jax.random.key(20))
    plain = rnnlab.RNN(None, D, H, cells=rnn.cells, dropout=0.0)
    xs = random_like(jnp.zeros((2, 5, D)), 21, 1.0)
    call = eqx.filter_jit(lambda r, x, key: r(x, key=key)[0])
    no_dropout = call(plain, xs, None)
    np.testing.assert_array_equal(call(rnn, xs, None), no_dropout)  # evaluation: no key
    k1, k2 = jax.random.key(1), jax.random.key(2)
    y1 = call(rnn, xs, k1)
    np.testing.assert_array_equal(call(rnn, xs, k1), y1)  # deterministic per key
    assert np.max(np.abs(y1 - no_dropout)) > 1e-3
    assert np.max(np.abs(call(rnn, xs, k2) - y1)) > 1e-3
    # As in torch, dropout acts only between layers: none for a single layer.
    single = rnnlab.RNN("gru", D, H, dropout=0.5, key=jax.random.key(20))
    np.testing.assert_array_equal(call(single, xs, k1), call(single, xs, None))


def test_dropout_with_a_key_per_row_does_not_depend_on_the_batch_split(random_like, close):
    """Per-row keys (B,): each row's masks come from its own key, so the whole batch
    gives what its two halves give apart (as when the batch is split across devices)."""
    rnn = rnnlab.RNN("lstm", D, H, num_layers=3, dropout=0.5, key=jax.random.key(24))
    xs = random_like(jnp.zeros((4, 6, D)), 25, 1.0)
    keys = jax.random.split(jax.random.key(26), 4)
    call = eqx.filter_jit(lambda r, x, key: r(x, key=key)[0])
    whole = call(rnn, xs, keys)
    halves = jnp.concatenate([call(rnn, xs[:2], keys[:2]), call(rnn, xs[2:], keys[2:])])
    close(whole, halves, rtol=1e-6)
    # Dropout did act, and a row's masks change with its key only.
    assert np.max(np.abs(whole - call(rnn, xs, None))) > 1e-3
    other = call(rnn, xs, keys.at[0].set(jax.random.key(27)))
    close(other[1:], whole[1:], rtol=1e-6)
    assert np.max(np.abs(other[0] - whole[0])) > 1e-3
    with pytest.raises(rnnlab.UserError):
        rnn(xs, key=keys[:3])


def test_dropout_zeroes_and_rescales_what_the_next_layer_reads(random_like):
    """A second layer that copies its input (identity cell: U = 0, W = I, no bias) shows
    what it read: each unit of layer 0's output either dropped (0) or scaled by 1/(1-p)."""
    p = 0.4
    first = rnnlab.GRUCell(D, H, key=jax.random.key(22))
    copy = rnnlab.ElmanCell(H, H, nonlinearity="identity", use_bias=False, key=jax.random.key(0))
    copy = eqx.tree_at(lambda c: (c.weight_ih, c.weight_hh), copy, (jnp.eye(H), jnp.zeros((H, H))))
    rnn = rnnlab.RNN(None, D, H, cells=((first,), (copy,)), dropout=p)
    xs = random_like(jnp.zeros((3, 8, D)), 23, 1.0)
    layer0 = rnnlab.RNN(None, D, H, cells=((first,),))(xs)[0]
    read = rnn(xs, key=jax.random.key(3))[0]
    kept = read != 0
    np.testing.assert_allclose(read[kept], layer0[kept] / (1 - p), rtol=1e-6)
    assert 0.25 < 1 - kept.mean() < 0.55  # about p of the 120 units dropped


# --- bad input -----------------------------------------------------------------------


def test_bad_input_raises_user_error():
    cell = rnnlab.ElmanCell(D, H, key=jax.random.key(0))
    rnn = rnnlab.RNN("elman", D, H, key=jax.random.key(0))
    bad = [
        lambda: rnnlab.unroll(cell, jnp.zeros((T, D + 1))),  # wrong feature size
        lambda: rnnlab.unroll(cell, jnp.zeros((2, T, D)), jnp.zeros(H)),  # state not batched
        lambda: rnnlab.unroll(cell, jnp.zeros((1, 2, T, D))),
        lambda: rnnlab.unroll(cell, jnp.zeros((T, D)), remat=0),
        lambda: rnnlab.unroll(cell, jnp.zeros((T, D)), remat=2.5),
        lambda: rnnlab.unroll(cell, jnp.zeros(D)),  # one step, no time axis
        lambda: rnnlab.unroll(cell, jnp.zeros((T, D)), truncate=0),
        lambda: rnnlab.unroll(cell, jnp.zeros((T, D)), truncate=-2),
        lambda: rnnlab.unroll(cell, jnp.zeros((T, D)), truncate=2.5),
        lambda: rnnlab.grad_norms_through_time(cell, jnp.zeros((T, D)), truncate=0),
        lambda: rnn(jnp.zeros((T, D))),  # no batch axis
        lambda: rnn(jnp.zeros((2, T, D + 1))),
        lambda: rnn(jnp.zeros((2, T, D)), truncate=0),
        lambda: rnnlab.make_cell("lstm2000", D, H, key=jax.random.key(0)),
        lambda: rnnlab.RNN("lstm2000", D, H, key=jax.random.key(0)),
        lambda: rnnlab.RNN("elman", D, H, key=None),
        lambda: rnnlab.RNN("elman", D, H, num_layers=0, key=jax.random.key(0)),
        lambda: rnnlab.RNN("elman", D, H, dropout=1.0, key=jax.random.key(0)),
        lambda: rnnlab.ElmanCell(D, H, nonlinearity="softplus", key=jax.random.key(0)),
    ]
    for i, make in enumerate(bad):
        with pytest.raises(rnnlab.UserError):
            make()
            pytest.fail(f"case {i} did not raise")


def test_nan_padding_does_not_reach_the_gradients():
    cell = rnnlab.LSTMCell(D, H, key=jax.random.key(0))
    xs = jnp.asarray(np.random.default_rng(0).normal(size=(T, D)), jnp.float32)
    padded = xs.at[3:].set(jnp.nan)
    grad = lambda x, n: jax.grad(lambda c: rnnlab.unroll(c, x, lengths=n)[0].sum())(cell)
    for a, b in zip(
        jax.tree_util.tree_leaves(grad(padded, 3)),
        jax.tree_util.tree_leaves(jax.grad(lambda c: rnnlab.unroll(c, xs[:3])[0].sum())(cell)),
        strict=True,
    ):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7)


def test_mtrnn_tau_of_the_wrong_length_is_a_user_error():
    with pytest.raises(rnnlab.UserError, match="tau"):
        rnnlab.MTRNNCell(D, key=jax.random.key(0), tau=[2.0, 5.0])
