"""The Recurrent page's tasks as fixed sets of sequences: inputs, targets and a loss mask.

Every task is a :class:`SeqSet` of N sequences of T steps; the loss counts the targets
where ``mask`` is 1 (all steps for next-step prediction, the answer's step for the
many-to-one tasks, the steps after the lag for the echo). Classification targets are
class ids, regression targets vectors. Row 0 is the probe sequence that the page looks
inside (heatmaps, gradients, predictions).

Where rnnlab has the task (``rnnlab train --task NAME``: :data:`LIBRARY_TASKS`), the
page's task *is* that task, under its name, with the data of its own generator
(:func:`rnnlab.tasks.xor.xor_stream`, :func:`rnnlab.tasks.adding.adding_data`,
:func:`rnnlab.tasks.recall.recall_data`) at the page's T or lag; the one converter
:func:`from_rows` puts a task's answers on the steps where they are due. The page's own
tasks are what the library does not have: the toy word, a sine, the echo (output the
symbol seen ``lag`` steps back, at every step: not ``recall``, whose one answer comes
at the end), a small text and your CSV.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rnnlab.playground.limits import Invalid

TASKS = ("hello", "sine", "xor", "adding", "recall", "echo", "text", "csv")
LIBRARY_TASKS = ("xor", "adding", "recall")  # rnnlab's own tasks, under their names
# the controls each task reads (the page greys out the others)
READS = {"hello": (), "sine": ("T",), "xor": ("T",), "adding": ("T",), "recall": ("lag",),
         "echo": ("T", "lag"), "text": ("T",), "csv": ("T",)}  # fmt: skip
N_SEQ = 256  # sequences per generated set
SYMBOLS = 4  # alphabet of the echo

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
        return _recall(lag, rng)
    if task == "echo":
        return _echo(T, lag, rng)
    if task == "text":
        return _chars(TEXT, rng.integers(0, len(TEXT) - T - 1, N_SEQ), T)
    if task == "csv":
        return _table(table, T)
    raise Invalid(f"task must be one of {', '.join(TASKS)}, got {task!r}")


def from_rows(rows, classes: int, labels=None) -> SeqSet:
    """A library task's rows (:class:`rnnlab.tasks.SeqData`: x (N, T, D), lengths (N,),
    y (N, T) per step or (N,) one answer per sequence) as a :class:`SeqSet`: a
    per-step target counts on every valid step; one answer counts on the last valid
    step, where the task asks for it. ``classes`` 0: ``y`` is a regression target."""
    x, y, lengths = rows.x, rows.y, rows.lengths
    N, T = x.shape[:2]
    valid = np.arange(T)[None, :] < lengths[:, None]  # (N, T)
    if y.ndim == 2:  # tagged: every valid step
        return SeqSet(x, y, valid.astype(np.float32), classes, labels)
    last, mask = lengths - 1, np.zeros((N, T), np.float32)
    mask[np.arange(N), last] = 1.0
    if classes:
        steps = np.zeros((N, T), np.int32)
        steps[np.arange(N), last] = y
    else:
        steps = np.zeros((N, T, 1), np.float32)
        steps[np.arange(N), last, 0] = y
    return SeqSet(x, steps, mask, classes, labels)


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
    """``xor``: Elman's temporal XOR, the next bit of a stream of triples a, b, a^b."""
    from rnnlab.tasks.xor import stream_rows, xor_stream

    T = max(3, T - T % 3)  # rows start at a triple
    rows = stream_rows(xor_stream(3 * ((N_SEQ * T) // 3 + 1), rng), seq=T)
    return from_rows(rows, 2, ["0", "1"])


def _adding(T: int, rng) -> SeqSet:
    """``adding``: Hochreiter & Schmidhuber's adding problem, the answer due at the end."""
    from rnnlab.tasks.adding import adding_data

    if T < 4:
        raise Invalid(f"the adding problem needs T >= 4, got {T}")
    return from_rows(adding_data(N_SEQ, T, "paper", rng), 0)


def _recall(lag: int, rng) -> SeqSet:
    """``recall``: a cue, ``lag`` distractors, then a query whose answer is the cue."""
    from rnnlab.tasks.recall import SYMBOLS as K
    from rnnlab.tasks.recall import recall_data

    return from_rows(recall_data(N_SEQ, lag, rng), K, [f"symbol {s}" for s in range(K)])


def _echo(T: int, lag: int, rng) -> SeqSet:
    """The echo: output at step t the symbol seen at step t - lag."""
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
