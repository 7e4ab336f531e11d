"""What every learner shares: the model (a cell and a per-step readout), the flat views
of parameters and state, the forward pass, the per-step learning signals, and the
two-pass skeleton of a forward-mode learner.

A chunk of ``T`` steps is learnt in two passes. Pass 1 runs the cell and keeps its
states (T, n); the loss of the chunk's outputs gives, by one VJP, the learning signal
``c_t = dL/ds_t`` of each step (the loss's explicit dependence on the state ``s_t``
through the output, not through later states) and the readout's exact gradient.
Pass 2 is the learner's own: it carries its influence or eligibility state forward
through the T steps and adds up ``c_t . J_t``, where ``J_t`` is its estimate of the
influence ``ds_t/dtheta``. Memory is the learner's state plus the chunk's states,
O(T n): independent of how long the stream is.
"""

from __future__ import annotations

import abc
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from rnnlab.errors import UserError

tree_map = jax.tree_util.tree_map


class Network(eqx.Module):
    """A recurrent ``cell`` and a ``readout`` applied at every step:
    ``out_t = readout(y_t)``, where ``y_t`` is the cell's output. The readout is a
    feed-forward module (default: ``eqx.nn.Linear(cell.output_size, out_size)``); its
    gradient is exact under every learner, the cell's is what the learner estimates.

    >>> import jax, jax.numpy as jnp, rnnlab
    >>> from rnnlab.learn import Network
    >>> net = Network(rnnlab.ElmanCell(3, 8, key=jax.random.key(0)), out_size=2,
    ...               key=jax.random.key(1))
    >>> outs, h = net(jnp.ones((10, 3)))
    >>> outs.shape
    (10, 2)
    """

    cell: Any
    readout: Any

    def __init__(self, cell, readout=None, *, out_size=None, key=None):
        if readout is None:
            if out_size is None or key is None:
                raise UserError("Network needs a readout, or out_size and key to make one")
            readout = eqx.nn.Linear(cell.output_size, out_size, key=key)
        self.cell, self.readout = cell, readout

    def __call__(self, xs, state=None):
        """Outputs ``(T, K)`` (or ``(B, T, K)``) and the final state, as ``unroll``."""
        from rnnlab.unroll import unroll

        ys, final = unroll(self.cell, xs, state)
        head = jax.vmap(self.readout)
        return (head(ys) if ys.ndim == 2 else jax.vmap(head)(ys)), final


def parts(model):
    """``(cell, readout or None)`` of a :class:`rnnlab.learn.Network` or a bare cell."""
    if isinstance(model, Network):
        return model.cell, model.readout
    if not hasattr(model, "init_state") or not hasattr(model, "step"):
        raise UserError(
            f"a learner needs a cell or a rnnlab.learn.Network, not {type(model).__name__}"
        )
    return model, None


class Carry(NamedTuple):
    """What a learner carries from one chunk to the next for one sequence: the cell's
    ``state`` and the learner's ``trace`` (influence matrix, eligibility traces...)."""

    state: Any
    trace: Any


class Flat:
    """A cell seen as ``s_t = F(s_{t-1}, theta, x_t)`` on flat vectors: ``theta`` (p,)
    holds every floating-point array of the cell (fixed data such as MTRNN's ``tau``
    included: its derivative is zero), ``s`` (n,) the state's leaves end to end."""

    def __init__(self, cell):
        params, self.static = eqx.partition(cell, eqx.is_inexact_array)
        self.theta, self.unravel = ravel_pytree(params)
        s0, self.unravel_state = ravel_pytree(cell.init_state())
        self.n, self.p = s0.shape[0], self.theta.shape[0]
        self.dtype = self.theta.dtype

    def cell(self, theta):
        return eqx.combine(self.unravel(theta), self.static)

    def step(self, s, theta, x):
        """``F(s, theta, x)``: (n,), (p,), (D,) -> (n,)."""
        new, _ = self.cell(theta)(self.unravel_state(s), x)
        return ravel(new)

    def init_state(self, theta):
        return ravel(self.cell(theta).init_state())


def ravel(tree):
    return ravel_pytree(tree)[0]


def run_states(cell, xs, state):
    """Pass 1: every state ``s_1 .. s_T`` (a pytree of (T, ...)) and the last."""

    def body(s, x):
        s, _ = cell(s, x)
        return s, s

    final, states = jax.lax.scan(body, state, xs)
    return states, final


