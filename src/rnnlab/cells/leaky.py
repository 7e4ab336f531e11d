"""A leaky Elman network: rate units that relax towards their input (Murray 2019)."""

from __future__ import annotations

import math

import equinox as eqx

from rnnlab.cells._base import Cell, activation
from rnnlab.errors import UserError


class LeakyElmanCell(Cell):
    r"""Elman's network with leaky units, one step: each unit moves a fraction ``alpha``
    of the way to Elman's update (a discretised rate network, ``alpha = dt / tau``).

    .. math::
        h_t = (1 - \alpha)\, h_{t-1} + \alpha\, \mathrm{act}(W x_t + b_{ih} + U h_{t-1} + b_{hh})

    This is the network of Murray's random-feedback local online learning ("Local online
    learning in recurrent networks with random feedback", eLife 8:e43299, 2019), the
    units of leaky echo state networks, and :class:`rnnlab.ElmanCell` at ``alpha = 1``.
    Its local trace, ``(1 - alpha)`` per unit, is what :class:`rnnlab.learn.RFLO` keeps.

    State and output: ``h`` (H,). Parameters as :class:`rnnlab.ElmanCell`.

    >>> import jax, rnnlab
    >>> from rnnlab.cells.leaky import LeakyElmanCell
    >>> cell = LeakyElmanCell(3, 5, alpha=0.2, key=jax.random.key(0))
    >>> h, y = cell(cell.init_state(), jax.numpy.ones(3))
    """

    alpha: float = eqx.field(static=True)
    nonlinearity: str = eqx.field(static=True)
    gates = 1
    additive = True  # reads xp + hp only

    def __init__(
        self, input_size, hidden_size, *, alpha=0.1, nonlinearity="tanh", use_bias=True, key
    ):
        activation(nonlinearity)
        if not (isinstance(alpha, int | float) and math.isfinite(alpha) and 0 < alpha <= 1):
            raise UserError(f"alpha (dt / tau) must be in (0, 1], got {alpha!r}")
        super().__init__(input_size, hidden_size, use_bias=use_bias, key=key)
        self.alpha, self.nonlinearity = float(alpha), nonlinearity

    def pointwise(self, h, xp, hp):
        h = (1 - self.alpha) * h + self.alpha * activation(self.nonlinearity)(xp + hp)
        return h, h, {"h": h}
