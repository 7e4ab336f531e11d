"""The character-level language model: embedding -> stacked recurrent layers -> softmax,
and its loss."""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from rnnlab.cells import Cell
from rnnlab.cells.lstm import with_forget_bias
from rnnlab.config import ModelConfig
from rnnlab.layers import RNN


class CharLM(eqx.Module):
    """Predicts the next character from the ones before (Karpathy's char-rnn).

    ``logits, states = model(ids, states, key=None)`` with ``ids`` (B, T) int and
    ``logits`` (B, T, V). ``states`` are the recurrent layers' states (see
    :class:`rnnlab.RNN`); pass them back in to continue a stream (truncated BPTT
    across contiguous batches, or sampling one character at a time).

    Dropout (``config.dropout`` = p, training only: pass ``key``, one or one per row)
    applies between recurrent layers and, as in char-rnn's ``LSTM.lua``, to the last
    layer's output before the readout, so a one-layer model has it too: each kept unit is
    scaled by 1 / (1 - p). Karpathy et al. (2015, sec. 3.3) cross-validate p per model.
    """

    embedding: jax.Array | None  # (V, E); None: one-hot input (``config.onehot``)
    rnn: RNN
    readout_weight: jax.Array  # (V, O)
    readout_bias: jax.Array  # (V,)

    def __init__(self, vocab_size: int, config: ModelConfig, *, key):
        # Initialised as its torch twin (nn.Embedding -> nn.LSTM -> nn.Linear) is, so
        # that the two learn alike from their own starts: embedding N(0, 1), readout
        # weight and bias U(-1/sqrt(O), 1/sqrt(O)); the cells already draw torch's way.
        k_e, k_r, k_w, k_b = jax.random.split(key, 4)
        if config.onehot:
            self.embedding = None
        else:
            self.embedding = jax.random.normal(k_e, (vocab_size, config.embed))
        self.rnn = RNN(
            config.cell,
            vocab_size if config.onehot else config.embed,
            config.hidden,
            config.layers,
            dropout=config.dropout,
            key=k_r,
        )
        O = self.rnn.output_size
        bound = 1.0 / jnp.sqrt(O)
        self.readout_weight = jax.random.uniform(k_w, (vocab_size, O), minval=-bound, maxval=bound)
        self.readout_bias = jax.random.uniform(k_b, (vocab_size,), minval=-bound, maxval=bound)
        if config.init > 0:  # char-rnn's U(-0.08, 0.08) for every weight and bias
            k_e, k_r, k_w, k_b = jax.random.split(k_e, 4)
            a = config.init
            if self.embedding is not None:
                self.embedding = jax.random.uniform(k_e, self.embedding.shape, minval=-a, maxval=a)
            self.rnn = _uniform(self.rnn, a, k_r)
            self.readout_weight = jax.random.uniform(k_w, (vocab_size, O), minval=-a, maxval=a)
            self.readout_bias = jax.random.uniform(k_b, (vocab_size,), minval=-a, maxval=a)
        if config.forget_bias is not None:  # char-rnn: 1, after the uniform draw
            cells = tuple(
                tuple(with_forget_bias(c, config.forget_bias) for c in layer)
                for layer in self.rnn.cells
            )
            self.rnn = eqx.tree_at(lambda r: r.cells, self.rnn, cells)

    @property
    def vocab_size(self) -> int:
        return self.readout_bias.shape[0]

    def init_state(self, batch_size: int):
        return self.rnn.init_state(batch_size)

    def __call__(self, ids, states=None, *, key=None, truncate=None):
        hs, states = self.features(ids, states, key=key, truncate=truncate)  # (B, T, O)
        logits = hs @ self.readout_weight.T + self.readout_bias  # (B, T, V)
        return logits, states

    def features(self, ids, states=None, *, key=None, truncate=None):
        """The last layer's outputs ``hs`` (B, T, O) that the readout reads, and the states.

        The first layer's input projection ``W x`` is gathered per token from a (V, G)
        table instead of multiplied per step: ``W^T[ids]`` for one-hot input (a column
        of ``W``, exact), ``(E W^T)[ids]`` for an embedding ``E`` (the gradient still
        reaches both). For a (B, T) batch that is V rows of work instead of B*T. The rows
        are gathered time-major, as the loop reads them: the swap to (B, T) here and
        :func:`rnnlab.unroll`'s back to (T, B) cancel, with no copy of the (T, B, G) array.
        """
        cell = self.rnn.cells[0][0]
        if (
            getattr(type(cell), "input_proj", None) is Cell.input_proj
            and not self.rnn.bidirectional
        ):
            W_T = cell.weight_ih.T  # (D, G)
            table = W_T if self.embedding is None else self.embedding @ W_T  # (V, G)
            xs = jnp.swapaxes(table[ids.T], 0, 1)  # (B, T, G)
            hs, states = self.rnn(xs, states, key=key, truncate=truncate, projected=True)
        else:
            if self.embedding is None:
                xs = jax.nn.one_hot(ids, self.vocab_size)  # (B, T, V)
            else:
                xs = self.embedding[ids]  # (B, T, E)
            hs, states = self.rnn(xs, states, key=key, truncate=truncate)  # (B, T, O)
        if key is not None and self.rnn.dropout > 0:
            hs = _drop(hs, key, self.rnn.dropout)
        return hs, states


