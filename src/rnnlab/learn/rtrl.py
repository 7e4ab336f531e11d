r"""Real-time recurrent learning (Williams & Zipser 1989, Neural Computation 1:270-280).

The influence matrix ``J_t = ds_t/dtheta`` (n x p) is carried forward with the step:

.. math::
    J_t = D_t J_{t-1} + I_t, \qquad D_t = \partial F / \partial s_{t-1}\ (n \times n),
    \qquad I_t = \partial F / \partial \theta\ (n \times p), \qquad
    \nabla_\theta L = \textstyle\sum_t c_t^\top J_t

where ``s_t = F(s_{t-1}, theta, x_t)`` is one step of the cell and ``c_t = dL/ds_t`` the
learning signal of step t. Exact: over a whole sequence it is the gradient that
back-propagation through time computes, found going forward, so the parameters can
change at every step of a stream that never ends.
"""

from __future__ import annotations

import equinox as eqx
import jax

from rnnlab.errors import UserError
from rnnlab.learn._core import Learner

DEFAULT_MAX_BYTES = 2**30  # 1 GiB of influence matrix per sequence


class RTRL(Learner):
    r"""Exact RTRL: ``J_t = D_t J_{t-1} + I_t``, with ``D_t`` from n JVPs of one step
    (``jax.jacfwd``) and ``I_t`` from n VJPs (``jax.jacrev``), for any cell.

    Memory: O(n p) per sequence (the influence matrix). Compute per step: O(n^2 p) for
    ``D_t J_{t-1}`` plus O(n p) for the Jacobians. For a dense cell p ~ n^2: O(n^3)
    memory and O(n^4) compute (n state units: 2H for an LSTM's (h, c)).

    ``max_bytes``: the largest influence matrix allowed per sequence (1 GiB by
    default); a bigger cell is refused with its size stated. A trainable initial state
    (MTRNN's ``learn_initial_state``) starts ``J_0 = ds_0/dtheta``.
    """

    max_bytes: int = eqx.field(static=True, default=DEFAULT_MAX_BYTES)

    def init_trace(self, model, flat, key):
        nbytes = flat.n * flat.p * flat.theta.dtype.itemsize
        if nbytes > self.max_bytes:
            raise UserError(
                f"RTRL keeps an influence matrix of n x p = {flat.n:,} x {flat.p:,} numbers "
                f"({nbytes / 2**20:,.1f} MiB) per sequence, over the bound of "
                f"{self.max_bytes / 2**20:,.1f} MiB; use a smaller cell or snap1, uoro, eprop"
            )
        return jax.jacrev(flat.init_state)(flat.theta)  # (n, p): J_0

    def propagate(self, flat, s_prev, xs, c, J):
        theta = flat.theta

        def step(carry, inp):
            J, g = carry  # (n, p), (p,)
            s, x, c_t = inp  # (n,), (D,), (n,)
            D = jax.jacfwd(flat.step, argnums=0)(s, theta, x)  # (n, n)
            I = jax.jacrev(flat.step, argnums=1)(s, theta, x)  # (n, p)
            J = D @ J + I
            return (J, g + c_t @ J), None

        (J, g), _ = jax.lax.scan(step, (J, jax.numpy.zeros_like(theta)), (s_prev, xs, c))
        return g, J


def rtrl(model, xs, loss_fn, carry=None, *, has_aux=False):
    """Exact RTRL over the chunk ``xs`` (T, D): ``(grads, carry, loss)`` (see
    :class:`rnnlab.learn.Learner` for the arguments)."""
    return RTRL()(model, xs, loss_fn, carry, has_aux=has_aux)


def rtrl_grad(cell, xs, loss_fn):
    """The exact RTRL gradient of ``loss_fn(ys)`` over the whole sequence ``xs`` (T, D),
    updates accumulated and not applied, from the cell's initial state: equal to
    ``jax.grad(lambda c: loss_fn(rnnlab.unroll(c, xs)[0]))(cell)``, found forward.

    >>> import jax, jax.numpy as jnp, rnnlab
    >>> cell = rnnlab.GRUCell(2, 3, key=jax.random.key(0))
    >>> xs = jnp.ones((6, 2))
    >>> g = rnnlab.learn.rtrl_grad(cell, xs, lambda ys: (ys ** 2).sum())
    >>> bptt = jax.grad(lambda c: (rnnlab.unroll(c, xs)[0] ** 2).sum())(cell)
    >>> bool(jnp.allclose(g.weight_hh, bptt.weight_hh, atol=1e-5))
    True
    """
    return RTRL()(cell, xs, loss_fn)[0]
