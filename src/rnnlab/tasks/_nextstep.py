"""What the next-step tasks (chorales, birdsong) share: unscaled inputs and stepwise generation.

Both train a :class:`rnnlab.models.SequenceTagger` whose output at step t predicts the
input of step t + 1; generation feeds its own choice back, one step at a time, with the
recurrent state carried between calls.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from rnnlab.tasks._data import Dataset


class RawDataset(Dataset):
    """A :class:`Dataset` whose inputs are used as they are (binary or one-hot): its info
    records mean 0 and std 1, so that the shared training path's scaling is the identity."""

    def info(self) -> dict:
        info = super().info()
        info["mean"] = [0.0] * self.features
        info["std"] = [1.0] * self.features
        return info


@eqx.filter_jit
def advance(model, states, xs):
    """Feed ``xs`` (1, T, D) to a tagger from ``states``; return the outputs (logits) of
    the last step and the new states."""
    ys, states = model.rnn(xs, states)  # (1, T, H)
    return model.readout(ys[0, -1]), states


def start(model, xs: np.ndarray):
    """Read a primer ``xs`` (T, D); return (last logits as NumPy, states)."""
    logits, states = advance(model, model.rnn.init_state(1), jnp.asarray(xs[None], jnp.float32))
    return np.asarray(logits), states


def step(model, states, x: np.ndarray):
    """Read one more input ``x`` (D,); return (logits, states)."""
    logits, states = advance(model, states, jnp.asarray(x[None, None], jnp.float32))
    return np.asarray(logits), states
