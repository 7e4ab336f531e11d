"""Online readouts, updated every step: recursive least squares (RLS), least mean
squares (LMS), and FORCE learning (RLS with the readout's output fed back)."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from rnnlab.errors import UserError
from rnnlab.reservoir._readout import Readout

PREDICTIONS = ("prior", "reservoirpy")


class OnlineReadout(eqx.Module):
    """The state of an online readout: ``W_out`` (F, O) and ``bias`` (O,) (the readout
    ``y = x W_out + b``), and for RLS the inverse correlation estimate ``P`` (F, F) and
    the (discounted) step count ``S`` () that scales the bias update."""

    W_out: jax.Array
    bias: jax.Array
    P: jax.Array | None
    S: jax.Array

    @property
    def readout(self) -> Readout:
        return Readout(self.W_out, self.bias)


def rls_init(features: int, outputs: int, alpha: float = 1e-6, dtype=None) -> OnlineReadout:
    """RLS from zero weights and ``P_0 = I / alpha`` (ReservoirPy's ``RLS(alpha)``)."""
    if not alpha > 0:
        raise UserError(f"RLS alpha must be > 0, got {alpha}")
    dtype = dtype or jnp.zeros(()).dtype
    return OnlineReadout(
        jnp.zeros((features, outputs), dtype),
        jnp.zeros(outputs, dtype),
        jnp.eye(features, dtype=dtype) / alpha,
        jnp.zeros((), dtype),
    )


def lms_init(features: int, outputs: int, dtype=None) -> OnlineReadout:
    """LMS from zero weights."""
    dtype = dtype or jnp.zeros(()).dtype
    zero = jnp.zeros((), dtype)
    return OnlineReadout(
        jnp.zeros((features, outputs), dtype), jnp.zeros(outputs, dtype), None, zero
    )


def _check(prediction: str) -> None:
    if prediction not in PREDICTIONS:
        raise UserError(f"prediction must be one of {', '.join(PREDICTIONS)}, got {prediction!r}")


def rls_step(r: OnlineReadout, x, y, *, forgetting=1.0, fit_bias=True, prediction="prior"):
    r"""One RLS update on features ``x`` (F,) and target ``y`` (O,): ``(r, y_hat)``.

    With forgetting factor ``lambda`` (Sussillo & Abbott 2009; Waegeman et al. 2012):

    .. math::
        P' = \frac{1}{\lambda}\left(P - \frac{P x x^\top P}{\lambda + x^\top P x}\right),\quad
        e = x W + b - y,\quad W' = W - (P' x)\, e^\top,\quad
        S' = \lambda S + 1,\quad b' = b - e / S'

    which is ReservoirPy 0.4's ``RLS._learning_step`` (``nodes/rls.py``). ``y_hat`` is
    the prediction made before the update, ``x W + b`` (``prediction="prior"``), or
    what ReservoirPy returns, ``x W' + b`` with the *old* bias (``"reservoirpy"``).
    """
    _check(prediction)
    Px = r.P @ x  # (F,)
    P = (r.P - jnp.outer(Px, Px) / (forgetting + x @ Px)) / forgetting  # (F, F)
    S = forgetting * r.S + 1
    prior = x @ r.W_out + r.bias  # (O,)
    e = prior - y
    W = r.W_out - jnp.outer(P @ x, e)  # (F, O)
    b = (S * r.bias - e) / S if fit_bias else r.bias
    y_hat = prior if prediction == "prior" else x @ W + r.bias
    return OnlineReadout(W, b, P, S), y_hat


def lms_step(r: OnlineReadout, x, y, *, learning_rate=1e-6, fit_bias=True, prediction="prior"):
    r"""One LMS (Widrow-Hoff) update: ``e = x W + b - y``, ``W' = W - eta x e^T``,
    ``b' = b - eta e`` (ReservoirPy 0.4's ``LMS``); ``y_hat`` as in :func:`rls_step`."""
    _check(prediction)
    prior = x @ r.W_out + r.bias
    e = prior - y
    W = r.W_out - learning_rate * jnp.outer(x, e)
    b = r.bias - learning_rate * e if fit_bias else r.bias
    y_hat = prior if prediction == "prior" else x @ W + r.bias
    return OnlineReadout(W, b, r.P, r.S + 1), y_hat


def online_fit(r: OnlineReadout, features, targets, *, rule="rls", **options):
    """Run ``rule`` (``"rls"`` or ``"lms"``) over ``features`` (T, F) and ``targets``
    (T, O), one update a step (one ``lax.scan``): ``(r, predictions (T, O))``.
    ``options`` go to :func:`rls_step` or :func:`lms_step`."""
    steps = {"rls": rls_step, "lms": lms_step}
    if rule not in steps:
        raise UserError(f"online rule must be rls or lms, got {rule!r}")
    if rule == "rls" and r.P is None:
        raise UserError("an RLS readout needs P: start it with rls_init")
    step = steps[rule]

    def body(r, xy):
        return step(r, *xy, **options)

    return jax.lax.scan(body, r, (jnp.asarray(features), jnp.asarray(targets)))


def force(cell, r: OnlineReadout, xs, ys, state=None, *, forgetting=1.0, train=True):
    r"""FORCE learning (Sussillo & Abbott 2009): RLS on a reservoir that reads its own
    readout's output back. At each step the cell's input is ``[u_t, z_{t-1}]``, with
    ``z_t = x_t W + b`` the readout's output (``z_0 = 0``); with ``train`` the readout
    is updated by :func:`rls_step` towards ``ys`` at every step, so that ``z`` stays
    close to the target while the weights converge.

    ``cell`` must take ``D + O`` inputs; ``xs`` (T, D) (D may be 0: an autonomous
    generator), ``ys`` (T, O) (ignored without ``train``). Returns
    ``(state, r, z (T, O))``; ``train=False`` runs the learnt loop freely.
    """
    xs, ys = jnp.asarray(xs), jnp.asarray(ys)
    O = r.W_out.shape[1]
    if cell.input_size != xs.shape[-1] + O:
        raise UserError(
            f"FORCE feeds the output back: the cell needs {xs.shape[-1]} + {O} inputs, "
            f"it has {cell.input_size}"
        )
    state = cell.init_state() if state is None else state
    z0 = jnp.zeros(O, r.W_out.dtype)

    def body(carry, inp):
        x, r, z = carry
        u, y = inp
        x, h = cell(x, jnp.concatenate([u, z]))
        if train:
            r, z = rls_step(r, h, y, forgetting=forgetting)
        z = h @ r.W_out + r.bias  # the output after this step's update
        return (x, r, z), z

    (state, r, _), zs = jax.lax.scan(body, (state, r, z0), (xs, ys))
    return state, r, zs
