"""The lecture's non-recurrent baselines: a sliding-window MLP and a 1-D convolution. Both
see only ``window`` steps at a time and pool over the valid steps (many-to-one), or, with
``pool=False``, give one output per step from its causal window (synced many-to-many)."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from rnnlab.models._sequence import last_valid


def windows(xs, width: int):
    """The last ``width`` steps up to each step: (B, T, D) -> (B, T, width*D), zeros before
    the start (a causal window)."""
    B, T, D = xs.shape
    padded = jnp.pad(xs, ((0, 0), (width - 1, 0), (0, 0)))  # (B, T + width - 1, D)
    return jnp.concatenate([padded[:, k : k + T] for k in range(width)], axis=-1)


def masked_mean(values, lengths):
    """Mean over each row's valid steps: (B, T, F), (B,) -> (B, F)."""
    mask = (jnp.arange(values.shape[1])[None, :] < lengths[:, None])[..., None]  # (B, T, 1)
    return jnp.where(mask, values, 0).sum(1) / jnp.maximum(lengths, 1)[:, None]


def _per_step(layer, xs):
    return jax.vmap(jax.vmap(layer))(xs)


class WindowMLP(eqx.Module):
    """Sliding window -> MLP (one tanh hidden layer) -> class scores at every step, averaged
    over the valid steps: the feed-forward answer to sequences, before recurrence.

    ``net(xs, lengths, *, key=None)``: (B, T, D), (B,) -> logits (B, C); with
    ``pool=False``, the scores of every step (B, T, C).
    """

    hidden: eqx.nn.Linear
    out: eqx.nn.Linear
    window: int = eqx.field(static=True)
    pool: bool = eqx.field(static=True)

    def __init__(self, features, classes, *, hidden=64, window=8, pool=True, key):
        k1, k2 = jax.random.split(key)
        self.window, self.pool = window, pool
        self.hidden = eqx.nn.Linear(window * features, hidden, key=k1)
        self.out = eqx.nn.Linear(hidden, classes, key=k2)

    @property
    def receptive(self) -> int:
        """Steps of input that one output depends on (itself included)."""
        return self.window

    def __call__(self, xs, lengths, *, key=None):
        h = jnp.tanh(_per_step(self.hidden, windows(xs, self.window)))  # (B, T, H)
        scores = _per_step(self.out, h)  # (B, T, C)
        return masked_mean(scores, lengths) if self.pool else scores


class Conv1D(eqx.Module):
    """Two causal 1-D convolutions (kernel ``window``, ReLU), mean-pooled over the valid
    steps, then a linear readout.

    ``net(xs, lengths, *, key=None)``: (B, T, D), (B,) -> logits (B, C); with
    ``pool=False``, a readout at every step (B, T, C), each from a causal receptive
    field of ``2 * window - 1`` steps.
    """

    conv1: eqx.nn.Linear  # a convolution is a linear map of each window
    conv2: eqx.nn.Linear
    out: eqx.nn.Linear
    window: int = eqx.field(static=True)
    pool: bool = eqx.field(static=True)

    def __init__(self, features, classes, *, hidden=64, window=8, pool=True, key):
        k1, k2, k3 = jax.random.split(key, 3)
        self.window, self.pool = window, pool
        self.conv1 = eqx.nn.Linear(window * features, hidden, key=k1)
        self.conv2 = eqx.nn.Linear(window * hidden, hidden, key=k2)
        self.out = eqx.nn.Linear(hidden, classes, key=k3)

    @property
    def receptive(self) -> int:
        """Steps of input that one output depends on: two windows, overlapping by one."""
        return 2 * self.window - 1

    def __call__(self, xs, lengths, *, key=None):
        h = jax.nn.relu(_per_step(self.conv1, windows(xs, self.window)))  # (B, T, H)
        h = jax.nn.relu(_per_step(self.conv2, windows(h, self.window)))  # (B, T, H)
        return jax.vmap(self.out)(masked_mean(h, lengths)) if self.pool else _per_step(self.out, h)


class LastStep(eqx.Module):
    """Many-to-one from a per-step model: the output of each row's last valid step.

    A causal window model read this way answers from the last ``receptive`` steps only,
    where mean pooling would let the windows at the start vote too (the lecture's point
    about windows is about what the model sees when it must answer).

    ``net(xs, lengths, *, key=None)``: (B, T, D), (B,) -> (B, C), ``body``'s (B, T, C)
    at step ``lengths - 1``.
    """

    body: eqx.Module

    def __call__(self, xs, lengths, *, key=None):
        return last_valid(self.body(xs, lengths, key=key), lengths)
