"""Batched, stacked, optionally bidirectional layers of any cell: ``torch.nn.LSTM`` for all."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from rnnlab.cells import make_cell
from rnnlab.errors import UserError
from rnnlab.unroll import check_truncate, stack_grad_norms, unroll


class RNN(eqx.Module):
    """A stack of recurrent layers over a batch: what ``torch.nn.LSTM`` is, for every cell.

    ``cells[l][d]`` is the cell of layer ``l`` and direction ``d`` (0 forward,
    1 backward). Layer ``l + 1`` reads the outputs of layer ``l``, both directions
    concatenated, with dropout in between while training.

    Call: ``ys, states = rnn(xs, states=None, *, lengths=None, key=None)`` with ``xs``
    (B, T, D) (or (T, B, D) when ``batch_first=False``); ``ys`` is (B, T, dirs*O) and
    ``states`` a list of the final cell states, one per (layer, direction) in
    PyTorch's order (layer 0 forward, layer 0 backward, layer 1 forward, ...), each
    batched along its first axis. Pass ``key`` to apply dropout (training): one
    PRNG key, or one key per batch row (B,) so that each row's masks depend on its
    own key only. ``lengths``, ``truncate`` and ``remat`` go to :func:`rnnlab.unroll`,
    which runs each layer and direction over the whole batch; ``projected=True`` means
    ``xs`` are layer 0's ``W x`` already (see :func:`rnnlab.unroll`).

    >>> import jax, jax.numpy as jnp, rnnlab
    >>> rnn = rnnlab.RNN("gru", 8, 16, num_layers=2, bidirectional=True, key=jax.random.key(0))
    >>> ys, states = rnn(jnp.ones((4, 10, 8)))
    >>> ys.shape, len(states)
    ((4, 10, 32), 4)
    """

    cells: tuple
    dropout: float = eqx.field(static=True)
    batch_first: bool = eqx.field(static=True)

    def __init__(
        self,
        cell,
        input_size,
        hidden_size,
        num_layers=1,
        *,
        bidirectional=False,
        dropout=0.0,
        batch_first=True,
        key=None,
        cells=None,
        **cell_kwargs,
    ):
        if cells is None:
            if key is None:
                raise UserError("RNN needs a PRNG key: RNN(..., key=jax.random.key(seed))")
            if num_layers < 1:
                raise UserError(f"num_layers must be >= 1, got {num_layers}")
            dirs = 2 if bidirectional else 1
            keys = jax.random.split(key, num_layers * dirs).reshape(num_layers, dirs)
            stack, size = [], input_size
            for layer in range(num_layers):
                made = tuple(
                    cell(size, hidden_size, key=keys[layer, d], **cell_kwargs)
                    if callable(cell)
                    else make_cell(cell, size, hidden_size, key=keys[layer, d], **cell_kwargs)
                    for d in range(dirs)
                )
                stack.append(made)
                size = dirs * made[0].output_size
            cells = tuple(stack)
        if not 0.0 <= dropout < 1.0:
            raise UserError(f"dropout must be in [0, 1), got {dropout}")
        self.cells = tuple(tuple(c) for c in cells)
        self.dropout = float(dropout)
        self.batch_first = batch_first

    @property
    def num_layers(self) -> int:
        return len(self.cells)

    @property
    def bidirectional(self) -> bool:
        return len(self.cells[0]) == 2

    @property
    def input_size(self) -> int:
        return self.cells[0][0].input_size

    @property
    def output_size(self) -> int:
        return len(self.cells[-1]) * self.cells[-1][0].output_size

    def init_state(self, batch_size: int):
        """Zero states, one per (layer, direction), each batched to ``batch_size``."""
        return [
            jax.tree_util.tree_map(
                lambda s: jnp.broadcast_to(s, (batch_size,) + s.shape), c.init_state()
            )
            for layer in self.cells
            for c in layer
        ]

    def __call__(
        self, xs, states=None, *, lengths=None, key=None, truncate=None, remat=False,
        projected=False,
    ):  # fmt: skip
        if not self.batch_first:
            xs = jnp.swapaxes(xs, 0, 1)
        width = self.input_size
        if projected:  # layer 0's W x, gathered by the caller (see rnnlab.unroll)
            if self.bidirectional:
                raise UserError("projected inputs need a forward stack, not a bidirectional one")
            width = self.cells[0][0].weight_ih.shape[0]
        if xs.ndim != 3 or xs.shape[-1] != width:
            raise UserError(f"RNN expects inputs of shape (B, T, {width}), got {tuple(xs.shape)}")
        check_truncate(truncate)
        B = xs.shape[0]
        if states is None:
            states = self.init_state(B)
        per_row = key is not None and _per_row_keys(key, B)
        finals, k = [], 0
        for layer, cells in enumerate(self.cells):
            if layer > 0 and self.dropout > 0 and key is not None:
                xs, key = self._dropout(xs, key, per_row)
            outs = []
            for d, cell in enumerate(cells):
                ys, state = unroll(
                    cell,
                    xs,
                    states[k],
                    lengths=lengths,
                    reverse=d == 1,
                    truncate=truncate,
                    remat=remat,
                    projected=projected and layer == 0,
                )
                outs.append(ys)  # (B, T, O)
                finals.append(state)
                k += 1
            xs = outs[0] if len(outs) == 1 else jnp.concatenate(outs, axis=-1)
        if not self.batch_first:
            xs = jnp.swapaxes(xs, 0, 1)
        return xs, finals

    def _dropout(self, xs, key, per_row):
        """Dropout of ``xs`` (B, T, F); returns it and the key for the next layer. With
        per-row keys (B,), row b's mask comes from key b alone: the masks do not
        depend on how the batch is split (across devices, for instance)."""
        p = self.dropout
        if per_row:
            keys = jax.vmap(jax.random.split)(key)  # (B, 2)
            key, sub = keys[:, 0], keys[:, 1]
            keep = jax.vmap(lambda k: jax.random.bernoulli(k, 1 - p, xs.shape[1:]))(sub)
        else:
            key, sub = jax.random.split(key)
            keep = jax.random.bernoulli(sub, 1 - p, xs.shape)
        return jnp.where(keep, xs / (1 - p), 0), key


def _per_row_keys(key, B: int) -> bool:
    """Whether ``key`` is one PRNG key per batch row (B,) rather than a single key."""
    typed = jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)
    rows = key.ndim == (1 if typed else 2)
    if rows and key.shape[0] != B:
        raise UserError(f"RNN got {key.shape[0]} dropout keys for a batch of {B}")
    return rows


def trace_layers(rnn: RNN, xs, states=None):
    """Every internal of every layer of a forward stack ``rnn`` over ``xs``: what the
    stack computes, with ``rnnlab.unroll(..., trace=True)`` for each layer in turn.

    ``xs`` is one sequence (T, D) or a batch (B, T, D) (batch first, whatever
    ``rnn.batch_first``); ``states`` one initial state per layer (default: zero).
    Returns ``(ys, internals)``: ``ys`` the top layer's outputs (T, O) (or (B, T, O)),
    ``internals[l][name]`` internal ``name`` of layer ``l`` (``h``, ``c``, the gates
    ``i f g o`` or ``r z n``, the MTRNN potential ``u``) after every step, (T, H) (or
    (B, T, H)). No dropout: the stack as it predicts.

    >>> import jax, rnnlab
    >>> rnn = rnnlab.RNN("lstm", 3, 5, num_layers=2, key=jax.random.key(0))
    >>> ys, internals = rnnlab.trace_layers(rnn, jax.numpy.ones((7, 3)))
    >>> ys.shape, sorted(internals[1]), internals[1]["f"].shape
    ((7, 5), ['c', 'f', 'g', 'h', 'i', 'o'], (7, 5))
    """
    _forward_only(rnn, "trace_layers")
    states = [None] * rnn.num_layers if states is None else states
    internals = []
    for (cell,), state in zip(rnn.cells, states, strict=True):
        xs, _, inside = unroll(cell, xs, state, trace=True)  # xs: (T, O) for the next layer
        internals.append(inside)
    return xs, internals


def layer_grad_norms(rnn: RNN, xs, loss_fn=None, *, states=None, truncate=None):
    """``||dL/dh_l(t)||`` for every layer ``l`` and step ``t`` of a forward stack ``rnn``
    over one sequence ``xs`` (T, D): :func:`rnnlab.grad_norms_through_time` for a stack.

    ``loss_fn`` maps the top layer's outputs (T, O) to a scalar (default ``sum(ys[-1])``,
    a loss at the last step); ``h_l(t)`` is layer ``l``'s state after step ``t`` (its
    ``h`` part); the derivative is the total one, through every later step and every
    layer above. ``truncate=k`` runs every layer with truncated BPTT, as training with
    ``RNN(..., truncate=k)`` does. Returns (L, T).

    >>> import jax, jax.numpy as jnp, rnnlab
    >>> rnn = rnnlab.RNN("elman", 1, 8, num_layers=2, key=jax.random.key(0))
    >>> g = rnnlab.layer_grad_norms(rnn, jnp.ones((30, 1)), truncate=10)
    >>> g.shape, float(g[:, :20].max()), bool(g[0, -1] > 0)
    ((2, 30), 0.0, True)
    """
    _forward_only(rnn, "layer_grad_norms")
    check_truncate(truncate)
    cells = [cell for (cell,) in rnn.cells]
    states = [None] * len(cells) if states is None else states
    return stack_grad_norms(cells, xs, loss_fn, states, truncate)


def _forward_only(rnn: RNN, what: str) -> None:
    if rnn.bidirectional:
        raise UserError(f"{what} reads forward stacks, not bidirectional ones")
