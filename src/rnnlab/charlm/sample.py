"""Sampling from and evaluating a trained character model."""

from __future__ import annotations

from collections.abc import Iterator

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from rnnlab.charlm.model import CharLM
from rnnlab.data import Vocab
from rnnlab.errors import UserError


@eqx.filter_jit
def _advance(model: CharLM, states, ids):
    """Feed ``ids`` (1, T) and return the logits of the last step and the new states."""
    logits, states = model(ids, states)
    return logits[0, -1], states


@jax.jit
def _pick(logits, key, temperature):
    return jax.random.categorical(key, logits / temperature)


def sample(
    model: CharLM,
    vocab: Vocab,
    *,
    length: int,
    key,
    temperature: float = 1.0,
    prime: str = "",
    argmax: bool = False,
) -> Iterator[str]:
    """Yield ``length`` characters, one at a time, after reading ``prime``.

    Each character is drawn from softmax(logits / temperature); ``argmax=True`` (or
    ``temperature=0``) takes the most likely one instead. The same ``key`` gives
    the same text. Without ``prime`` the model starts from a newline (or the first
    character of the vocabulary when it has none).
    """
    if length < 0:
        raise UserError(f"--length must be >= 0, got {length}")
    if temperature < 0:
        raise UserError(f"--temperature must be >= 0, got {temperature}")
    if not prime:
        prime = "\n" if "\n" in vocab.chars else vocab.chars[0]
    ids = vocab.encode(prime)  # raises UserError naming an unknown character
    states = model.init_state(1)
    logits, states = _advance(model, states, jnp.asarray(ids[None, :]))
    greedy = argmax or temperature == 0
    for i in range(length):
        if greedy:
            nxt = int(jnp.argmax(logits))
        else:
            nxt = int(_pick(logits, jax.random.fold_in(key, i), temperature))
        yield vocab.chars[nxt]
        logits, states = _advance(model, states, jnp.full((1, 1), nxt, jnp.int32))


@eqx.filter_jit
def _eval_chunk(model: CharLM, states, x, y):
    logits, states = model(x, states)
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).sum(), states


def evaluate(model: CharLM, ids: np.ndarray, *, batch_size: int = 32, seq_len: int = 100) -> float:
    """Mean cross-entropy in nats per character of ``ids``, read as B parallel streams.

    The state is carried from chunk to chunk, as in training, so every character
    is predicted from all of its stream before it. A short text uses fewer streams.
    """
    ids = np.asarray(ids, dtype=np.int32)
    if len(ids) < 2:
        raise UserError("need at least 2 characters to evaluate a model")
    B = max(1, min(batch_size, (len(ids) - 1) // (seq_len + 1)))
    L = (len(ids) - 1) // B  # predicted characters per stream
    T = min(seq_len, L)
    xs = ids[: B * L].reshape(B, L)
    ys = ids[1 : B * L + 1].reshape(B, L)
    states = model.init_state(B)
    total = 0.0
    for start in range(0, L - L % T, T):
        nll, states = _eval_chunk(
            model,
            states,
            jnp.asarray(xs[:, start : start + T]),
            jnp.asarray(ys[:, start : start + T]),
        )
        total += float(nll)
    if L % T:  # the tail, as one shorter chunk
        nll, _ = _eval_chunk(
            model, states, jnp.asarray(xs[:, L - L % T :]), jnp.asarray(ys[:, L - L % T :])
        )
        total += float(nll)
    return total / (B * L)
