"""Character vocabulary: the sorted distinct code points of a text, and ids for them.

Id ``i`` is the ``i``-th smallest code point, so the same text always gives the same
ids, whatever order its characters first appear in.

>>> vocab = Vocab.from_text("hello")
>>> vocab.chars, vocab.size
(('e', 'h', 'l', 'o'), 4)
>>> vocab.encode("hello").tolist()
[1, 0, 2, 2, 3]
>>> vocab.decode([3, 2, 0])
'ole'
>>> Vocab.from_json(vocab.to_json()) == vocab
True
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import numpy as np

from rnnlab.errors import UserError

# Beyond this many distinct characters the softmax is mostly noise (binary junk,
# mixed scripts): a char model wants a cleaner corpus, not a bigger output layer.
MAX_VOCAB = 1000


def _code_points(text: str) -> np.ndarray:
    """The code points of ``text`` as a ``(len(text),)`` uint32 array, without a loop."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


class Vocab:
    """An ordered set of characters (single code points) with ids ``0 .. size-1``."""

    __slots__ = ("_chars", "_codes")

    def __init__(self, chars: Iterable[str]):
        chars = tuple(chars)
        for ch in chars:
            if not isinstance(ch, str) or len(ch) != 1:
                raise UserError(f"vocabulary entry {ch!r} is not a single character")
        if not chars:
            raise UserError("a vocabulary needs at least one character; give a non-empty text")
        if len(chars) > MAX_VOCAB:
            raise UserError(
                f"corpus has {len(chars)} distinct characters, more than {MAX_VOCAB}; "
                "give a cleaner text corpus (one language, no binary data)"
            )
        codes = np.array([ord(ch) for ch in chars], dtype=np.uint32)
        # Sorted and distinct is what makes encode's binary search and the ids stable.
        if np.any(np.diff(codes.astype(np.int64)) <= 0):
            raise UserError("vocabulary characters must be distinct and sorted by code point")
        self._chars = chars
        self._codes = codes

    @classmethod
    def from_text(cls, text: str) -> Vocab:
        """The vocabulary of every distinct character in ``text``."""
        if not text:
            raise UserError("a vocabulary needs at least one character; give a non-empty text")
        return cls(chr(c) for c in np.unique(_code_points(text)))

    @property
    def chars(self) -> tuple[str, ...]:
        """The characters, in id order."""
        return self._chars

    @property
    def size(self) -> int:
        """Number of characters, the width of a one-hot input."""
        return len(self._chars)

    def __len__(self) -> int:
        return len(self._chars)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self._chars == other._chars

    def __hash__(self) -> int:
        return hash(self._chars)

    def __repr__(self) -> str:
        shown = "".join(self._chars[:40]) + ("..." if self.size > 40 else "")
        return f"Vocab(size={self.size}, chars={shown!r})"

    def encode(self, text: str) -> np.ndarray:
        """``text`` as a ``(len(text),)`` int32 array of ids."""
        points = _code_points(text)
        ids = np.searchsorted(self._codes, points)
        known = ids < len(self._codes)
        known[known] = self._codes[ids[known]] == points[known]
        if not known.all():
            pos = int(np.argmin(known))
            raise UserError(
                f"character {text[pos]!r} (U+{ord(text[pos]):04X}) at position {pos} is not "
                "in the vocabulary; use text made of the training corpus's characters"
            )
        return ids.astype(np.int32)

    def decode(self, ids: Sequence[int] | np.ndarray) -> str:
        """The text that ``ids`` stand for."""
        ids = np.asarray(ids)
        if ids.size == 0:
            return ""
        if not np.issubdtype(ids.dtype, np.integer):
            raise UserError(f"ids must be integers, got dtype {ids.dtype}")
        bad = (ids < 0) | (ids >= self.size)
        if bad.any():
            value = int(ids[bad].flat[0])
            raise UserError(f"id {value} is outside the vocabulary (0..{self.size - 1})")
        return self._codes[ids.ravel()].astype("<u4").tobytes().decode("utf-32-le", "surrogatepass")

    def to_json(self) -> list[str]:
        """The characters as a JSON-ready list; ``json.dumps`` escapes what it must."""
        return list(self._chars)

    @classmethod
    def from_json(cls, data: list[str] | str) -> Vocab:
        """Rebuild from :meth:`to_json`'s list, or from that list dumped as a JSON string."""
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except json.JSONDecodeError as err:
                raise UserError(f"vocabulary is not valid JSON ({err}); give a list") from None
        if not isinstance(data, list):
            raise UserError(f"vocabulary JSON must be a list of characters, got {type(data)}")
        return cls(data)
