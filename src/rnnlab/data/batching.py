"""Splits and the batch streams of the engine: every ``Problem.batches`` of rnnlab is one of
these four (a pure function of the step, so that a resumed run replays exactly the batches
an uninterrupted one would have seen).

- :class:`StreamBatches`: contiguous streams for truncated BPTT, laid out as in char-rnn;
- :class:`ShuffledBatches`: shuffled mini-batches of the rows of a set of arrays, a new
  order every epoch (whole sequences, pairs, points);
- :class:`DrawnBatches`: a new batch drawn for every step by a generator (online training
  on generated data, as the adding problem's);
- :class:`SameBatch`: the same (full) batch at every step.

The rest of this docstring is about :class:`StreamBatches`.

Truncated back-propagation through time only works if the state an RNN ends one
batch with is the right state to start the next one with. So the id array is cut
into ``B`` parallel contiguous streams, and batch ``k`` takes positions
``k*T .. (k+1)*T`` of every stream: row ``b`` of batch ``k + 1`` continues row ``b``
of batch ``k``. With ``ids = 0..22``, ``B = 2``, ``T = 3``::

    streams (L = 23 // 2 = 11):  row 0:  0  1  2 |  3  4  5 |  6  7  8 |  9 10
                                 row 1: 11 12 13 | 14 15 16 | 17 18 19 | 20 21
    batch 0: x = [[0, 1, 2], [11, 12, 13]]   y = [[1, 2, 3], [12, 13, 14]]
    batch 1: x = [[3, 4, 5], [14, 15, 16]]   y = [[4, 5, 6], [15, 16, 17]]

``y`` is ``x`` shifted by one character (the next character to predict), so a step
needs ``T + 1`` positions and an epoch has ``(L - 1) // T`` steps; the last
``(L - 1) % T`` positions of each stream and the last ``len % B`` ids are not used
as inputs in an epoch.

>>> import numpy as np
>>> batches = StreamBatches(np.arange(23), batch_size=2, seq_len=3)
>>> len(batches)
3
>>> x, y = batches.get(1)
>>> x.tolist(), y.tolist()
([[3, 4, 5], [14, 15, 16]], [[4, 5, 6], [15, 16, 17]])
>>> batches.is_epoch_start(3), batches.epoch(7)
(True, 2)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from rnnlab.errors import UserError

SPLITS = ("train", "val", "test")


def split_ids(
    ids: np.ndarray, fractions: Sequence[float] = (0.9, 0.05, 0.05)
) -> dict[str, np.ndarray]:
    """Cut ``ids`` into contiguous ``train``, ``val`` and ``test`` parts, in that order.

    Contiguous rather than shuffled: a char model's validation text must be text the
    model has not seen, not characters interleaved with its training text.

    >>> parts = split_ids(np.arange(20), (0.8, 0.1, 0.1))
    >>> {name: part.tolist() for name, part in parts.items()}["val"]
    [16, 17]
    """
    ids = _as_ids(ids)
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1.0) > 1e-6:
        raise UserError(
            f"split fractions {fractions} must be three non-negative numbers that sum to 1, "
            "e.g. (0.9, 0.05, 0.05)"
        )
    n = len(ids)
    n_train = round(n * fractions[0])
    n_val = round(n * fractions[1])
    cuts = (0, n_train, min(n, n_train + n_val), n)
    return {name: ids[cuts[i] : cuts[i + 1]] for i, name in enumerate(SPLITS)}


def split_fractions(text: str) -> tuple[float, float, float]:
    """The fractions of ``"train/val/test"`` percentages (``"80/10/10"`` -> (0.8, 0.1, 0.1)),
    as :func:`split_ids` takes them: three numbers, train and validation above 0, test at
    least 0, that sum to 100; anything else is one :class:`UserError`.

    >>> split_fractions("80/10/10")
    (0.8, 0.1, 0.1)
    """
    parts = str(text).split("/")
    try:
        pcts = [float(p) for p in parts]
    except ValueError:
        pcts = []
    ok = len(pcts) == 3 and all(np.isfinite(pcts)) and pcts[0] > 0 and pcts[1] > 0
    if not ok or pcts[2] < 0 or abs(sum(pcts) - 100) > 1e-6:
        raise UserError(
            f"--split must be train/val/test percentages (train and val > 0, test >= 0) that "
            f"sum to 100, e.g. 80/10/10; got {text!r}"
        )
    return tuple(p / 100 for p in pcts)


def _as_ids(ids: np.ndarray) -> np.ndarray:
    ids = np.asarray(ids)
    if ids.ndim != 1 or not (np.issubdtype(ids.dtype, np.integer) or ids.size == 0):
        raise UserError(f"ids must be a 1-D integer array, got shape {ids.shape} {ids.dtype}")
    return ids


def _positive(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise UserError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


class StreamBatches:
    """Batches ``(x, y)`` of shape ``(B, T)`` from ``B`` contiguous streams of ``ids``.

    ``get(step)`` is a pure function of ``step``: steps past an epoch wrap around,
    so resuming at step ``s`` replays exactly the batches a run that never stopped
    would have seen. Reset the carried RNN state when ``is_epoch_start(step)``.
    """

    def __init__(self, ids: np.ndarray, batch_size: int, seq_len: int):
        ids = _as_ids(ids)
        self.batch_size = _positive("batch_size", batch_size)
        self.seq_len = _positive("seq_len", seq_len)
        need = self.batch_size * (self.seq_len + 1)
        if len(ids) < need:
            raise UserError(
                f"text of {len(ids)} characters is shorter than one batch: batch size "
                f"{self.batch_size} x (seq len {self.seq_len} + 1) needs at least {need}; "
                "give a smaller --batch-size or --seq-len"
            )
        length = len(ids) // self.batch_size
        # (B, L): row b is ids[b*L : (b+1)*L]; int32 once, so batches need no casting.
        self.streams = ids[: self.batch_size * length].astype(np.int32).reshape(-1, length)
        self.steps = (length - 1) // self.seq_len

    def __len__(self) -> int:
        """Steps per epoch."""
        return self.steps

    def get(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        """Inputs and targets, each ``(B, T)`` int32, for global training step ``step``."""
        if step < 0:
            raise UserError(f"step must be non-negative, got {step}")
        start = (step % self.steps) * self.seq_len
        window = self.streams[:, start : start + self.seq_len + 1]  # (B, T + 1)
        return window[:, :-1].copy(), window[:, 1:].copy()

    def is_epoch_start(self, step: int) -> bool:
        """True when ``step`` begins an epoch, where the carried state must be reset."""
        return step % self.steps == 0

    def epoch(self, step: int) -> int:
        """The epoch, counted from 0, that ``step`` belongs to."""
        return step // self.steps


def eval_batches(
    ids: np.ndarray, batch_size: int, seq_len: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Every batch of one pass over ``ids`` in :class:`StreamBatches` order.

    Carry the state from one batch to the next and reset it only before the first,
    as in training, so the validation loss measures the same task.

    >>> [x.tolist() for x, _ in eval_batches(np.arange(8), 2, 1)]
    [[[0], [4]], [[1], [5]], [[2], [6]]]
    """
    # Built here, not inside a generator, so a too-short split fails at the call.
    batches = StreamBatches(ids, batch_size, seq_len)
    return (batches.get(step) for step in range(len(batches)))


