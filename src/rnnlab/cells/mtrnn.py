"""Multiple-timescale recurrent network (Yamashita & Tani 2008)."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.cells._base import Step, project, uniform
from rnnlab.errors import UserError

# Yamashita & Tani 2008, PLoS Comput Biol 4(11): e1000220: time constants of the
# input-output, fast context and slow context units, and the 60 fast / 20 slow units.
PAPER_TAU = {"io": 2.0, "fast": 5.0, "slow": 70.0}
PAPER_SIZES = {"fast": 60, "slow": 20}


class MTRNNCell(Step):
    r"""Multiple-timescale RNN, one step: leaky integrators with a time constant per unit.

    .. math::
        u_t = \left(1 - \tfrac{1}{\tau}\right) u_{t-1}
              + \tfrac{1}{\tau}\left(W x_t + U h_{t-1} + b\right), \qquad h_t = \tanh(u_t)

    The hidden units form three groups, in this order: input-output units
    (tau 2), fast context units (tau 5) and slow context units (tau 70), the
    paper's values. As in the paper, the external input reaches only the io and
    fast units, and the slow units talk only to the fast ones (and themselves):
    the masked entries of ``W`` and ``U`` are zero and get no gradient. ``tau`` can
    also be given per unit, an array of length ``hidden_size``; ``tau`` and the masks
    are fixed data, not trained.

    Sizes: by default ``io_size = input_size``, 60 fast and 20 slow units. Given
    ``hidden_size`` instead, ``io_size`` defaults to 0 and the rest is split 3:1 into
    fast and slow units, the paper's ratio.

    State: ``u`` (H,). Output: ``h = tanh(u)`` (H,), every group.

    The paper's form, as options: ``nonlinearity="sigmoid"`` makes every unit logistic,
    ``h = sigma(u)`` (Yamashita & Tani's context units), and ``cut_io_io=True`` removes
    the io-to-io recurrent connections, as the authors' code does.

    Every unit here, io units included, is a tanh unit. The paper's units differ:
    its context units are logistic sigmoid units (``tanh(x) = 2 sigma(2x) - 1``, the
    same family up to a rescaling of weights and biases), and its input-output units
    give a softmax readout per modality of a sparse (topology-preserving map)
    encoding of the sensorimotor values; rnnlab leaves any readout to the layer above.
    The authors' code also cuts the io-to-io connections and feeds the io positions
    the external input instead of their own activation; here the io units keep their
    recurrent ``U`` connections (Yamashita & Tani 2008, Eq. 6, as read through a
    reimplementation from the authors' code).

    ``learn_initial_state=True`` adds ``initial_state`` (H,), a trainable ``u_0``
    (zero at first) that ``init_state`` returns, so that ``unroll(cell, xs)`` starts
    from it and trains it. It is one vector shared by every sequence. The paper
    learns the slow context units' initial state once per training sequence, the
    code that selects which sequence the network produces; to do that, keep a table
    ``u0`` (N, H) of your own beside the cell and pass ``state=u0[sequence_ids]`` to
    :func:`rnnlab.unroll`.

    >>> import jax, rnnlab
    >>> cell = rnnlab.MTRNNCell(4, key=jax.random.key(0))
    >>> cell.hidden_size, cell.tau[0], cell.tau[-1]
    (84, Array(2., dtype=float32), Array(70., dtype=float32))
    """

    weight_ih: jax.Array  # (H, D)
    weight_hh: jax.Array  # (H, H)
    bias: jax.Array  # (H,)
    tau: jax.Array  # (H,)
    mask_ih: jax.Array  # (H, D), 1 where a connection exists
    mask_hh: jax.Array  # (H, H)
    initial_state: jax.Array | None  # (H,) trainable u_0, or None for zeros
    input_size: int = eqx.field(static=True)
    hidden_size: int = eqx.field(static=True)
    groups: tuple[int, int, int] = eqx.field(static=True)  # (io, fast, slow) sizes
    nonlinearity: str = eqx.field(static=True)  # "tanh" or "sigmoid" (the paper's)

    def __init__(
        self,
        input_size,
        hidden_size=None,
        *,
        io_size=None,
        fast_size=None,
        slow_size=None,
        tau_io=PAPER_TAU["io"],
        tau_fast=PAPER_TAU["fast"],
        tau_slow=PAPER_TAU["slow"],
        tau=None,
        learn_initial_state=False,
        nonlinearity="tanh",
        cut_io_io=False,
        key,
    ):
        if hidden_size is None:
            n_io = input_size if io_size is None else io_size
            n_fast = PAPER_SIZES["fast"] if fast_size is None else fast_size
            n_slow = PAPER_SIZES["slow"] if slow_size is None else slow_size
        else:
            n_io = 0 if io_size is None else io_size
            rest = hidden_size - n_io
            n_fast = round(0.75 * rest) if fast_size is None else fast_size
            n_slow = rest - n_fast if slow_size is None else slow_size
            if n_io + n_fast + n_slow != hidden_size or min(n_io, n_fast, n_slow) < 0:
                raise UserError(
                    f"MTRNN groups io={n_io}, fast={n_fast}, slow={n_slow} do not add up "
                    f"to hidden_size={hidden_size}"
                )
        H = n_io + n_fast + n_slow
        group = np.repeat([0, 1, 2], [n_io, n_fast, n_slow])  # 0 io, 1 fast, 2 slow
        if tau is None:
            tau = np.array([tau_io, tau_fast, tau_slow])[group]
        tau = np.asarray(tau, dtype=np.float32)
        if tau.ndim > 1 or tau.size not in (1, H):
            raise UserError(f"MTRNN tau must be a number or {H} values, got shape {tau.shape}")
        tau = np.broadcast_to(tau, (H,))
        if nonlinearity not in ("tanh", "sigmoid"):
            raise UserError(f"MTRNN nonlinearity must be tanh or sigmoid, got {nonlinearity!r}")
        if np.any(tau < 1):
            raise UserError(f"MTRNN time constants must be >= 1, got min {tau.min()}")
        # Slow units never see the input, and slow <-> io connections do not exist.
        mask_ih = np.broadcast_to((group != 2)[:, None], (H, input_size))
        mask_hh = ~(
            ((group[:, None] == 2) & (group[None, :] == 0))
            | ((group[:, None] == 0) & (group[None, :] == 2))
            | (cut_io_io & (group[:, None] == 0) & (group[None, :] == 0))
        )
        k1, k2, k3 = jax.random.split(key, 3)
        self.mask_ih = jnp.asarray(mask_ih, dtype=jnp.float32)
        self.mask_hh = jnp.asarray(mask_hh, dtype=jnp.float32)
        self.weight_ih = uniform(k1, (H, input_size), H) * self.mask_ih
        self.weight_hh = uniform(k2, (H, H), H) * self.mask_hh
        self.bias = uniform(k3, (H,), H)
        self.tau = jnp.asarray(tau)
        self.initial_state = jnp.zeros(H) if learn_initial_state else None
        self.input_size, self.hidden_size = input_size, H
        self.groups = (int(n_io), int(n_fast), int(n_slow))
        self.nonlinearity = nonlinearity

    @property
    def output_size(self) -> int:
        return self.hidden_size

    def init_state(self):
        return super().init_state() if self.initial_state is None else self.initial_state

    def output(self, state):
        return self._act(state)

    def _act(self, u):
        return jnp.tanh(u) if self.nonlinearity == "tanh" else jax.nn.sigmoid(u)

    def input_proj(self, x):
        W = self.weight_ih * jax.lax.stop_gradient(self.mask_ih)
        return project(x, W) + self.bias  # (..., H)

    def step(self, u, xp):
        U = self.weight_hh * jax.lax.stop_gradient(self.mask_hh)
        inv_tau = 1.0 / jax.lax.stop_gradient(self.tau)
        h_prev = self._act(u)
        u = (1 - inv_tau) * u + inv_tau * (xp + h_prev @ U.T)
        h = self._act(u)
        return u, h, {"u": u, "h": h}
