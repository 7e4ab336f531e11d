"""The lecture's toy: a recurrent network learns to spell "hello".

Vocabulary ``e, h, l, o``; the input is "hell", the target "ello". After training,
the network predicts e, l, l, o after h, e, l, l -- note that the two ``l`` inputs
need different answers (``l`` then ``o``), which only the recurrent state can tell
apart (Karpathy, "The unreasonable effectiveness of recurrent neural networks", 2015).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.charlm.model import CharLM, lm_loss
from rnnlab.config import ModelConfig
from rnnlab.data import HELLO, SameBatch, next_char_pairs
from rnnlab.engine import Problem, Settings, fit, make_optimizer


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
    batch = (np.asarray(x, np.int32)[None], np.asarray(y, np.int32)[None])  # (1, T) each
    # One row: one device (a batch of 1 cannot be split, and the model is tiny).
    problem = Problem(model=model, loss=lm_loss(None), batches=SameBatch(batch), batch_size=1)
    result = fit(problem, make_optimizer("adam", lr), Settings(steps=steps, log_every=1))
    losses = [row["loss"] for row in result.history]
    logits, _ = result.model(jnp.asarray(batch[0]))
    return vocab.decode(jnp.argmax(logits[0], axis=-1)), losses