def _seed(seed) -> list[int]:
    """An int or a sequence of ints, as the start of a NumPy seed sequence."""
    return [int(s) for s in np.ravel(seed)]


class ShuffledBatches:
    """Shuffled mini-batches of the rows of ``arrays`` (a tuple of arrays, rows along axis 0).

    ``get(step)`` is a pure function of ``step``: epoch ``e`` visits the rows in the order
    of a permutation drawn from the seed sequence ``(*seed, e)``; an epoch has
    ``per_epoch = N // batch_size`` steps, so the ``N % batch_size`` rows left over wait
    for another epoch's order. ``seed`` is an int or a sequence of ints.

    >>> x, y = np.arange(10) * 10, np.arange(10)
    >>> batches = ShuffledBatches((x, y), batch_size=4, seed=0)
    >>> batches.per_epoch, batches.epoch(5)
    (2, 2)
    >>> bx, by = batches.get(0)
    >>> bx.tolist() == (10 * by).tolist(), len(set(by.tolist()) | set(batches.get(1)[1].tolist()))
    (True, 8)
    """

    def __init__(self, arrays: Sequence[np.ndarray], batch_size: int, seed=0):
        self.arrays = tuple(arrays)
        n = len(self.arrays[0])
        if any(len(a) != n for a in self.arrays):
            raise UserError(f"arrays of {[len(a) for a in self.arrays]} rows: they must agree")
        self.batch_size = _positive("batch_size", batch_size)
        if self.batch_size > n:
            raise UserError(f"batch size {self.batch_size} is larger than the {n} rows to batch")
        self.seed = _seed(seed)
        self.per_epoch = n // self.batch_size

    def __len__(self) -> int:
        """Steps per epoch."""
        return self.per_epoch

    def epoch(self, step: int) -> int:
        return step // self.per_epoch

    def get(self, step: int) -> tuple[np.ndarray, ...]:
        """The rows of batch ``step``, one array per array given (``batch_size`` rows each)."""
        e, i = divmod(step, self.per_epoch)
        perm = np.random.default_rng([*self.seed, e]).permutation(len(self.arrays[0]))
        rows = perm[i * self.batch_size : (i + 1) * self.batch_size]
        return tuple(a[rows] for a in self.arrays)


class DrawnBatches:
    """A new batch for every step: ``draw(batch_size, rng)`` with ``rng`` seeded by
    ``(*seed, step)``, a pure function of the step (exact resume). ``per_epoch`` is how
    many steps count as an epoch (for a schedule that decays by epochs).

    >>> draw = lambda n, rng: (rng.uniform(size=(n, 3)),)
    >>> batches = DrawnBatches(draw, 2, seed=(7, 9))
    >>> bool((batches.get(5)[0] == DrawnBatches(draw, 2, seed=(7, 9)).get(5)[0]).all())
    True
    """

    def __init__(
        self,
        draw: Callable[[int, np.random.Generator], tuple],
        batch_size: int,
        seed=0,
        per_epoch: int = 1,
    ):
        self.draw = draw
        self.batch_size = _positive("batch_size", batch_size)
        self.seed = _seed(seed)
        self.per_epoch = _positive("per_epoch", per_epoch)

    def get(self, step: int) -> tuple:
        return self.draw(self.batch_size, np.random.default_rng([*self.seed, step]))


class SameBatch:
    """The same batch at every step (full-batch training, or one example to learn).

    >>> SameBatch((np.ones(2),)).get(10)[0].tolist()
    [1.0, 1.0]
    """

    def __init__(self, batch):
        self.batch = batch
        self.per_epoch = 1

    def get(self, step: int):
        return self.batch
