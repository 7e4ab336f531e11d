r"""Sparse influence and eligibility traces: SnAp-1, SnAp-2, e-prop and RFLO.

All four keep the influence matrix ``J_t = ds_t/dtheta`` only on a fixed pattern of
entries, at most r per parameter (stored compactly, p x r), and propagate it with a
part of the recurrent Jacobian:

.. math::
    J_t[i, k] = I_t[i, k] + \textstyle\sum_{j \in \mathrm{kept}(k)} D_t[i, j]\, J_{t-1}[j, k],
    \qquad i \in \mathrm{kept}(k), \qquad \nabla_\theta L \approx \sum_t c_t^\top J_t

=========  =====================================  ========================================
learner    kept entries of column k               D_t
=========  =====================================  ========================================
SnAp-1     where ``I_t`` is non-zero: the units   the full recurrent Jacobian
           parameter k writes to directly
SnAp-2     where ``D_t I_t`` may be non-zero      the full recurrent Jacobian
e-prop     SnAp-1's, closed under the neuron's    the neuron's own dynamics: ``D_t`` with
           own dynamics (an ALIF's adaptation)    the recurrent input ``U z`` held fixed
RFLO       SnAp-1's                               the leak ``1 - alpha`` alone
=========  =====================================  ========================================

``I_t`` is read on the kept entries with one VJP per colour of rows (rows that share
no parameter share a colour: 1 VJP for Elman, 2 for an LSTM's (h, c)).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.errors import UserError
from rnnlab.learn import _structure as st
from rnnlab.learn._core import Flat, Learner, parts


class Traces(Learner):
    """Base of the sparse-trace learners: a pattern (``idx``, ``ok``: p x r), the colours
    that read ``I_t`` on it, and the part of ``D_t`` that propagates it (``mode``)."""

    idx: jax.Array  # (p, r) int32: the kept rows of each parameter's column
    ok: jax.Array  # (p, r) bool: which of the r slots are kept entries
    iok: jax.Array  # (p, r) bool: kept entries where I_t may be non-zero
    pick: jax.Array  # (p, r) int32: the colour of each kept row
    sel: jax.Array  # (colours, n): the VJP cotangents, one per colour
    leak: jax.Array | None  # (n,) for mode "leak"
    feedback: jax.Array | None  # (O, K) random feedback, or None: symmetric
    mode: str = eqx.field(static=True)  # "full", "block", "internal" or "leak"
    dense: bool = eqx.field(static=True)  # propagate through a dense (n, p) product

    def _setup(self, cell, M, I_pat, mode, leak=None, feedback=None):
        idx, ok = st.compact(M)
        colour = st.colours(I_pat)
        sel = (colour[None, :] == np.arange(colour.max() + 1)[:, None]).astype(np.float64)
        p = idx.shape[0]
        self.idx, self.ok = jnp.asarray(idx), jnp.asarray(ok)
        self.iok = jnp.asarray(ok & I_pat[idx, np.arange(p)[:, None]])
        self.pick = jnp.asarray(colour[idx].astype(np.int32))
        self.sel = jnp.asarray(sel, Flat(cell).dtype)
        self.leak, self.feedback, self.mode = leak, feedback, mode
        r, n = idx.shape[1], M.shape[0]
        self.dense = mode != "leak" and r * r > n  # gather costs p r^2, dense n^2 p

    @property
    def kept(self) -> int:
        """How many entries of the influence matrix are kept (of n x p)."""
        return int(np.asarray(self.ok).sum())

    def init_trace(self, model, flat, key):
        return jnp.zeros(self.idx.shape, flat.dtype)  # (p, r)

    def _propagate_one(self, D, V):
        """``sum_j D[i, j] V[j, k]`` on the kept entries: (p, r)."""
        idx, ok = self.idx, self.ok
        if self.mode == "leak":
            return D[idx] * V  # D is the diagonal (n,)
        if self.dense:
            cols = jnp.arange(idx.shape[0])[:, None]
            J = jnp.zeros((D.shape[0], idx.shape[0]), V.dtype).at[idx, cols].add(V)  # (n, p)
            return jnp.where(ok, (D @ J)[idx, cols], 0)
        Dk = D[idx[:, :, None], idx[:, None, :]]  # (p, r, r)
        Dk = jnp.where(ok[:, :, None] & ok[:, None, :], Dk, 0)
        return jnp.einsum("kab,kb->ka", Dk, V)

    def propagate(self, flat, s_prev, xs, c, V):
        theta, cols = flat.theta, jnp.arange(flat.p)[:, None]
        jacobian = None if self.mode == "leak" else st.JACOBIANS[self.mode]

        def step(carry, inp):
            V, g = carry  # (p, r), (p,)
            s, x, c_t = inp
            vjp = jax.vjp(lambda th: flat.step(s, th, x), theta)[1]
            I = jax.vmap(lambda u: vjp(u)[0])(self.sel)  # (colours, p)
            I = jnp.where(self.iok, I[self.pick, cols], 0)  # (p, r): I_t on the kept rows
            D = self.leak if jacobian is None else jacobian(flat, s, x)
            V = I + self._propagate_one(D, V)
            return (V, g + jnp.sum(jnp.where(self.ok, c_t[self.idx] * V, 0), axis=1)), None

        (V, g), _ = jax.lax.scan(step, (V, jnp.zeros_like(theta)), (s_prev, xs, c))
        return g, V


class SnAp(Traces):
    r"""SnAp-n (Menick et al., "Practical real time recurrent learning with a sparse
    approximation", ICLR 2021, arXiv:2006.07232): RTRL with the influence matrix kept on
    the entries that n steps of the network can make non-zero.

    ``order=1``: where ``I_t`` is non-zero, the units each parameter writes to directly
    (one per parameter for Elman, GRU; two for an LSTM's (h, c)). Memory O(p r) with
    r <= 2 here: O(p), the size of the parameters. Compute per step: O(p) for a cell of
    the pointwise form (``D_t``'s unit blocks from ``block_jacobian``: O(n^2));
    other cells form all of ``D_t`` with n JVPs, O(n p). Exact when ``D_t`` is diagonal.

    ``order=2``: where ``D_t I_t`` may be non-zero. For a dense recurrent matrix that
    is every entry (SnAp-2 is then RTRL); with a sparse one, about p (1 + fan-in). It
    forms ``D_t`` with n JVPs, O(n p), and propagates with a dense (n, n) x (n, p)
    product when more than sqrt(n) entries per parameter are kept: O(n^2 p) per step,
    the paper's sparse-network speed-up is not realised here, only its memory O(p r).

    The pattern is found at construction from ``model``'s parameters (outside ``jit``)
    and stays fixed.
    """

    order: int = eqx.field(static=True)

    def __init__(self, model, order: int = 1, *, seed: int = 0):
        if order not in (1, 2):
            raise UserError(f"SnAp order must be 1 or 2, got {order!r}")
        cell, _ = parts(model)
        I_pat, D_pat = st.patterns(cell, ("full",), seed)
        M = I_pat if order == 1 else st.spread(I_pat, D_pat["full"], times=1)
        idx, ok = st.compact(M)
        mode = "block" if order == 1 and st.block_mode_holds(cell, M, idx, ok, seed) else "full"
        self.order = order
        self._setup(cell, M, I_pat, mode)


def random_feedback(model, key, scale: float | None = None) -> jax.Array:
    """A fixed random feedback matrix ``B`` (O, K) ~ N(0, scale^2), scale 1/sqrt(O) by
    default (the size of a fresh readout's weights): the learning signal of unit j is
    ``(B e_t)_j`` instead of ``(W_out^T e_t)_j`` (feedback alignment, Lillicrap et al.
    2016)."""
    cell, readout = parts(model)
    O = cell.output_size
    K = O if readout is None else jax.eval_shape(readout, jnp.zeros(O)).shape[0]
    scale = 1 / np.sqrt(O) if scale is None else scale
    return scale * jax.random.normal(key, (O, K), Flat(cell).dtype)


def _feedback(model, feedback, key):
    if feedback is None or (isinstance(feedback, str) and feedback == "symmetric"):
        return None
    if isinstance(feedback, str) and feedback == "random":
        if key is None:
            raise UserError("random feedback needs a key (key=jax.random.key(seed))")
        return random_feedback(model, key)
    if isinstance(feedback, str):
        raise UserError(f"feedback must be 'symmetric', 'random' or an array, not {feedback!r}")
    return jnp.asarray(feedback)


class EProp(Traces):
    r"""e-prop (Bellec et al., "A solution to the learning dilemma for recurrent networks
    of spiking neurons", Nat. Commun. 11:3625, 2020): the gradient factorised as
    ``sum_t L_j^t e_ji^t``, a learning signal times an eligibility trace per synapse.

    The eligibility vector of synapse ji follows the neuron's own dynamics only,
    ``eps^t = (dh_j^t/dh_j^{t-1}) eps^{t-1} + dh_j^t/dW_ji`` with the recurrent input held
    fixed (``internal_jacobian``); the learning signal is the instantaneous
    ``dE/dz_j^t`` through the readout's weights (``feedback="symmetric"``) or through a
    fixed random matrix (``"random"``, with ``key``; or an array (O, K)). For an LSTM
    this is the paper's appendix form (the trace runs through the cell state, ``f``
    times itself plus ``dc/dW``); for LIF/ALIF neurons the traces ``psi zbar`` and the
    adaptation's ``eps_a``. Exact when there are no recurrent weights.

    Needs a cell of the pointwise form (``rnnlab.Cell`` with ``pointwise``): the LSTM
    family, Elman, GRU, LIF/ALIF, a leaky Elman. Memory O(p r) (r: state entries per
    unit, at most 3 for an ALIF). Compute per step O(p).
    """

    def __init__(self, model, feedback="symmetric", *, key=None, seed: int = 0):
        cell, _ = parts(model)
        if not st.pointwise_cell(cell):
            raise UserError(
                f"e-prop needs a cell of the pointwise form (LSTM family, Elman, GRU, LIF, "
                f"ALIF), not {type(cell).__name__}; for leaky cells use rflo"
            )
        I_pat, D_pat = st.patterns(cell, ("internal",), seed)
        M = st.spread(I_pat, D_pat["internal"])
        self._setup(cell, M, I_pat, "internal", feedback=_feedback(model, feedback, key))


class RFLO(Traces):
    r"""Random-feedback local online learning (Murray, eLife 8:e43299, 2019) for leaky
    cells: each synapse keeps ``P_ij <- (1 - alpha) P_ij + (immediate term)``, its
    unit's leak alone standing in for the recurrent Jacobian, and the learning signal
    comes through a fixed random matrix ``B`` (``feedback="random"``, the default, with
    ``key``) or the readout's weights (``"symmetric"``).

    For the leaky Elman ``h = (1-a) h + a tanh(u)`` the trace is Murray's
    ``P_ij <- (1 - a) P_ij + a tanh'(u_i) hhat_j``; for an MTRNN (state ``u``) it is
    ``P_ij <- (1 - 1/tau_i) P_ij + hhat_j / tau_i`` and ``tanh'(u)`` enters through the
    learning signal. Memory O(p); compute per step O(p).
    """

    def __init__(self, model, feedback="random", *, key=None, seed: int = 0):
        cell, _ = parts(model)
        leak = st.leak_of(cell)
        I_pat, _ = st.patterns(cell, (), seed)
        leak = jnp.asarray(leak, Flat(cell).dtype)
        self._setup(cell, I_pat, I_pat, "leak", leak, _feedback(model, feedback, key))


def snap1(model, xs, loss_fn, carry=None, *, has_aux=False):
    """SnAp-1 over the chunk ``xs`` (T, D): ``(grads, carry, loss)``. Builds the pattern
    (outside ``jit``); to reuse it, make ``SnAp(model, 1)`` once and call that."""
    return SnAp(model, 1)(model, xs, loss_fn, carry, has_aux=has_aux)


def snap2(model, xs, loss_fn, carry=None, *, has_aux=False):
    """SnAp-2 over the chunk ``xs`` (T, D) (see :func:`rnnlab.learn.snap1`)."""
    return SnAp(model, 2)(model, xs, loss_fn, carry, has_aux=has_aux)


def eprop(model, xs, loss_fn, carry=None, *, feedback="symmetric", key=None, has_aux=False):
    """e-prop over the chunk ``xs`` (T, D) (see :class:`rnnlab.learn.EProp` and
    :func:`rnnlab.learn.snap1`)."""
    return EProp(model, feedback, key=key)(model, xs, loss_fn, carry, has_aux=has_aux)


def rflo(model, xs, loss_fn, carry=None, *, feedback="random", key=None, has_aux=False):
    """RFLO over the chunk ``xs`` (T, D) (see :class:`rnnlab.learn.RFLO` and
    :func:`rnnlab.learn.snap1`)."""
    return RFLO(model, feedback, key=key)(model, xs, loss_fn, carry, has_aux=has_aux)
