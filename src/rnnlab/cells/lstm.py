"""The LSTM family: 1997 original, forget gate, peepholes, coupled input-forget gate.

All share the torch layout: ``weight_ih`` (G*H, D), ``weight_hh`` (G*H, H) and
biases (G*H,), gate blocks stacked in the order given in each docstring. The state
is ``(h, c)``, each (H,); the output is ``h``.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from rnnlab.cells._base import Cell, gates, sigmoid, tanh, uniform
from rnnlab.errors import UserError

SQUASH = ("tanh", "paper")  # LSTM1997Cell: the modern tanh, or the 1997 paper's g and h


class _LSTMBase(Cell):
    """Pieces common to every LSTM: zero ``(h, c)`` state, ``hidden`` is ``h``."""

    additive = True  # the gates read only a = xp + hp

    def init_state(self):
        return (jnp.zeros(self.hidden_size), jnp.zeros(self.hidden_size))

    def hidden(self, state):
        return state[0]


class LSTMCell(_LSTMBase):
    r"""LSTM with forget gate (Gers, Schmidhuber & Cummins 2000); torch's ``nn.LSTMCell``.

    .. math::
        i &= \sigma(W_i x + U_i h + b_i) \quad
        f = \sigma(W_f x + U_f h + b_f) \quad
        g = \tanh(W_g x + U_g h + b_g) \quad
        o = \sigma(W_o x + U_o h + b_o) \\
        c &= f \odot c + i \odot g \qquad h = o \odot \tanh(c)

    Gate order in the weights: i, f, g, o (as torch).

    >>> import jax, rnnlab
    >>> cell = rnnlab.LSTMCell(3, 4, key=jax.random.key(0))
    >>> (h, c), y = cell(cell.init_state(), jax.numpy.ones(3))
    """

    gates = 4

    def pointwise(self, state, xp, hp):
        h, c = state
        i, f, g, o = gates(xp + hp, i=sigmoid, f=sigmoid, g=tanh, o=sigmoid)  # 4 x (H,)
        c = f * c + i * g
        h = o * tanh(c)
        return (h, c), h, {"h": h, "c": c, "i": i, "f": f, "g": g, "o": o}


class LSTM1997Cell(_LSTMBase):
    r"""The original LSTM (Hochreiter & Schmidhuber 1997): no forget gate.

    .. math::
        i &= \sigma(W_i x + U_i h + b_i) \quad
        g = \tanh(W_g x + U_g h + b_g) \quad
        o = \sigma(W_o x + U_o h + b_o) \\
        c &= c + i \odot g \qquad h = o \odot \tanh(c)

    The cell state is the "constant error carousel": its self-connection is fixed
    at 1, so the error flowing back along ``c`` never decays (and ``c`` may grow
    without bound on long streams, the problem the forget gate later fixed).
    Gate order in the weights: i, g, o.

    ``squash="tanh"`` (default) is the modern form above. ``squash="paper"`` uses the
    paper's squashing functions, its ``g`` and ``h``: the cell input
    ``g = 4 sigma(a_g) - 2`` in [-2, 2] and ``h = o * (2 sigma(c) - 1)``, the cell
    output squashed into [-1, 1] (``4 sigma(a) - 2 = 2 tanh(a / 2)``,
    ``2 sigma(c) - 1 = tanh(c / 2)``).

    What the 1997 experiments had that this cell does not express:

    - *Memory blocks*: the paper groups S cells into a block that shares one input
      and one output gate. Here every cell has its own gates (blocks of size 1); a
      block of S cells is this cell with the S rows of each gate's weights tied.
      The model class is the same up to that tying; the gate parameter count is not.
    - *Truncated gradient*: the paper's learning rule truncates the error flow
      into the gates and the cell input along the recurrent connections (errors
      reach back in time only through the carousel ``c``), for a local O(1) cost
      per weight and step. That truncation lives in the learning algorithm, outside
      the cell; :func:`rnnlab.unroll` computes the full gradient (its ``truncate``
      option cuts at chunk boundaries, a different truncation).

    - *Gate-to-gate recurrence*: in the 1997 nets every memory cell and every gate
      unit receives connections from all memory cells *and gate units* of the
      previous step (the hidden layer is fully connected). Here the gates read the
      previous cell outputs ``h`` only, so this does change what a step computes.

    The first two do not change what one step computes, but they change training:
    learning speed and success rates from rnnlab are not replications of the paper's
    tables (nor are its other choices, such as online updates and its initial biases).
    (The paper's Table 10 caption swaps the ranges of ``g`` and ``h``; its text and
    Appendix A.1, eqs. 3-5, which this cell follows, are the authority.)

    >>> import jax, rnnlab
    >>> cell = rnnlab.LSTM1997Cell(3, 4, squash="paper", key=jax.random.key(0))
    >>> (h, c), y = cell(cell.init_state(), jax.numpy.ones(3))
    """

    squash: str = eqx.field(static=True)
    gates = 3

    def __init__(self, input_size, hidden_size, *, squash="tanh", use_bias=True, key):
        if squash not in SQUASH:
            raise UserError(f"unknown squash {squash!r}; choose one of {', '.join(SQUASH)}")
        super().__init__(input_size, hidden_size, use_bias=use_bias, key=key)
        self.squash = squash

    def pointwise(self, state, xp, hp):
        h, c = state
        if self.squash == "tanh":
            i, g, o = gates(xp + hp, i=sigmoid, g=tanh, o=sigmoid)  # 3 x (H,)
            c = c + i * g
            h = o * tanh(c)
        else:  # Hochreiter & Schmidhuber 1997, their g and h
            i, s_g, o = gates(xp + hp, i=sigmoid, g=sigmoid, o=sigmoid)  # 3 x (H,)
            g = 4 * s_g - 2
            c = c + i * g
            h = o * (2 * sigmoid(c) - 1)
        return (h, c), h, {"h": h, "c": c, "i": i, "g": g, "o": o}


class PeepholeLSTMCell(_LSTMBase):
    r"""LSTM with peephole connections (Gers & Schmidhuber 2000).

    The gates look at the cell state through diagonal weights ``p``: the input and
    forget gates see the previous cell state, the output gate the new one.

    .. math::
        i &= \sigma(W_i x + U_i h + p_i \odot c_{t-1} + b_i) \quad
        f = \sigma(W_f x + U_f h + p_f \odot c_{t-1} + b_f) \\
        g &= \tanh(W_g x + U_g h + b_g) \qquad c_t = f \odot c_{t-1} + i \odot g \\
        o &= \sigma(W_o x + U_o h + p_o \odot c_t + b_o) \qquad h = o \odot \tanh(c_t)

    Gate order in the weights: i, f, g, o. With ``p = 0`` this is :class:`LSTMCell`.
    """

    peephole_i: jax.Array  # (H,)
    peephole_f: jax.Array  # (H,)
    peephole_o: jax.Array  # (H,)

    gates = 4

    def __init__(self, input_size, hidden_size, *, use_bias=True, key):
        k_w, k_i, k_f, k_o = jax.random.split(key, 4)
        super().__init__(input_size, hidden_size, use_bias=use_bias, key=k_w)
        self.peephole_i = uniform(k_i, (hidden_size,), hidden_size)
        self.peephole_f = uniform(k_f, (hidden_size,), hidden_size)
        self.peephole_o = uniform(k_o, (hidden_size,), hidden_size)

    def pointwise(self, state, xp, hp):
        h, c_prev = state
        a_i, a_f, a_g, a_o = jnp.split(xp + hp, 4, axis=-1)  # 4 x (H,)
        i = sigmoid(a_i + self.peephole_i * c_prev)
        f = sigmoid(a_f + self.peephole_f * c_prev)
        g = tanh(a_g)
        c = f * c_prev + i * g
        o = sigmoid(a_o + self.peephole_o * c)
        h = o * tanh(c)
        return (h, c), h, {"h": h, "c": c, "i": i, "f": f, "g": g, "o": o}


class CIFGLSTMCell(_LSTMBase):
    r"""Coupled input-forget gate LSTM (Greff et al. 2017, "LSTM: A search space odyssey").

    One gate decides both what to forget and what to write: ``i = 1 - f``.

    .. math::
        f &= \sigma(W_f x + U_f h + b_f) \quad
        g = \tanh(W_g x + U_g h + b_g) \quad
        o = \sigma(W_o x + U_o h + b_o) \\
        c &= f \odot c + (1 - f) \odot g \qquad h = o \odot \tanh(c)

    This is :class:`LSTMCell` with the coupling and *without* peepholes. Greff et
    al.'s CIFG is a variant of their vanilla LSTM, which has peepholes, so theirs
    has both. Which gate keeps its weights does not matter: ``1 - sigma(a) =
    sigma(-a)``, so ``f = 1 - i`` with the input gate's weights is this cell with
    those weights negated.

    Gate order in the weights: f, g, o.
    """

    gates = 3

    def pointwise(self, state, xp, hp):
        h, c = state
        f, g, o = gates(xp + hp, f=sigmoid, g=tanh, o=sigmoid)  # 3 x (H,)
        c = f * c + (1 - f) * g
        h = o * tanh(c)
        return (h, c), h, {"h": h, "c": c, "f": f, "g": g, "o": o}


# Where each forget-gated cell keeps its forget gate among its gate blocks.
FORGET_BLOCK = {LSTMCell: 1, PeepholeLSTMCell: 1, CIFGLSTMCell: 0}


def with_forget_bias(cell, bias: float):
    """``cell`` (:class:`LSTMCell`, :class:`PeepholeLSTMCell`, :class:`CIFGLSTMCell`) with
    its forget gates starting at f = sigmoid(``bias``): the gate's rows of ``bias_ih`` set
    to ``bias`` and of ``bias_hh`` to 0. torch's initialisation leaves f near 1/2, which
    halves the cell state at every step until the gate learns to hold it; Gers et al.
    (2000) start forget biases positive, char-rnn (Karpathy et al. 2015) at 1.

    >>> import jax, rnnlab
    >>> from rnnlab.cells.lstm import with_forget_bias
    >>> cell = with_forget_bias(rnnlab.LSTMCell(3, 4, key=jax.random.key(0)), 1.0)
    >>> float(cell.bias_ih[4:8].min()), float(cell.bias_hh[4:8].max())
    (1.0, 0.0)
    """
    block = FORGET_BLOCK.get(type(cell))
    if block is None or cell.bias_ih is None:
        raise UserError(
            f"a forget bias needs a cell with a forget gate and biases (lstm, peephole, cifg), "
            f"not {type(cell).__name__}"
        )
    rows = slice(block * cell.hidden_size, (block + 1) * cell.hidden_size)
    new = (cell.bias_ih.at[rows].set(bias), cell.bias_hh.at[rows].set(0.0))
    return eqx.tree_at(lambda c: (c.bias_ih, c.bias_hh), cell, new)