_WEIGHTS = ("weight", "bias", "peephole")


def _drop(hs, key, p: float):
    """Dropout of ``hs`` (B, T, O) before the readout: a unit is kept with probability
    1 - p and scaled by 1 / (1 - p). ``key`` is one key or one per row (B,); a row's mask
    then depends on its own key alone. The key is folded with 1, so the mask differs
    from those the layers drew from the same key."""
    typed = jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)
    if key.ndim == (1 if typed else 2):  # one key per row
        keys = jax.vmap(lambda k: jax.random.fold_in(k, 1))(key)
        keep = jax.vmap(lambda k: jax.random.bernoulli(k, 1 - p, hs.shape[1:]))(keys)
    else:
        keep = jax.random.bernoulli(jax.random.fold_in(key, 1), 1 - p, hs.shape)
    return jnp.where(keep, hs / (1 - p), 0)


def _uniform(tree, scale: float, key):
    """``tree`` with every weight and bias redrawn from U(-scale, scale); other arrays
    (an MTRNN's time constants, masks and initial state) are kept."""
    leaves, treedef = jax.tree_util.tree_flatten_with_path(tree)
    keys = jax.random.split(key, len(leaves))
    new = []
    for (path, leaf), k in zip(leaves, keys, strict=True):
        name = getattr(path[-1], "name", "") if path else ""
        if isinstance(leaf, jax.Array) and name.startswith(_WEIGHTS):
            leaf = jax.random.uniform(k, leaf.shape, leaf.dtype, -scale, scale)
        new.append(leaf)
    return jax.tree_util.tree_unflatten(treedef, new)


@functools.cache
def lm_loss(truncate: int | None):
    """The summed next-character cross-entropy of a batch, carrying the stream state.

    One function per ``truncate`` (cached): it is a static argument of the engine's
    compiled step.
    """

    def loss(model, batch, carry, keys):
        x, y = batch  # (b, T) ids each
        if not isinstance(model, CharLM):  # a window baseline (WindowLM): its own logits
            logits, carry = model(x, carry, key=keys, truncate=truncate)  # (b, T, V)
            nll = optax.softmax_cross_entropy_with_integer_labels(logits, y)  # (b, T)
            return nll.sum(), y.size, carry
        hs, carry = model.features(x, carry, key=keys, truncate=truncate)  # (b, T, O)
        # time-major, as the loop wrote hs: this swap and unroll's cancel (no copy)
        hs = jnp.swapaxes(hs, 0, 1)  # (T, b, O)
        logits = hs @ model.readout_weight.T + model.readout_bias  # (T, b, V)
        nll = optax.softmax_cross_entropy_with_integer_labels(logits, y.T)  # (T, b)
        return nll.sum(), y.size, carry

    return loss
