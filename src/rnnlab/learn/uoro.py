r"""Unbiased online recurrent optimisation (Tallec & Ollivier, ICLR 2018, arXiv:1702.05043).

UORO keeps a rank-one estimate of the influence matrix, ``J_t ~ A_t B_t^T`` with
``A`` (n,) and ``B`` (p,), refreshed at every step with random signs ``nu`` in {-1, 1}^n:

.. math::
    A_t = \rho_0 D_t A_{t-1} + \rho_1 \nu, \qquad
    B_t = B_{t-1} / \rho_0 + I_t^\top \nu / \rho_1, \qquad
    \rho_0 = \sqrt{\lVert B_{t-1} \rVert / \lVert D_t A_{t-1} \rVert}, \quad
    \rho_1 = \sqrt{\lVert I_t^\top \nu \rVert / \lVert \nu \rVert}

``E[A_t B_t^T] = J_t`` because ``E[nu nu^T] = 1`` and the cross terms are odd in
``nu`` (the rho's are even in it): the gradient estimate ``sum_t (c_t . A_t) B_t`` is
unbiased, but its variance is high. The rho's balance the norms of the two factors,
which minimises that variance among such rescalings (the paper's choice; the
form follows ``omarschall/vanilla-rtrl``'s ``learning_algorithms/UORO.py``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from rnnlab.learn._core import Learner

EPS = 1e-7  # keeps the rho's finite when A or B is zero (the first step: rho_0 = 1)


class UORO(Learner):
    r"""UORO: one JVP (``D_t A``) and one VJP (``nu^T I_t``) per step.

    Memory: O(n + p) per sequence (A, B and a PRNG key). Compute per step: O(p), about
    two to three forward steps. Unbiased, high variance.

    The trace is ``(A, B, key)``, the key raw (``jax.random.key_data``) so that it can
    be checkpointed and split over devices like the rest of the carry; give each
    sequence its own with ``learner.init(model, key)``.
    """

    def init_trace(self, model, flat, key):
        zeros = lambda k: jnp.zeros(k, flat.dtype)
        return zeros(flat.n), zeros(flat.p), jax.random.key_data(key)

    def propagate(self, flat, s_prev, xs, c, trace):
        theta = flat.theta
        A, B, key = trace

        def step(carry, inp):
            A, B, key, g = carry
            s, x, c_t = inp
            key, draw = jax.random.split(jax.random.wrap_key_data(key))
            nu = jax.random.rademacher(draw, A.shape, A.dtype)  # (n,) of +-1
            DA = jax.jvp(lambda s: flat.step(s, theta, x), (s,), (A,))[1]  # (n,)
            nuI = jax.vjp(lambda th: flat.step(s, th, x), theta)[1](nu)[0]  # (p,)
            norm = lambda v: jnp.sqrt(jnp.sum(v * v))
            rho0 = jnp.sqrt((norm(B) + EPS) / (norm(DA) + EPS))
            rho1 = jnp.sqrt((norm(nuI) + EPS) / (norm(nu) + EPS))
            A = rho0 * DA + rho1 * nu
            B = B / rho0 + nuI / rho1
            return (A, B, jax.random.key_data(key), g + (c_t @ A) * B), None

        (A, B, key, g), _ = jax.lax.scan(step, (A, B, key, jnp.zeros_like(theta)), (s_prev, xs, c))
        return g, (A, B, key)


def uoro(model, xs, loss_fn, carry=None, *, key=None, has_aux=False):
    """UORO over the chunk ``xs`` (T, D): ``(grads, carry, loss)``; ``key`` seeds a new
    carry's draws (see :class:`rnnlab.learn.Learner` for the other arguments)."""
    learner = UORO()
    if carry is None:
        carry = learner.init(model, key)
    return learner(model, xs, loss_fn, carry, has_aux=has_aux)
