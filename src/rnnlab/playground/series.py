"""The Recurrent page's tasks as fixed sets of sequences: inputs, targets and a loss mask.

Every task is a :class:`SeqSet` of N sequences of T steps; the loss counts the targets
where ``mask`` is 1 (all steps for next-step prediction, the last valid step for the
adding problem, the steps after the lag for delayed recall). Classification targets are
class ids, regression targets vectors. Row 0 is the probe sequence that the page looks
inside (heatmaps, gradients, predictions).

The playground owns its small generators (sine, delayed recall, the text) and reuses
the tasks' own for temporal XOR (:func:`rnnlab.tasks.xor.xor_stream`) and the adding
problem (:func:`rnnlab.tasks.adding.adding_data`).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rnnlab.playground.limits import Invalid

TASKS = ("hello", "sine", "xor", "adding", "recall", "text", "csv")
N_SEQ = 256  # sequences per generated set
SYMBOLS = 4  # alphabet of delayed recall

# Sonnet 18 (Shakespeare, 1609): a small text that a tiny model learns something of.
TEXT = (
    "shall i compare thee to a summer's day? thou art more lovely and more temperate: "
    "rough winds do shake the darling buds of may, and summer's lease hath all too short "
    "a date; sometime too hot the eye of heaven shines, and often is his gold complexion "
    "dimm'd; and every fair from fair sometime declines, by chance or nature's changing "
    "course untrimm'd; but thy eternal summer shall not fade, nor lose possession of that "
    "fair thou ow'st; nor shall death brag thou wander'st in his shade, when in eternal "
    "lines to time thou grow'st: so long as men can breathe or eyes can see, so long "
    "lives this, and this gives life to thee."
)


@dataclasses.dataclass
class SeqSet:
    """x (N, T, D) float32; y (N, T) int32 class ids or (N, T, O) float32; mask (N, T)."""

    x: np.ndarray
    y: np.ndarray
    mask: np.ndarray
    classes: int  # K >= 2: softmax over K classes; 0: regression (squared error)
    labels: list[str] | None = None  # names of the classes (characters), if any

    @property
    def out_size(self) -> int:
        return self.classes or self.y.shape[-1]


def make_set(task: str, T: int, seed: int, *, lag: int = 5, table=None) -> SeqSet:
    """The sequences of ``task`` (one of :data:`TASKS`); ``table`` (rows, C) for ``csv``."""
    rng = np.random.default_rng(seed)
    if task == "hello":
        return _chars("hello", np.array([0]), 4)
    if task == "sine":
        return _sine(T, rng)
    if task == "xor":
        return _xor(T, rng)
    if task == "adding":
        return _adding(T, rng)
    if task == "recall":
        return _recall(T, lag, rng)
    if task == "text":
        return _chars(TEXT, rng.integers(0, len(TEXT) - T - 1, N_SEQ), T)
    if task == "csv":
        return _table(table, T)
    raise Invalid(f"task must be one of {', '.join(TASKS)}, got {task!r}")


def _one_hot(ids: np.ndarray, k: int) -> np.ndarray:
    return np.eye(k, dtype=np.float32)[ids]


def _chars(text: str, starts: np.ndarray, T: int) -> SeqSet:
    """Next-character prediction over windows of ``T + 1`` characters of ``text``."""
    chars = sorted(set(text))
    ids = np.searchsorted(chars, list(text)).astype(np.int32)
    rows = ids[starts[:, None] + np.arange(T + 1)]  # (N, T + 1)
    x = _one_hot(rows[:, :-1], len(chars))  # (N, T, V)
    return SeqSet(x, rows[:, 1:], np.ones((len(starts), T), np.float32), len(chars), chars)


def _sine(T: int, rng) -> SeqSet:
    """Predict the next value of a sine of random frequency (4 to 25 steps a period)."""
    period = rng.uniform(4.0, 25.0, size=(N_SEQ, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(N_SEQ, 1))
    s = np.sin(2 * np.pi * np.arange(T + 1) / period + phase).astype(np.float32)  # (N, T+1)
    return SeqSet(s[:, :-1, None], s[:, 1:, None], np.ones((N_SEQ, T), np.float32), 0)


def _xor(T: int, rng) -> SeqSet:
    """Elman's temporal XOR: predict the next bit of a stream of triples a, b, a^b."""
    from rnnlab.tasks.xor import stream_rows, xor_stream

    T = max(3, T - T % 3)  # rows start at a triple
    data = stream_rows(xor_stream(3 * ((N_SEQ * T) // 3 + 1), rng), seq=T)
    return SeqSet(data.x, data.y, np.ones(data.y.shape, np.float32), 2, ["0", "1"])


def _adding(T: int, rng) -> SeqSet:
    """Hochreiter & Schmidhuber's adding problem: the answer is due at the last valid step."""
    from rnnlab.tasks.adding import adding_data

    if T < 4:
        raise Invalid(f"the adding problem needs T >= 4, got {T}")
    data = adding_data(N_SEQ, T, "paper", rng)
    rows, last = np.arange(N_SEQ), data.lengths - 1
    mask = np.zeros(data.x.shape[:2], np.float32)
    mask[rows, last] = 1.0
    y = np.zeros(data.x.shape[:2] + (1,), np.float32)
    y[rows, last, 0] = data.y
    return SeqSet(data.x, y, mask, 0)


def _recall(T: int, lag: int, rng) -> SeqSet:
    """Delayed recall: output at step t the symbol seen at step t - lag."""
    if not 1 <= lag < T:
        raise Invalid(f"lag must be between 1 and T - 1 = {T - 1}, got {lag}")
    ids = rng.integers(0, SYMBOLS, size=(N_SEQ, T))
    y = np.zeros_like(ids)
    y[:, lag:] = ids[:, :-lag]
    mask = np.zeros((N_SEQ, T), np.float32)
    mask[:, lag:] = 1.0
    labels = [chr(ord("A") + k) for k in range(SYMBOLS)]
    return SeqSet(_one_hot(ids, SYMBOLS), y.astype(np.int32), mask, SYMBOLS, labels)


def _table(table, T: int) -> SeqSet:
    """Your time series: predict the next row of every (standardised) column."""
    if table is None:
        raise Invalid("the csv task needs a csv of numeric columns")
    rows = table.shape[0]
    if rows < T + 2:
        raise Invalid(f"csv has {rows} rows; a window of T = {T} needs at least {T + 2}")
    z = (table - table.mean(0)) / np.where(table.std(0) > 0, table.std(0), 1.0)
    starts = np.unique(np.linspace(0, rows - T - 1, min(N_SEQ, rows - T)).astype(int))
    win = z[starts[:, None] + np.arange(T + 1)].astype(np.float32)  # (N, T + 1, C)
    return SeqSet(win[:, :-1], win[:, 1:], np.ones((len(starts), T), np.float32), 0)
