"""Many-to-one and synced many-to-many heads on a stack of recurrent layers."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from rnnlab.layers import RNN


def last_valid(ys, lengths):
    """The output of each row's last valid step: ``ys`` (B, T, F), ``lengths`` (B,) -> (B, F)."""
    idx = jnp.clip(lengths - 1, 0, ys.shape[1] - 1)[:, None, None]  # (B, 1, 1)
    return jnp.take_along_axis(ys, idx, axis=1)[:, 0]


class _Recurrent(eqx.Module):
    """``layers`` recurrent layers of ``cell`` and a linear readout to ``classes`` logits."""

    rnn: RNN
    readout: eqx.nn.Linear

    def __init__(self, features, classes, *, cell="lstm", hidden=64, layers=1, dropout=0.0, key):
        k_rnn, k_out = jax.random.split(key)
        self.rnn = RNN(cell, features, hidden, layers, dropout=dropout, key=k_rnn)
        self.readout = eqx.nn.Linear(self.rnn.output_size, classes, key=k_out)

    def outputs(self, xs, lengths, key, truncate=None):
        # (B, T, H); zero past each length. truncate: BPTT within chunks of that many steps
        ys, _ = self.rnn(xs, lengths=lengths, key=key, truncate=truncate)
        return ys


class SequenceClassifier(_Recurrent):
    """Many-to-one: read the whole sequence, classify it from the last valid step's output.

    ``net(xs, lengths, *, key=None, truncate=None)``: ``xs`` (B, T, D), ``lengths`` (B,)
    -> logits (B, C). ``key`` (one, or one per row) turns dropout on between layers
    (training); ``truncate`` cuts the gradient through time into chunks of that many steps.
    """

    def __call__(self, xs, lengths, *, key=None, truncate=None):
        h = last_valid(self.outputs(xs, lengths, key, truncate), lengths)  # (B, H)
        return jax.vmap(self.readout)(h)


class SequenceTagger(_Recurrent):
    """Synced many-to-many: one label per step, from that step's output.

    ``net(xs, lengths, *, key=None, truncate=None)``: ``xs`` (B, T, D) -> logits (B, T, C);
    steps at or past ``lengths`` are padding (their logits mean nothing; losses mask them).
    """

    def __call__(self, xs, lengths, *, key=None, truncate=None):
        ys = self.outputs(xs, lengths, key, truncate)  # (B, T, H)
        return jax.vmap(jax.vmap(self.readout))(ys)
