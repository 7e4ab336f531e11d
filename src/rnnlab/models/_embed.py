"""An embedding front end for token-id inputs, in front of any sequence model."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp


class Embedded(eqx.Module):
    """Token ids -> learned vectors -> ``body``: the sequence models keep their float
    input (B, T, D), and a task whose steps are words or characters puts this in front.

    ``net(xs, lengths, *, key=None)``: ``xs`` (B, T, 1) holds the ids as floats (the
    tasks' one array layout; exact below 2**24) or (B, T) ints; id 0 is padding.

    >>> import jax
    >>> from rnnlab.models import Embedded, SequenceClassifier
    >>> body = SequenceClassifier(4, 3, hidden=8, key=jax.random.key(0))
    >>> net = Embedded(10, 4, body, key=jax.random.key(1))
    >>> net(jnp.array([[[1.0], [7.0], [0.0]]]), jnp.array([2])).shape
    (1, 3)
    """

    embedding: eqx.nn.Embedding
    body: eqx.Module

    def __init__(self, vocab_size: int, embed: int, body, *, key):
        self.embedding = eqx.nn.Embedding(vocab_size, embed, key=key)
        self.body = body

    def __call__(self, xs, lengths, *, key=None, **kw):
        """``kw`` (``truncate``) goes to ``body``."""
        ids = xs[..., 0] if xs.ndim == 3 else xs  # (B, T)
        ids = jnp.clip(ids.astype(jnp.int32), 0, self.embedding.num_embeddings - 1)
        return self.body(self.embedding.weight[ids], lengths, key=key, **kw)  # (B, T, E) in