def signals(model, flat, states, loss_fn, feedback):
    """The chunk's loss and, by VJPs, the learning signals ``c`` (T, n), the readout's
    gradient and the direct gradient of the outputs with respect to theta (zero for
    every cell whose output reads only its state).

    ``feedback`` None: the exact signal ``c_t = (dy_t/ds_t)^T (dout_t/dy_t)^T e_t``
    with ``e_t = dL/dout_t`` (symmetric: through the readout's own weights). An array
    ``B`` (O, K): ``B e_t`` replaces ``(dout_t/dy_t)^T e_t`` (random feedback,
    Lillicrap et al. 2016; Murray 2019; Bellec et al. 2020)."""
    cell, readout = parts(model)
    ys = jax.vmap(lambda s: cell.output(s))(states)  # (T, O)
    if readout is None:
        head, rstatic = None, None
        outs, head_vjp = ys, None
    else:
        head, rstatic = eqx.partition(readout, eqx.is_inexact_array)
        apply = lambda h, ys: jax.vmap(eqx.combine(h, rstatic))(ys)
        outs, head_vjp = jax.vjp(apply, head, ys)  # (T, K)
    loss, loss_vjp, aux = jax.vjp(loss_fn, outs, has_aux=True)
    (e,) = loss_vjp(jnp.ones_like(loss))  # (T, K)
    g_head, dys = (None, e) if head_vjp is None else head_vjp(e)
    if feedback is not None:
        if feedback.shape != (ys.shape[-1], e.shape[-1]):
            raise UserError(
                f"feedback must be (cell outputs, model outputs) = "
                f"{(ys.shape[-1], e.shape[-1])}, got {tuple(feedback.shape)}"
            )
        dys = e @ feedback.T  # (T, O): B e_t

    def back(s, dy):
        out = lambda theta, s: flat.cell(theta).output(s)
        g_theta, g_s = jax.vjp(out, flat.theta, s)[1](dy)
        return g_theta, ravel(g_s)

    g_out, c = jax.vmap(back)(states, dys)  # (T, p), (T, n)
    return loss, aux, c, g_head, g_out.sum(0)


def assemble(model, flat, g_theta, g_head):
    """The gradient as a pytree shaped like ``model`` (None where it has no floats)."""
    g_cell = flat.unravel(g_theta.astype(flat.dtype))
    return g_cell if not isinstance(model, Network) else Network(g_cell, g_head)


class Learner(eqx.Module):
    """Base of the forward-mode learners: ``learner(model, xs, loss_fn, carry)`` ->
    ``(grads, carry, loss)``.

    - ``model``: a cell or a :class:`rnnlab.learn.Network`; ``xs`` (T, D): one sequence (a chunk of
      a stream); ``loss_fn(outs)`` -> scalar: the loss of the chunk's outputs (T, K),
      or ``(scalar, aux)`` with ``has_aux=True`` (then the third result is
      ``(loss, aux)``).
    - ``carry``: a :class:`rnnlab.learn.Carry` from the previous chunk, or None to start afresh
      (the cell's initial state, the learner's initial trace).
    - ``grads``: the gradient estimate of the chunk's loss, accumulated over its steps
      and not applied, a pytree shaped like ``model``.

    One sequence at a time: ``jax.vmap`` it over a batch (each row keeps its own
    traces), or use :mod:`rnnlab.learn.online`. Subclasses write ``init_trace`` and
    ``propagate`` (pass 2).
    """

    @abc.abstractmethod
    def init_trace(self, model, flat, key):
        """The trace of a new sequence (``key``: for the learners that draw)."""

    @abc.abstractmethod
    def propagate(self, flat, s_prev, xs, c, trace):
        """Pass 2: ``(sum_t c_t . J_t (p,), trace)`` for ``s_prev`` (T, n) = s_0..s_{T-1}."""

    def init(self, model, key=None) -> Carry:
        """The carry of a new sequence: the cell's initial state and a fresh trace."""
        cell, _ = parts(model)
        key = jax.random.key(0) if key is None else key
        return Carry(cell.init_state(), self.init_trace(model, Flat(cell), key))

    def __call__(self, model, xs, loss_fn, carry=None, *, has_aux=False):
        cell, _ = parts(model)
        if xs.ndim != 2 or xs.shape[-1] != cell.input_size:
            raise UserError(
                f"a learner takes one sequence (T, {cell.input_size}); got "
                f"{tuple(xs.shape)} (vmap it over a batch)"
            )
        flat = Flat(cell)
        if carry is None:
            carry = self.init(model)
        else:
            expect = jax.eval_shape(lambda: self.init_trace(model, flat, jax.random.key(0)))
            shape = lambda t: jax.tree_util.tree_map(lambda a: (a.shape, a.dtype), t)
            if shape(jax.eval_shape(lambda: carry.trace)) != shape(expect):
                raise UserError(f"this carry's trace was not made by {type(self).__name__}")
        f = loss_fn if has_aux else (lambda outs: (loss_fn(outs), None))
        states, final = run_states(cell, xs, carry.state)
        feedback = getattr(self, "feedback", None)
        loss, aux, c, g_head, g_out = signals(model, flat, states, f, feedback)
        flat_states = jax.vmap(ravel)(states)  # (T, n)
        s_prev = jnp.concatenate([ravel(carry.state)[None], flat_states[:-1]])
        g, trace = self.propagate(flat, s_prev, xs, c, carry.trace)
        grads = assemble(model, flat, g + g_out, g_head)
        return grads, Carry(final, trace), ((loss, aux) if has_aux else loss)
