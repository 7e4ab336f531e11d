"""Arrays of a sequence task: padded batches with lengths, splits, scaling, batch streams."""

from __future__ import annotations

import dataclasses

import numpy as np

from rnnlab.data.batching import ShuffledBatches
from rnnlab.errors import UserError
from rnnlab.tasks._task import Data

SPLITS = ("train", "val", "test")


@dataclasses.dataclass
class SeqData:
    """A padded set of sequences: ``x`` (N, T, D) float32, ``y`` (N,) or (N, T) int32
    labels, ``lengths`` (N,) int32 valid steps (steps at or past a row's length are
    padding)."""

    x: np.ndarray
    y: np.ndarray
    lengths: np.ndarray

    def __len__(self) -> int:
        return len(self.x)

    def take(self, idx) -> SeqData:
        return SeqData(self.x[idx], self.y[idx], self.lengths[idx])

    def valid(self) -> np.ndarray:
        """(N, T) bool: the steps that are not padding."""
        return np.arange(self.x.shape[1])[None, :] < self.lengths[:, None]

    def labels(self) -> np.ndarray:
        """Every label that counts: one per row, or one per valid step of a tagged row."""
        return self.y if self.y.ndim == 1 else self.y[self.valid()]

    def rows(self, flat) -> list[np.ndarray]:
        """Values in :meth:`labels` order (one per valid step) -> one array per row."""
        return np.split(np.asarray(flat), np.cumsum(self.lengths)[:-1])


@dataclasses.dataclass
class Dataset(Data):
    """The splits of a labelled sequence task (``train``, ``val``, ``test``, each a
    :class:`SeqData`) and the names of its classes."""

    splits: dict[str, SeqData]
    class_names: list[str]

    @property
    def features(self) -> int:
        return self.splits["train"].x.shape[2]

    def describe(self) -> str:
        sizes = ", ".join(f"{k} {len(v)}" for k, v in self.splits.items())
        return f"{sizes} sequences, {len(self.class_names)} classes"

    def info(self) -> dict:
        """What config.json records about the data (to rebuild the model and the scaling)."""
        train = self.splits["train"]
        valid = train.x[train.valid()]  # (steps, D)
        return {
            "features": self.features,
            "classes": len(self.class_names),
            "class_names": self.class_names,
            "sizes": {k: len(v) for k, v in self.splits.items()},
            "mean": valid.mean(0).tolist(),
            "std": np.maximum(valid.std(0), 1e-6).tolist(),
        }


def scaled(data: SeqData, info: dict) -> SeqData:
    """``data`` standardised per channel with the training split's statistics; padding 0."""
    x = (data.x - np.asarray(info["mean"], np.float32)) / np.asarray(info["std"], np.float32)
    x = np.where(data.valid()[:, :, None], x, 0).astype(np.float32)
    return SeqData(x, data.y, data.lengths)


def split_rows(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """80/10/10 train/val/test row indices from a fixed permutation (the same for every
    run on the same file); each split gets at least one row."""
    if n < 3:
        raise UserError(f"need at least 3 sequences to split 80/10/10, got {n}")
    perm = np.random.default_rng(seed).permutation(n)
    n_val = n_test = max(1, round(0.1 * n))
    return {
        "train": np.sort(perm[n_val + n_test :]),
        "val": np.sort(perm[:n_val]),
        "test": np.sort(perm[n_val : n_val + n_test]),
    }


def hold_out(train: SeqData, fraction: float = 0.1, seed: int = 0) -> tuple[SeqData, SeqData]:
    """(rest, validation): a fixed ``fraction`` of each class of an official training split
    (at least one row per class), for choosing the best checkpoint without the test split."""
    rng = np.random.default_rng(seed)
    val = []
    for c in np.unique(train.y):
        rows = rng.permutation(np.flatnonzero(train.y == c))
        val.extend(rows[: max(1, round(fraction * len(rows)))])
    is_val = np.isin(np.arange(len(train)), val)
    return train.take(np.flatnonzero(~is_val)), train.take(np.flatnonzero(is_val))


class Batches(ShuffledBatches):
    """Shuffled mini-batches ``(x, y, lengths)`` of whole sequences: the library's
    :class:`rnnlab.data.ShuffledBatches` over the arrays of a :class:`SeqData`."""

    def __init__(self, data: SeqData, batch_size: int, seed: int):
        super().__init__((data.x, data.y, data.lengths), batch_size, seed)
