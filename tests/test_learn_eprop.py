"""e-prop and RFLO against exact RTRL and against their papers' recursions: with no
recurrent weights (where they are exact) their eligibility traces are the entries of
RTRL's influence matrix and RTRL's other entries are zero; with recurrent weights they
are biased; random feedback replaces the readout's weights in the learning signal;
RFLO's trace on an MTRNN is Murray's leaky recursion."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

import rnnlab
from rnnlab import learn
from rnnlab.cells.leaky import LeakyElmanCell
from rnnlab.cells.spiking import ALIFCell

D, H, T = 2, 3, 12


def f64(tree):
    return jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), tree)


def cell_and_inputs(kind, random_like):
    key = jax.random.key(1)
    if kind == "alif":
        cell = f64(ALIFCell(D, H, tau=4.0, tau_adaptation=6.0, beta=0.5, key=key))
        rng = np.random.default_rng(2)
        cell = eqx.tree_at(
            lambda c: c.weight_ih, cell, jnp.asarray(1.3 + 0.3 * rng.normal(size=(H, D)))
        )
        xs = jnp.asarray(rng.random((T, D)) < 0.5, jnp.float64)  # input spikes
    else:
        make = {"lstm": rnnlab.LSTMCell, "leaky": LeakyElmanCell}[kind]
        cell = random_like(f64(make(D, H, key=key)), 3)
        xs = random_like(jnp.zeros((T, D), jnp.float64), 4, 1.0)
    return cell, xs


def no_recurrence(cell):
    return eqx.tree_at(lambda c: c.weight_hh, cell, jnp.zeros_like(cell.weight_hh))


@pytest.mark.parametrize("kind", ["lstm", "alif", "leaky"])
def test_traces_equal_rtrl_without_recurrent_weights(kind, x64, random_like, close):
    cell, xs = cell_and_inputs(kind, random_like)
    w = random_like(jnp.zeros((T, H), jnp.float64), 5, 1.0)
    loss = lambda ys: jnp.sum(jnp.tanh(ys) * w)
    learner = learn.EProp(cell) if kind != "leaky" else learn.RFLO(cell, "symmetric")

    @jax.jit
    def run(cell):
        g_rtrl, carry_rtrl, _ = learn.rtrl(cell, xs, loss)
        g, carry, _ = learner(cell, xs, loss)
        return g_rtrl, carry_rtrl.trace, g, carry.trace

    for c in (no_recurrence(cell), cell):
        g_rtrl, J, g, V = run(c)
        J, V = np.asarray(J), np.asarray(V)  # (n, p) and (p, r)
        idx, ok = np.asarray(learner.idx), np.asarray(learner.ok)
        cols = np.arange(J.shape[1])[:, None]
        if c is cell:  # with recurrent weights: biased
            diff = np.abs(ravel_pytree(g)[0] - ravel_pytree(g_rtrl)[0]).max()
            assert diff > 1e-3 * np.abs(ravel_pytree(g_rtrl)[0]).max()
            continue
        close(np.where(ok, V, 0), np.where(ok, J[idx, cols], 0), rtol=1e-10)
        outside = J.copy()
        outside[idx[ok], np.broadcast_to(cols, idx.shape)[ok]] = 0
        assert np.abs(outside).max() <= 1e-12 * np.abs(J).max()  # RTRL keeps nothing else
        assert np.abs(V).max() > 1e-3
        close(g, g_rtrl, rtol=1e-10)


def test_alif_trace_keeps_the_adaptation(x64, random_like):
    """e-prop's ALIF eligibility has two components (Bellec et al. 2020): the pattern
    keeps, for each synapse, the membrane, the spike and the adaptation of its neuron."""
    cell, _ = cell_and_inputs("alif", random_like)
    e = learn.EProp(cell)
    assert e.idx.shape[1] == 3 and bool(np.asarray(e.ok)[: H * D].all())


def test_random_feedback_replaces_the_readout_weights(x64, random_like, close):
    cell, xs = cell_and_inputs("lstm", random_like)
    readout = f64(eqx.nn.Linear(H, 2, key=jax.random.key(6)))
    net = learn.Network(cell, readout)
    target = random_like(jnp.zeros((T, 2), jnp.float64), 7, 1.0)
    loss = lambda outs: 0.5 * jnp.sum((outs - target) ** 2)
    sym = learn.EProp(net)
    mirror = learn.EProp(net, readout.weight.T)  # B = W_out^T: the symmetric signal
    rand = learn.EProp(net, "random", key=jax.random.key(8))
    assert rand.feedback.shape == (H, 2)
    run = jax.jit(lambda n: [lr(n, xs, loss)[0] for lr in (sym, mirror, rand)])
    g_sym, g_mirror, g_rand = run(net)
    close(g_mirror, g_sym, rtol=1e-12)
    close(g_rand.readout, g_sym.readout, rtol=1e-12)  # the readout's own gradient is exact
    assert np.abs(np.asarray(g_rand.cell.weight_ih - g_sym.cell.weight_ih)).max() > 1e-3


def test_rflo_trace_on_an_mtrnn_is_murrays_recursion(x64, random_like):
    """``P_ij <- (1 - 1/tau_i) P_ij + x_j / tau_i`` for the input weights of unit i."""
    cell = random_like(f64(rnnlab.MTRNNCell(D, 8, io_size=2, key=jax.random.key(9))), 10)
    cell = eqx.tree_at(lambda c: c.weight_ih, cell, cell.weight_ih * cell.mask_ih)
    xs = random_like(jnp.zeros((T, D), jnp.float64), 11, 1.0)
    rflo = learn.RFLO(cell, "random", key=jax.random.key(12))
    _, carry, _ = jax.jit(lambda c: rflo(c, xs, lambda ys: jnp.sum(ys**2)))(cell)
    tau, mask = np.asarray(cell.tau), np.asarray(cell.mask_ih)
    P = np.zeros((8, D))
    for x in np.asarray(xs):
        P = (1 - 1 / tau)[:, None] * P + mask * x[None, :] / tau[:, None]
    V, idx = np.asarray(carry.trace)[: 8 * D, 0], np.asarray(rflo.idx)[: 8 * D, 0]
    np.testing.assert_allclose(V.reshape(8, D), P, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(
        idx.reshape(8, D)[mask > 0], np.repeat(np.arange(8), D).reshape(8, D)[mask > 0]
    )
