"""Next-character models that see a bounded window: the lecture's baselines for ``charlm``.

The state carried from one chunk of a stream to the next is not a hidden vector but the
last ``receptive - 1`` characters themselves (ids, -1 before the start of the stream).
Each chunk is read with them in front, so every prediction sees exactly the window that
the model would see on the unbroken stream: training by contiguous batches, evaluation
chunk by chunk and sampling one character at a time all agree.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from rnnlab.models._baselines import Conv1D, WindowMLP
from rnnlab.models._transformer import CausalTransformer

WINDOW_MODELS = ("window-mlp", "conv1d", "transformer")


class WindowLM(eqx.Module):
    """Embedding -> a causal window model -> logits of the next character.

    ``kind`` picks the body: ``window-mlp`` (an MLP over the last ``window`` characters,
    Bengio et al. 2003's neural n-gram model), ``conv1d`` (two causal convolutions of
    width ``window``, receptive field ``2 * window - 1``) or ``transformer`` (a causal
    decoder with ``layers`` blocks attending over ``window`` steps each). Characters
    before the start of the stream are zero vectors.

    ``logits, states = model(ids, states, key=None, truncate=None)``: ``ids`` (B, T) int
    -> ``logits`` (B, T, V), ``states`` (B, receptive - 1) the ids to read before the
    next chunk; the same call as :class:`rnnlab.charlm.CharLM` (``truncate`` is
    accepted and meaningless: no gradient flows between chunks).

    >>> import jax, jax.numpy as jnp
    >>> lm = WindowLM(5, "window-mlp", embed=4, hidden=8, window=3, key=jax.random.key(0))
    >>> logits, states = lm(jnp.array([[1, 2, 3, 4]]))
    >>> logits.shape, states.tolist()
    ((1, 4, 5), [[3, 4]])
    """

    embedding: jax.Array  # (V, E)
    body: eqx.Module  # (B, T, E), (B,) -> (B, T, V), each step from its causal window

    def __init__(self, vocab_size, kind, *, embed=64, hidden=256, layers=1, window=16, key):
        if kind not in WINDOW_MODELS:
            raise ValueError(f"kind must be one of {WINDOW_MODELS}, got {kind!r}")
        k_e, k_b = jax.random.split(key)
        self.embedding = jax.random.normal(k_e, (vocab_size, embed))
        if kind == "transformer":
            self.body = CausalTransformer(
                embed, vocab_size, hidden=hidden, layers=layers, context=window, key=k_b
            )
        else:
            net = WindowMLP if kind == "window-mlp" else Conv1D
            self.body = net(embed, vocab_size, hidden=hidden, window=window, pool=False, key=k_b)

    @property
    def vocab_size(self) -> int:
        return self.embedding.shape[0]

    @property
    def receptive(self) -> int:
        """Characters that one prediction reads (the last one included)."""
        return self.body.receptive

    def init_state(self, batch_size: int):
        """Nothing read yet: (B, receptive - 1) of -1."""
        return jnp.full((batch_size, self.receptive - 1), -1, jnp.int32)

    def __call__(self, ids, states=None, *, key=None, truncate=None):
        B, T = ids.shape
        if states is None:
            states = self.init_state(B)
        full = jnp.concatenate([states, ids.astype(jnp.int32)], axis=1)  # (B, R - 1 + T)
        xs = jnp.where(full[..., None] >= 0, self.embedding[jnp.maximum(full, 0)], 0.0)
        logits = self.body(xs, jnp.full((B,), full.shape[1]))  # (B, R - 1 + T, V)
        return logits[:, states.shape[1] :], full[:, full.shape[1] - states.shape[1] :]
