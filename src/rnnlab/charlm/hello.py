"""The lecture's toy: a recurrent network learns to spell "hello".

Vocabulary ``e, h, l, o``; the input is "hell", the target "ello". After training,
the network predicts e, l, l, o after h, e, l, l -- note that the two ``l`` inputs
need different answers (``l`` then ``o``), which only the recurrent state can tell
apart (Karpathy, "The unreasonable effectiveness of recurrent neural networks", 2015).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from rnnlab.charlm.config import ModelConfig
from rnnlab.charlm.model import CharLM
from rnnlab.data import HELLO, next_char_pairs


def train_hello(
    cell: str = "elman", *, hidden: int = 8, steps: int = 150, lr: float = 0.05, seed: int = 0
):
    """Train on "hello" and return ``(predicted, losses)``: the argmax after each input.

    >>> predicted, losses = train_hello()
    >>> predicted
    'ello'
    """
    vocab, x, y = next_char_pairs(HELLO)  # "hell" -> "ello" as ids, each (T,)
    model = CharLM(
        vocab.size,
        ModelConfig(cell=cell, hidden=hidden, embed=vocab.size),
        key=jax.random.key(seed),
    )
    optimizer = optax.adam(lr)
    opt_state = optimizer.init(eqx.filter(model, eqx.is_array))
    xb, yb = jnp.asarray(x)[None], jnp.asarray(y)[None]  # (1, T)

    @eqx.filter_jit
    def step(model, opt_state):
        def loss_fn(model):
            logits, _ = model(xb)
            return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()

        loss, grads = eqx.filter_value_and_grad(loss_fn)(model)
        updates, opt_state = optimizer.update(grads, opt_state, eqx.filter(model, eqx.is_array))
        return eqx.apply_updates(model, updates), opt_state, loss

    losses = []
    for _ in range(steps):
        model, opt_state, loss = step(model, opt_state)
        losses.append(float(loss))
    logits, _ = model(xb)
    return vocab.decode(jnp.argmax(logits[0], axis=-1)), losses
