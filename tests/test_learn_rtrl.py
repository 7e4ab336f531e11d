"""Exact RTRL equals back-propagation through time: over a whole sequence, updates
accumulated and not applied, ``rtrl_grad`` equals ``jax.grad`` of the unrolled loss in
float64 to 1e-10, for every cell of ``rnnlab.CELLS``, the spiking and leaky cells and a
cell written outside the library; carried over chunks it gives the gradient of the
chunks' losses through the whole past; a learner refuses what it cannot do."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import SPECS

import rnnlab
from rnnlab import learn
from rnnlab.cells.leaky import LeakyElmanCell
from rnnlab.cells.spiking import ALIFCell, LIFCell

D, H, T = 2, 3, 6
BASE = [s for s in SPECS if s.id == s.name]  # one spec per name of rnnlab.CELLS


class SkewUnit(rnnlab.Cell):
    """A cell written by a user, of the general form (``step`` itself, not pointwise):
    the recurrent matrix acts on a rotated state, ``h' = tanh(W x + U (h * g) + b)`` with
    a trainable per-unit gain ``g``."""

    gain: jax.Array

    def __init__(self, input_size, hidden_size, *, key):
        super().__init__(input_size, hidden_size, key=key)
        self.gain = jnp.ones(hidden_size)

    def step(self, h, xp):
        h = jnp.tanh(xp + self.hidden_proj(jnp.roll(h * self.gain, 1)))
        return h, h, {"h": h}


def test_catalogue_is_covered():
    assert {s.name for s in BASE} == set(rnnlab.CELLS)


def _check_rtrl_equals_bptt(cell, xs, close):
    w = jnp.asarray(np.random.default_rng(1).normal(size=(T, cell.output_size)), xs.dtype)
    loss = lambda ys: jnp.sum(jnp.tanh(ys) * w)

    @jax.jit
    def both(cell):
        ref = jax.grad(lambda c: loss(rnnlab.unroll(c, xs)[0]))(cell)
        return learn.rtrl_grad(cell, xs, loss), ref

    got, ref = both(cell)
    close(got, ref, rtol=1e-10)
    assert max(float(jnp.max(jnp.abs(g))) for g in jax.tree_util.tree_leaves(ref)) > 1e-2


@pytest.mark.parametrize("spec", BASE, ids=[s.id for s in BASE])
def test_rtrl_equals_bptt_for_every_cell(spec, x64, random_like, close):
    H_ = 5 if spec.name == "mtrnn" else H  # every MTRNN group non-empty
    cell = spec.make(D, H_, seed=0, dtype=jnp.float64)
    _check_rtrl_equals_bptt(cell, random_like(jnp.zeros((T, D), jnp.float64), 2, 1.0), close)


@pytest.mark.parametrize("kind", ["lif", "alif", "leaky", "user"])
def test_rtrl_equals_bptt_for_new_and_user_cells(kind, x64, random_like, close):
    key = jax.random.key(3)
    make = {
        "lif": lambda: LIFCell(D, H, key=key),
        "alif": lambda: ALIFCell(D, H, tau_adaptation=5.0, key=key),
        "leaky": lambda: LeakyElmanCell(D, H, alpha=0.3, key=key),
        "user": lambda: SkewUnit(D, H, key=key),
    }
    cell = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), make[kind]())
    if kind in ("lif", "alif"):  # input weights strong enough to spike; inputs are spikes
        rng = np.random.default_rng(4)
        w_in = jnp.asarray(1.2 + 0.3 * rng.normal(size=(H, D)))
        cell = eqx.tree_at(lambda c: (c.weight_ih, c.weight_hh), cell, (w_in, 0.5 * cell.weight_hh))
        xs = jnp.asarray(rng.random((T, D)) < 0.6, jnp.float64)
        assert float(rnnlab.unroll(cell, xs)[0].sum()) > 0
    else:
        cell = random_like(cell, 5)
        xs = random_like(jnp.zeros((T, D), jnp.float64), 6, 1.0)
    _check_rtrl_equals_bptt(cell, xs, close)


def test_rtrl_carried_over_chunks_sees_the_whole_past(x64, random_like, close):
    """Two chunks, the carry of the first passed to the second: the sum of the chunk
    gradients is the full gradient of the sum of their losses (BPTT over both)."""
    cell = random_like(
        jax.tree_util.tree_map(
            lambda a: jnp.asarray(a, jnp.float64), rnnlab.GRUCell(D, H, key=jax.random.key(7))
        ),
        8,
    )
    readout = eqx.nn.Linear(H, 2, key=jax.random.key(9))
    net = learn.Network(
        cell, jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), readout)
    )
    xs = random_like(jnp.zeros((2 * T, D), jnp.float64), 10, 1.0)
    loss = lambda outs: jnp.sum(jnp.sin(outs))

    @jax.jit
    def run(net):
        g1, carry, l1 = learn.rtrl(net, xs[:T], loss)
        g2, carry, l2 = learn.rtrl(net, xs[T:], loss, carry)
        ref = jax.grad(lambda n: loss(n(xs)[0]))(net)
        return jax.tree_util.tree_map(jnp.add, g1, g2), ref, l1 + l2

    got, ref, total = run(net)
    close(got, ref, rtol=1e-10)
    close(total, loss(net(xs)[0]), rtol=1e-12)


def test_learners_refuse_what_they_cannot_do():
    gru = rnnlab.GRUCell(2, 4, key=jax.random.key(0))
    with pytest.raises(rnnlab.UserError, match="RFLO applies to leaky cells"):
        learn.make_learner("rflo", gru, key=jax.random.key(1))
    with pytest.raises(rnnlab.UserError, match="e-prop needs a cell of the pointwise form"):
        learn.make_learner("eprop", rnnlab.MTRNNCell(2, 8, key=jax.random.key(0)))
    with pytest.raises(rnnlab.UserError, match="truncate applies to the bptt learner"):
        learn.make_learner("rtrl", gru, truncate=5)
    with pytest.raises(rnnlab.UserError, match="unknown learner"):
        learn.make_learner("hebb", gru)
    with pytest.raises(rnnlab.UserError, match=r"n x p = 4 x 96 numbers"):
        learn.RTRL(max_bytes=1000).init(gru)
    with pytest.raises(rnnlab.UserError, match="update_every must be a positive integer"):
        learn.train_online(gru, learn.RTRL(), None, None, None, update_every=0, steps=1)
    with pytest.raises(rnnlab.UserError, match="one sequence"):
        learn.rtrl(gru, jnp.ones((2, 5, 2)), jnp.sum)
