"""Online learning on a stream: RTRL with an update after every step equals, step for
step, a hand-written NumPy loop of Williams & Zipser's online algorithm for a small
Elman net with a linear readout (two rows, each with its own influence matrices, the
stream cut into two batches); the engine-facing step sums its rows; the BPTT learner's
truncation sees exactly its last k steps."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

import rnnlab
from rnnlab import learn

B, T, D, H, K, LR = 2, 10, 2, 3, 2, 0.05


def numpy_online_rtrl(P, xs, targets):
    """Williams & Zipser (1989), online: after every step, SGD on the mean over rows of
    0.5 |V h + c - target|^2, each row carrying dh/dW, dh/dU, dh/db forward."""
    P = {k: v.copy() for k, v in P.items()}
    h = np.zeros((B, H))
    JW, JU, Jb = np.zeros((B, H, H, D)), np.zeros((B, H, H, H)), np.zeros((B, H, H))
    history = []
    for t in range(xs.shape[1]):
        W, U, V = P["weight_ih"], P["weight_hh"], P["readout_w"]
        grads = {k: np.zeros_like(v) for k, v in P.items()}
        for r in range(B):
            x, h_prev = xs[r, t], h[r].copy()
            a = W @ x + P["bias_ih"] + U @ h_prev + P["bias_hh"]
            h[r] = np.tanh(a)
            dphi = 1 - h[r] ** 2
            eye = np.eye(H)
            JW[r] = dphi[:, None, None] * (np.einsum("im,mkj->ikj", U, JW[r]) + eye[:, :, None] * x)
            JU[r] = dphi[:, None, None] * (
                np.einsum("im,mkj->ikj", U, JU[r]) + eye[:, :, None] * h_prev
            )
            Jb[r] = dphi[:, None] * (U @ Jb[r] + eye)
            e = V @ h[r] + P["readout_b"] - targets[r, t]  # (K,)
            dh = V.T @ e
            grads["weight_ih"] += np.einsum("i,ikj->kj", dh, JW[r]) / B
            grads["weight_hh"] += np.einsum("i,ikj->kj", dh, JU[r]) / B
            grads["bias_ih"] += dh @ Jb[r] / B
            grads["bias_hh"] += dh @ Jb[r] / B
            grads["readout_w"] += np.outer(e, h[r]) / B
            grads["readout_b"] += e / B
        P = {k: P[k] - LR * grads[k] for k in P}
        history.append(P)
    return history


def as_numpy(net):
    c, r = net.cell, net.readout
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    P = {n: np.asarray(getattr(c, n), np.float64) for n in names}
    P["readout_w"], P["readout_b"] = np.asarray(r.weight), np.asarray(r.bias)
    return P


def setup(random_like):
    cell = rnnlab.ElmanCell(D, H, key=jax.random.key(0))
    net = learn.Network(cell, out_size=K, key=jax.random.key(1))
    net = random_like(jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), net), 2)
    xs = np.asarray(random_like(jnp.zeros((B, T, D), jnp.float64), 3, 1.0))
    targets = np.asarray(random_like(jnp.zeros((B, T, K), jnp.float64), 4, 1.0))
    return net, xs, targets


def squared(outs, target):
    return 0.5 * jnp.sum((outs - target) ** 2), outs.shape[0]


def test_online_rtrl_equals_a_numpy_loop_step_for_step(x64, random_like):
    net, xs, targets = setup(random_like)
    expected = numpy_online_rtrl(as_numpy(net), xs, targets)
    learner = learn.RTRL()
    params, static = eqx.partition(net, eqx.is_inexact_array)
    step = jax.jit(learn.make_step(learner, squared, static))
    carry = learn.init_carry(learner, net, B)
    for t in range(T):
        chunk = (xs[:, t : t + 1], targets[:, t : t + 1])
        grads, carry, (loss, count) = step(carry, params, chunk)
        assert int(count) == B
        params = jax.tree_util.tree_map(lambda p, g, n=count: p - LR * g / n, params, grads)
        got = as_numpy(eqx.combine(params, static))
        for name, value in expected[t].items():
            np.testing.assert_allclose(got[name], value, rtol=1e-10, atol=1e-12, err_msg=name)
    # The same stream through train_online: two batches of T/2 steps, carried over.
    halves = [(xs[:, : T // 2], targets[:, : T // 2]), (xs[:, T // 2 :], targets[:, T // 2 :])]
    trained, history = learn.train_online(
        net, learner, lambda i: halves[i], squared, optax.sgd(LR),
        update_every=1, steps=2, stream=True,
    )  # fmt: skip
    got = as_numpy(trained)
    for name, value in expected[-1].items():
        np.testing.assert_allclose(got[name], value, rtol=1e-10, atol=1e-12, err_msg=name)
    assert len(history) == 2 and history[1]["loss"] > 0


def test_engine_step_sums_the_rows(x64, random_like, close):
    net, xs, targets = setup(random_like)
    learner = learn.SnAp(net, 1)
    step = jax.jit(learn.make_step(learner, squared))
    carry = learn.init_carry(learner, net, B)
    grads, _, (loss, count) = step(carry, net, (xs, targets))
    rows = [learner(net, xs[r], lambda o, r=r: squared(o, targets[r])[0]) for r in range(B)]
    close(grads, jax.tree_util.tree_map(jnp.add, rows[0][0], rows[1][0]), rtol=1e-12)
    close(loss, rows[0][2] + rows[1][2], rtol=1e-12)
    assert int(count) == B * T


def test_truncated_bptt_sees_its_last_k_steps(x64, random_like, close):
    cell = random_like(
        jax.tree_util.tree_map(
            lambda a: jnp.asarray(a, jnp.float64), rnnlab.LSTMCell(D, H, key=jax.random.key(5))
        ),
        6,
    )
    xs = random_like(jnp.zeros((T, D), jnp.float64), 7, 1.0)
    loss = lambda ys: jnp.sum(ys[-1] ** 2)  # a loss at the last step only

    def reference(c, k):  # the state k steps before the end is a constant
        _, s = rnnlab.unroll(c, xs[: T - k])
        s = jax.tree_util.tree_map(jax.lax.stop_gradient, s)
        return loss(rnnlab.unroll(c, xs[T - k :], s)[0])

    for k in (1, 4):
        got = learn.BPTT(truncate=k)(cell, xs, loss)[0]
        close(got, jax.grad(reference)(cell, k), rtol=1e-12)
    full = learn.BPTT()(cell, xs, loss)[0]
    close(full, jax.grad(lambda c: loss(rnnlab.unroll(c, xs)[0]))(cell), rtol=1e-12)
