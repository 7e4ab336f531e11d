"""A trained model's internals over one sequence: every gate and state of every layer,
the next-step distribution, the per-step loss and the gradients through time."""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.errors import UserError
from rnnlab.layers import layer_grad_norms, trace_layers


@dataclasses.dataclass
class Trace:
    """What a stacked recurrent network did over one sequence of T steps.

    ``layers[l][name]`` is internal ``name`` (``h``, ``c``, the gates ``i f g o`` or
    ``r z n``, the MTRNN potential ``u``) of layer ``l`` at every step, (T, H) float32:
    its value after reading step t. For a char model ``probs`` (T, V) is the predicted
    distribution of the character after step t and ``loss`` (T,) the surprisal
    ``-log p(x_t | x_<t)`` in nats (``nan`` for the first step, which nothing predicts).
    """

    layers: list[dict[str, np.ndarray]]
    probs: np.ndarray | None = None
    loss: np.ndarray | None = None


def trace_rnn(rnn, xs) -> list[dict[str, np.ndarray]]:
    """The internals of every layer of ``rnn`` (a forward :class:`rnnlab.RNN`) over one
    sequence ``xs`` (T, D), from the zero state, as float32 NumPy arrays: a list of
    ``{name: (T, H)}`` (:func:`rnnlab.trace_layers`, compiled)."""
    _, internals = _trace(rnn, xs)
    return [{k: np.asarray(v, np.float32) for k, v in d.items()} for d in internals]


_trace = eqx.filter_jit(trace_layers)


@eqx.filter_jit
def _charlm_outputs(model, ids):
    logits, _ = model(ids[None])  # (1, T, V)
    return jax.nn.log_softmax(logits[0], axis=-1)  # (T, V)


def charlm_inputs(model, ids):
    """What a char model's first recurrent layer reads for ``ids`` (T,): the embedding
    vectors, or one-hot vectors when the model has no embedding. (T, E)"""
    if getattr(model, "rnn", None) is None:
        raise UserError("rnnlab inspect reads recurrent char models, not window baselines")
    if getattr(model, "embedding", None) is None:
        return jax.nn.one_hot(ids, model.readout_bias.shape[0])
    return model.embedding[ids]


def trace_charlm(model, ids) -> Trace:
    """The :class:`Trace` of a char model (:class:`rnnlab.charlm.CharLM`) reading ``ids``
    (T,) from its zero state: internals, next-character distributions and surprisal."""
    ids = jnp.asarray(ids, jnp.int32)
    xs = charlm_inputs(model, ids)  # (T, E); a model without recurrent layers stops here
    layers = trace_rnn(model.rnn, xs)
    logp = np.asarray(_charlm_outputs(model, ids), np.float64)  # (T, V)
    loss = np.full(len(ids), np.nan, np.float32)
    # step t's distribution predicts character t + 1
    loss[1:] = -logp[np.arange(len(ids) - 1), np.asarray(ids[1:])]
    return Trace(layers, np.exp(logp).astype(np.float32), loss)


def charlm_grad_norms(model, ids) -> np.ndarray:
    """Gradients through time of a char model: ``||dL/dh_l(t)||`` (L, T) for the loss
    ``L = -log p(x_T | x_<T)`` of its last prediction over ``ids`` (T + 1,), so that
    the curve shows how far back the error of one prediction reaches, layer by layer.

    The model-level counterpart of :func:`rnnlab.grad_norms_through_time`: compare a
    trained run with its untrained twin (the same config at initialisation)."""
    ids = jnp.asarray(ids, jnp.int32)
    xs = charlm_inputs(model, ids[:-1])  # (T, E)

    def last_nll(hs):
        logits = model.readout_weight @ hs[-1] + model.readout_bias  # (V,)
        return -jax.nn.log_softmax(logits)[ids[-1]]

    return np.asarray(layer_grad_norms(model.rnn, xs, last_nll))
