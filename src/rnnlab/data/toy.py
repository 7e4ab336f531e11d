"""The lecture's toy: learn to spell "hello" one character at a time.

With the vocabulary ``e, h, l, o`` the network reads ``h, e, l, l`` and must answer
``e, l, l, o``; the two ``l`` inputs need different answers, so only a network with
memory of the earlier characters can get all four right.

>>> vocab, x, y = next_char_pairs(HELLO)
>>> vocab.chars
('e', 'h', 'l', 'o')
>>> x.tolist(), y.tolist()
([1, 0, 2, 2], [0, 2, 2, 3])
>>> vocab.decode(x), vocab.decode(y)
('hell', 'ello')
"""

from __future__ import annotations

import numpy as np

from rnnlab.data.vocab import Vocab
from rnnlab.errors import UserError

HELLO = "hello"


def next_char_pairs(text: str = HELLO) -> tuple[Vocab, np.ndarray, np.ndarray]:
    """Vocabulary, inputs ``(T,)`` and targets ``(T,)`` for next-character prediction.

    ``T = len(text) - 1``; target ``t`` is input ``t + 1``.
    """
    if len(text) < 2:
        raise UserError(f"text {text!r} is too short; give at least two characters")
    vocab = Vocab.from_text(text)
    ids = vocab.encode(text)
    return vocab, ids[:-1], ids[1:]
