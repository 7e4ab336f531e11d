"""Data of ``--task numbers``: English number words and their French, from num2words.

Numbers 0..999,999 fall into train, validation and test by a hash of the number
(85/5/10 %), so a test number never appears in training whatever the sizes asked
for. Each split draws its numbers with as many digits (1 to 6) equally often, so the
irregular small numbers (soixante et onze, quatre-vingts) are not drowned by six-digit
ones, then keeps the first ``size`` distinct ones. Characters are the symbols.
"""

from __future__ import annotations

import dataclasses
import functools
import re

import numpy as np

from rnnlab.errors import UserError
from rnnlab.models._seq2seq import EOS

SPLITS = ("train", "val", "test")
LARGEST = 999_999
# Every character num2words 0.5.14 writes for 0..999,999 (English: "one thousand, two
# hundred and thirty-four"; French: "mille deux cent trente-quatre", "zéro").
EN_CHARS = " ,-adefghilnorstuvwxyz"
FR_CHARS = " -acdefghilmnopqrstuvxzé"
MAX_LEN = 76  # the longest text is 73 characters in either language; EOS makes 74
DATA_SEED = 0  # the numbers drawn do not depend on --seed (only the model's init does)


def english(n: int) -> str:
    from num2words import num2words

    return num2words(int(n), lang="en")


def french(n: int) -> str:
    from num2words import num2words

    return num2words(int(n), lang="fr")


def split_of(n) -> np.ndarray:
    """The split of each number: a MurmurHash3 finalizer (fmix64) of the number, modulo
    20: 0-1 test, 2 validation, 3-19 train. ``n`` an int or an array -> array of names."""
    k = np.atleast_1d(np.asarray(n, np.uint64))
    for shift, mult in ((33, 0xFF51AFD7ED558CCD), (33, 0xC4CEB9FE1A85EC53)):
        k = (k ^ (k >> np.uint64(shift))) * np.uint64(mult)  # wraps modulo 2^64
    k = k ^ (k >> np.uint64(33))
    bucket = k % np.uint64(20)
    return np.where(bucket < 2, "test", np.where(bucket < 3, "val", "train"))


def draw(split: str, size: int, seed: int = DATA_SEED) -> np.ndarray:
    """``size`` distinct numbers of ``split``, in the order drawn (a fixed function of
    the arguments): a digit count uniform on 1..6, then a number uniform among those."""
    rng = np.random.default_rng([seed, SPLITS.index(split)])
    out: dict[int, None] = {}
    while len(out) < size:
        digits = rng.integers(1, 7, 8 * size + 64)
        lo = np.where(digits == 1, 0, 10 ** (digits - 1))
        n = rng.integers(lo, 10**digits)
        for x in n[split_of(n) == split].tolist():
            out.setdefault(x, None)
    return np.fromiter(out, np.int64, count=len(out))[:size]


class Vocab:
    """Characters <-> ids; 0, 1, 2 are padding, BOS and EOS (see rnnlab.models)."""

    def __init__(self, chars: str):
        self.chars = chars
        self.ids = {c: i + 3 for i, c in enumerate(chars)}

    @property
    def size(self) -> int:
        return len(self.chars) + 3

    def encode(self, texts, length: int = MAX_LEN, eos: bool = False):
        """(ids (N, length) int32, lengths (N,) int32); EOS closes each row with ``eos``."""
        ids = np.zeros((len(texts), length), np.int32)
        lengths = np.zeros(len(texts), np.int32)
        for r, text in enumerate(texts):
            row = [self.ids[c] for c in text] + ([EOS] if eos else [])
            ids[r, : len(row)], lengths[r] = row, len(row)
        return ids, lengths

    def decode(self, ids) -> str:
        """The text of one row of ids, up to its first EOS (padding and BOS skipped)."""
        out = []
        for i in np.asarray(ids).tolist():
            if i == EOS:
                break
            if i >= 3:
                out.append(self.chars[i - 3])
        return "".join(out)


EN, FR = Vocab(EN_CHARS), Vocab(FR_CHARS)


@dataclasses.dataclass
class Pairs:
    """Numbers and their texts: ``src`` (N, MAX_LEN) English ids, ``tgt`` (N, MAX_LEN)
    French ids ending with EOS, and their lengths (N,)."""

    numbers: np.ndarray
    english: list[str]
    french: list[str]

    def __len__(self) -> int:
        return len(self.numbers)

    @functools.cached_property
    def arrays(self):
        src, src_len = EN.encode(self.english)
        tgt, tgt_len = FR.encode(self.french, eos=True)
        return src, src_len, tgt, tgt_len


def pairs(numbers) -> Pairs:
    numbers = np.asarray(numbers, np.int64)
    return Pairs(numbers, [english(n) for n in numbers], [french(n) for n in numbers])


def split_sizes(size: int) -> dict[str, int]:
    """``size`` training pairs; validation and test a tenth of that, 10 to 1000."""
    held = max(10, min(1000, size // 10))
    return {"train": size, "val": held, "test": held}


def load(size: int) -> dict[str, Pairs]:
    return {s: pairs(draw(s, n)) for s, n in split_sizes(size).items()}


def parse_source(text: str) -> str:
    """A ``--prime``: English number words, or digits (``97``, ``1,234``) -> the words."""
    text = " ".join(text.strip().lower().split())
    digits = text.replace(",", "").replace("_", "").replace(" ", "")
    if digits.isdigit():
        if int(digits) > LARGEST:
            raise UserError(f"--prime {text!r}: numbers go from 0 to {LARGEST:,}")
        return english(int(digits))
    bad = sorted(set(text) - set(EN_CHARS))
    if not text or bad:
        raise UserError(
            f"--prime {text!r} is not English number words (like 'ninety-seven') or digits"
        )
    if len(text) >= MAX_LEN:
        raise UserError(f"--prime is {len(text)} characters; at most {MAX_LEN - 1}")
    return text


# --- metrics and the word-by-word baseline ---------------------------------------------


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions of characters."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def text_scores(predicted: list[str], reference: list[str]) -> dict:
    """``exact_match`` (fraction of texts equal to the reference) and ``cer`` (character
    error rate: edit distance summed over texts / reference characters summed)."""
    exact = np.mean([p == r for p, r in zip(predicted, reference, strict=True)])
    edits = sum(edit_distance(p, r) for p, r in zip(predicted, reference, strict=True))
    return {"exact_match": float(exact), "cer": edits / max(1, sum(map(len, reference)))}


@functools.cache
def _dictionary() -> dict[str, str]:
    values = list(range(20)) + list(range(20, 100, 10)) + [100, 1000]
    return {english(v).split()[-1]: french(v) for v in values}


def word_by_word(text: str) -> str:
    """The trivial translation: each English number word by its French dictionary entry,
    joined by spaces, "and" dropped ("ninety-seven" -> "quatre-vingt-dix sept",
    "one hundred" -> "un cent"); French grammar (et, -s, hyphens, soixante-dix) ignored."""
    words = [w for w in re.split(r"[ ,-]+", text) if w and w != "and"]
    table = _dictionary()
    return " ".join(table.get(w, w) for w in words)
