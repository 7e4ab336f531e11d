"""Contiguous splits and TBPTT stream batches, checked against hand-computed arrays."""

import doctest

import numpy as np
import pytest

import rnnlab.data
from rnnlab.data import StreamBatches, eval_batches, split_ids
from rnnlab.errors import UserError

# ids = 0..22, B = 2, T = 3: L = 11, streams 0..10 and 11..21, (11 - 1) // 3 = 3 steps.
HAND_X = [
    [[0, 1, 2], [11, 12, 13]],
    [[3, 4, 5], [14, 15, 16]],
    [[6, 7, 8], [17, 18, 19]],
]
HAND_Y = [
    [[1, 2, 3], [12, 13, 14]],
    [[4, 5, 6], [15, 16, 17]],
    [[7, 8, 9], [18, 19, 20]],
]


@pytest.fixture
def hand():
    return StreamBatches(np.arange(23), batch_size=2, seq_len=3)


def test_hand_computed_epoch(hand):
    assert len(hand) == 3
    for step in range(3):
        x, y = hand.get(step)
        assert x.dtype == y.dtype == np.int32
        assert x.tolist() == HAND_X[step] and y.tolist() == HAND_Y[step]


def test_wraps_around_and_marks_epoch_starts(hand):
    for step in range(10):
        x, y = hand.get(step)
        assert x.tolist() == HAND_X[step % 3] and y.tolist() == HAND_Y[step % 3]
        assert hand.is_epoch_start(step) == (step % 3 == 0)
        assert hand.epoch(step) == step // 3


def test_rows_continue_across_batches():
    ids = np.random.default_rng(0).integers(0, 65, size=1009)
    batches = StreamBatches(ids, batch_size=4, seq_len=7)
    length = 1009 // 4
    for step in range(len(batches) - 1):
        x, y = batches.get(step)
        x_next, _ = batches.get(step + 1)
        # Row b of the next batch starts where row b of this one ended...
        assert (x_next[:, 0] == y[:, -1]).all()
        # ...y is x shifted by one...
        assert (x[:, 1:] == y[:, :-1]).all()
        # ...and row b reads stream b, ids[b*L : (b+1)*L], at positions step*T onwards.
        for b in range(4):
            start = b * length + step * 7
            assert (x[b] == ids[start : start + 7]).all()
            assert (y[b] == ids[start + 1 : start + 8]).all()
    assert len(batches) == (length - 1) // 7


def test_get_is_pure(hand):
    x, y = hand.get(5)
    x[:] = -1  # a caller scribbling on a batch must not change later ones
    x2, y2 = hand.get(5)
    assert x2.tolist() == HAND_X[2] and (y2 == y).all()


def test_shortest_corpus_gives_one_step():
    batches = StreamBatches(np.arange(8), batch_size=2, seq_len=3)
    assert len(batches) == 1
    assert batches.get(0)[0].tolist() == [[0, 1, 2], [4, 5, 6]]


def test_short_corpus_error():
    with pytest.raises(UserError, match=r"7 characters.*at least 8.*--batch-size or --seq-len"):
        StreamBatches(np.arange(7), batch_size=2, seq_len=3)


@pytest.mark.parametrize("batch_size, seq_len", [(0, 3), (2, -1), (2.5, 3), (True, 3)])
def test_bad_sizes(batch_size, seq_len):
    with pytest.raises(UserError, match="positive integer"):
        StreamBatches(np.arange(100), batch_size=batch_size, seq_len=seq_len)


def test_eval_batches_one_pass_in_stream_order(hand):
    batches = list(eval_batches(np.arange(23), batch_size=2, seq_len=3))
    assert [x.tolist() for x, _ in batches] == HAND_X
    assert [y.tolist() for _, y in batches] == HAND_Y


def test_eval_batches_fails_at_the_call():
    with pytest.raises(UserError, match="at least 8"):
        eval_batches(np.arange(7), batch_size=2, seq_len=3)


@pytest.mark.parametrize("n", [1000, 1001, 999, 37])
def test_split_is_contiguous_90_5_5(n):
    ids = np.arange(n)
    parts = split_ids(ids)
    assert list(parts) == ["train", "val", "test"]
    assert (np.concatenate(list(parts.values())) == ids).all()
    for name, fraction in [("train", 0.9), ("val", 0.05), ("test", 0.05)]:
        assert abs(len(parts[name]) - fraction * n) <= 1, name


def test_split_custom_fractions():
    parts = split_ids(np.arange(10), (0.5, 0.5, 0.0))
    assert parts["train"].tolist() == [0, 1, 2, 3, 4]
    assert parts["val"].tolist() == [5, 6, 7, 8, 9]
    assert parts["test"].tolist() == []


@pytest.mark.parametrize("fractions", [(0.9, 0.05), (0.9, 0.2, 0.1), (1.1, -0.05, -0.05)])
def test_split_bad_fractions(fractions):
    with pytest.raises(UserError, match="sum to 1"):
        split_ids(np.arange(10), fractions)


def test_docstring_examples_run():
    modules = [
        rnnlab.data,
        rnnlab.data.batching,
        rnnlab.data.corpus,
        rnnlab.data.pycode,
        rnnlab.data.shakespeare,
        rnnlab.data.toy,
        rnnlab.data.vocab,
    ]
    for module in modules:
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__
