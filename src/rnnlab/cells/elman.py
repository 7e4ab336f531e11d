"""Simple recurrent networks: Elman (1990) and Jordan (1986)."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from rnnlab.cells._base import Cell, Step, activation, project, uniform


class ElmanCell(Cell):
    r"""Elman's simple recurrent network, one step (Elman 1990, "Finding structure in time").

    .. math::  h_t = \mathrm{act}(W x_t + b_{ih} + U h_{t-1} + b_{hh})

    ``act`` is tanh (default), relu or sigmoid. With tanh or relu this is exactly
    the cell of ``torch.nn.RNN`` (same parameter names and shapes).

    State: ``h`` (H,). Output: ``h``.

    >>> import jax, rnnlab
    >>> cell = rnnlab.ElmanCell(3, 5, key=jax.random.key(0))
    >>> h, y = cell(cell.init_state(), jax.numpy.ones(3))
    >>> y.shape
    (5,)
    """

    nonlinearity: str = eqx.field(static=True)
    gates = 1
    additive = True  # h = act(xp + hp)

    def __init__(self, input_size, hidden_size, *, nonlinearity="tanh", use_bias=True, key):
        activation(nonlinearity)  # fail early on an unknown name
        super().__init__(input_size, hidden_size, use_bias=use_bias, key=key)
        self.nonlinearity = nonlinearity

    def pointwise(self, h, xp, hp):
        h = activation(self.nonlinearity)(xp + hp)
        return h, h, {"h": h}


class JordanCell(Step):
    r"""Jordan's network, one step (Jordan 1986): the context is the previous *output*.

    .. math::
        s_t &= \mu\, s_{t-1} + y_{t-1} \\
        h_t &= \mathrm{act}(W x_t + b_{ih} + U s_t + b_{hh}) \\
        y_t &= \mathrm{out}(V h_t + b_y)

    ``s`` are Jordan's state units: a copy of the previous output plus a self-loop
    of fixed weight ``mu``, so that they hold a decaying trace of all past outputs
    (with ``s_0 = y_0 = 0`` by default). ``mu = 0`` (default) gives ``s_t = y_{t-1}``,
    the context most textbooks draw; ``mu`` is fixed data, not trained.

    State: with ``mu = 0``, the previous output ``y`` (O,); otherwise the pair
    ``(s, y)``, each (O,), where ``s`` is the next step's ``s_{t+1} = mu s_t + y_t``
    (``hidden``) and ``y`` the output. Output: ``y``. ``output_size`` defaults to
    ``hidden_size``; ``act`` and ``out`` default to tanh.

    >>> import jax, rnnlab
    >>> cell = rnnlab.JordanCell(3, 5, mu=0.5, key=jax.random.key(0))
    >>> (s, y), y = cell(cell.init_state(), jax.numpy.ones(3))
    """

    weight_ih: jax.Array  # (H, D)
    weight_hh: jax.Array  # (H, O) -- from the state units, not the hidden layer
    bias_ih: jax.Array | None
    bias_hh: jax.Array | None
    weight_out: jax.Array  # (O, H)
    bias_out: jax.Array | None
    input_size: int = eqx.field(static=True)
    hidden_size: int = eqx.field(static=True)
    output_size: int = eqx.field(static=True)
    nonlinearity: str = eqx.field(static=True)
    output_nonlinearity: str = eqx.field(static=True)
    mu: float = eqx.field(static=True)

    def __init__(
        self,
        input_size,
        hidden_size,
        *,
        output_size=None,
        nonlinearity="tanh",
        output_nonlinearity="tanh",
        mu=0.0,
        use_bias=True,
        key,
    ):
        activation(nonlinearity), activation(output_nonlinearity)
        O = hidden_size if output_size is None else output_size
        k1, k2, k3, k4, k5, k6 = jax.random.split(key, 6)
        H = hidden_size
        self.weight_ih = uniform(k1, (H, input_size), H)
        self.weight_hh = uniform(k2, (H, O), H)
        self.bias_ih = uniform(k3, (H,), H) if use_bias else None
        self.bias_hh = uniform(k4, (H,), H) if use_bias else None
        self.weight_out = uniform(k5, (O, H), H)
        self.bias_out = uniform(k6, (O,), H) if use_bias else None
        self.input_size, self.hidden_size, self.output_size = input_size, H, O
        self.nonlinearity, self.output_nonlinearity = nonlinearity, output_nonlinearity
        self.mu = float(mu)

    def init_state(self):
        y = jnp.zeros(self.output_size)
        return y if self.mu == 0 else (y, y)

    def hidden(self, state):
        return state if self.mu == 0 else state[0]

    def output(self, state):
        return state if self.mu == 0 else state[1]

    def input_proj(self, x):
        xp = project(x, self.weight_ih)  # (..., H)
        return xp if self.bias_ih is None else xp + self.bias_ih

    def step(self, state, xp):
        act, out = activation(self.nonlinearity), activation(self.output_nonlinearity)
        s = self.hidden(state)  # s_t (O,)
        context = s @ self.weight_hh.T
        if self.bias_hh is not None:
            context = context + self.bias_hh
        h = act(xp + context)
        v = h @ self.weight_out.T
        y = out(v if self.bias_out is None else v + self.bias_out)
        if self.mu == 0:
            return y, y, {"h": h, "y": y}
        s_next = self.mu * s + y  # Jordan 1986: the state units' self-loop
        return (s_next, y), y, {"h": h, "y": y, "s": s_next}
