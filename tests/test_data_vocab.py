"""Character vocabulary: ids, round trips, errors; and the hello toy built on it."""

import json

import numpy as np
import pytest

from rnnlab.data import HELLO, MAX_VOCAB, Vocab, next_char_pairs
from rnnlab.errors import UserError

FRENCH_EMOJI = "Ça déjà vu — 😀🎉\nfin"


def test_ids_follow_code_point_order():
    vocab = Vocab.from_text("cabbage")
    assert vocab.chars == ("a", "b", "c", "e", "g")
    assert vocab.encode("cabbage").tolist() == [2, 0, 1, 1, 0, 4, 3]


def test_unicode_round_trip_counts_code_points():
    vocab = Vocab.from_text(FRENCH_EMOJI)
    ids = vocab.encode(FRENCH_EMOJI)
    assert ids.dtype == np.int32
    # Code points, not bytes: 19 characters are 30 UTF-8 bytes.
    assert len(ids) == len(FRENCH_EMOJI) == 19 < len(FRENCH_EMOJI.encode())
    assert vocab.size == len(set(FRENCH_EMOJI))
    assert vocab.decode(ids) == FRENCH_EMOJI
    assert vocab.decode(ids.tolist()) == FRENCH_EMOJI


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_json_round_trip(ensure_ascii):
    vocab = Vocab.from_text(FRENCH_EMOJI)
    dumped = json.dumps(vocab.to_json(), ensure_ascii=ensure_ascii)
    assert Vocab.from_json(json.loads(dumped)) == vocab
    assert Vocab.from_json(dumped) == vocab
    assert "\n" in Vocab.from_json(dumped).chars and "😀" in Vocab.from_json(dumped).chars


def test_equality():
    assert Vocab.from_text("abc") == Vocab.from_text("cba")
    assert Vocab.from_text("abc") != Vocab.from_text("abd")
    assert hash(Vocab.from_text("abc")) == hash(Vocab(["a", "b", "c"]))


def test_unknown_character_is_named():
    vocab = Vocab.from_text("hello")
    # 'f' falls between 'e' and 'h'; 'z' after every character of the vocabulary.
    with pytest.raises(UserError, match=r"'f' \(U\+0066\) at position 2"):
        vocab.encode("hef")
    with pytest.raises(UserError, match=r"'z' \(U\+007A\) at position 0"):
        vocab.encode("zoo")


def test_decode_rejects_ids_outside_vocabulary():
    with pytest.raises(UserError, match="id 4 is outside"):
        Vocab.from_text("hello").decode([0, 4])


def test_too_many_characters():
    exactly = "".join(chr(0x4E00 + i) for i in range(MAX_VOCAB))
    assert Vocab.from_text(exactly).size == MAX_VOCAB
    with pytest.raises(UserError, match=f"{MAX_VOCAB + 1} distinct characters.*cleaner"):
        Vocab.from_text(exactly + "a")


@pytest.mark.parametrize(
    "data", [["a", "bc"], ["b", "a"], ["a", "a"], [], '{"a": 1}', "not json", [1, 2]]
)
def test_bad_vocabulary_json(data):
    with pytest.raises(UserError):
        Vocab.from_json(data)


def test_empty_text_has_no_vocabulary():
    with pytest.raises(UserError, match="non-empty"):
        Vocab.from_text("")


def test_hello_toy_pairs():
    vocab, x, y = next_char_pairs(HELLO)
    assert vocab.chars == ("e", "h", "l", "o")
    assert x.tolist() == [1, 0, 2, 2]  # h e l l
    assert y.tolist() == [0, 2, 2, 3]  # e l l o
    with pytest.raises(UserError):
        next_char_pairs("h")
