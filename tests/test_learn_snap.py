"""SnAp against exact RTRL: SnAp-1 equals RTRL when the recurrent Jacobian is diagonal
and is biased when it is dense; SnAp-2 is closer to RTRL than SnAp-1 on a dense cell
(equal to it when W is dense, strictly between when W is sparse); the patterns keep
what the paper says they keep."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

import rnnlab
from rnnlab import learn

D, H, T = 2, 4, 7


def make(name, seed, random_like):
    cell = rnnlab.make_cell(name, D, H, key=jax.random.key(seed))
    return random_like(jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), cell), seed)


def masked(cell, mask):
    """``cell`` with every gate block of ``weight_hh`` multiplied by ``mask`` (H, H)."""
    G = cell.weight_hh.shape[0] // H
    return eqx.tree_at(lambda c: c.weight_hh, cell, cell.weight_hh * jnp.tile(mask, (G, 1)))


def gradients(cell, xs, loss, *learners):
    """Flat gradients of RTRL and of each learner, in one compiled call."""
    flat = lambda g: ravel_pytree(g)[0]
    run = jax.jit(
        lambda c: (
            [flat(learn.rtrl_grad(c, xs, loss))] + [flat(lr(c, xs, loss)[0]) for lr in learners]
        )
    )
    return [np.asarray(g) for g in run(cell)]


def rel(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


@pytest.fixture
def data(random_like):
    xs = random_like(jnp.zeros((T, D), jnp.float64), 20, 1.0)
    w = random_like(jnp.zeros((T, H), jnp.float64), 21, 1.0)
    return xs, lambda ys: jnp.sum(jnp.tanh(ys) * w)


@pytest.mark.parametrize("name", ["elman", "gru"])
def test_snap1_is_exact_for_a_diagonal_recurrence(name, x64, random_like, data):
    xs, loss = data
    cell = masked(make(name, 1, random_like), jnp.eye(H))  # IndRNN-like: unit i reads h_i
    snap1 = learn.SnAp(cell, 1)
    assert snap1.mode == "block" and snap1.idx.shape[1] == 1  # one entry per parameter
    rtrl, got = gradients(cell, xs, loss, snap1)
    assert rel(got, rtrl) < 1e-10


@pytest.mark.parametrize("name", ["elman", "lstm"])
def test_snap2_is_closer_to_rtrl_than_snap1_on_a_dense_cell(name, x64, random_like, data):
    xs, loss = data
    cell = make(name, 2, random_like)
    snap1, snap2 = learn.SnAp(cell, 1), learn.SnAp(cell, 2)
    n = 2 * H if name == "lstm" else H
    p = ravel_pytree(cell)[0].size
    # SnAp-1 keeps the units a parameter writes to (2 for an LSTM's (h, c), except the
    # output gate's, which writes h alone); for a dense W, SnAp-2 keeps everything.
    kept = {"elman": p, "lstm": 2 * p - p // 4}[name]
    assert snap1.kept == kept and snap2.kept == n * p
    rtrl, g1, g2 = gradients(cell, xs, loss, snap1, snap2)
    assert rel(g1, rtrl) > 1e-2  # biased
    assert rel(g2, rtrl) < 1e-10  # dense W: SnAp-2 is RTRL


def test_snap2_between_snap1_and_rtrl_with_a_sparse_recurrence(x64, random_like, data):
    xs, loss = data
    mask = np.eye(H) + np.eye(H, k=1)  # each unit reads itself and its right neighbour
    cell = masked(make("elman", 3, random_like), jnp.asarray(mask))
    snap1, snap2 = learn.SnAp(cell, 1), learn.SnAp(cell, 2)
    assert snap1.kept < snap2.kept < H * ravel_pytree(cell)[0].size
    rtrl, g1, g2 = gradients(cell, xs, loss, snap1, snap2)
    assert 1e-6 < rel(g2, rtrl) < rel(g1, rtrl)
