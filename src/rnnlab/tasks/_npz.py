"""The user's own sequences from a ``.npz`` file, checked before anything is written.

Labels are any integers >= 0 (at most :data:`MAX_CLASSES` distinct ones): the classes are
the labels that the file holds, in increasing order, so a label of 10**9 is one class,
not a billion of them.
"""

from __future__ import annotations

import dataclasses
import logging
import zipfile
from pathlib import Path

import numpy as np

from rnnlab.config import option
from rnnlab.errors import UserError
from rnnlab.tasks._data import SPLITS, Dataset, SeqData, split_rows

MAX_CLASSES = 1000  # distinct labels a file may hold (each is one output of the model)
_log = logging.getLogger(__name__)


@dataclasses.dataclass
class NpzOptions:
    """The options of the tasks that read your own sequences."""

    data: str | None = option(
        None, "Your FILE.npz: x (N, T, D), y (N,) or, to tag, (N, T); optional lengths (N,) "
        "and split (N,) of train/val/test.", fixed=True, path=True,
    )  # fmt: skip


def load_npz(path, *, tagged: bool) -> Dataset:
    """``x`` (N, T, D) real, ``y`` (N,) int (or (N, T) when ``tagged``), optional
    ``lengths`` (N,) in 1..T and ``split`` (N,) of train/val/test (or 0/1/2); without
    ``split``, 80/10/10 from a fixed permutation. Any defect is one :class:`UserError`."""
    arrays = _read(path)
    for key in ("x", "y"):
        if key not in arrays:
            raise UserError(f"{path} has no {key!r} array (it has {', '.join(arrays) or 'none'})")
    x, y = arrays["x"], arrays["y"]
    if np.iscomplexobj(x):
        raise UserError(f"{path}: x must be real, got {x.dtype} (complex values are not cast)")
    if x.ndim != 3 or not np.issubdtype(x.dtype, np.number):
        raise UserError(f"{path}: x must be a float array (N, T, D), got shape {x.shape}")
    N, T, D = x.shape
    if N == 0 or T == 0 or D == 0:
        raise UserError(f"{path}: x (N, T, D) must not be empty, got shape {x.shape}")
    want = (N, T) if tagged else (N,)
    if y.ndim != len(want):
        raise UserError(f"{path}: y must have shape {_shape(want)}, got {y.shape}")
    if y.shape != want:
        raise UserError(f"{path}: y has shape {y.shape} but x has N={N}, T={T}: want {want}")
    if not np.all(np.isfinite(x)):
        raise UserError(f"{path}: x holds {int((~np.isfinite(x)).sum())} NaN or infinite values")
    lengths = _lengths(path, arrays.get("lengths"), N, T)
    valid = np.arange(T)[None, :] < lengths[:, None] if tagged else np.ones(N, bool)
    y, names = _classes(path, _labels(path, y), valid)
    rows = _split(path, arrays.get("split"), N)
    data = SeqData(x.astype(np.float32), y, lengths)
    return Dataset({name: data.take(idx) for name, idx in rows.items()}, names)


def _read(path) -> dict:
    if path is None:
        raise UserError("this task reads your data: give --data FILE.npz")
    path = Path(path)
    if not path.is_file():
        raise UserError(f"--data {path}: no such file")
    if not zipfile.is_zipfile(path):
        raise UserError(f"--data {path} is not a .npz file (np.savez writes one: a zip of arrays)")
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise UserError(f"cannot read {path} as a .npz file of arrays ({err})") from None


def _classes(path, y: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """The labels as class ids 0..C-1 (the labels present, in order; padding steps 0) and
    the classes' names (the labels); bounded before anything is sized by them."""
    present = y[valid]
    if present.size and present.min() < 0:
        raise UserError(f"{path}: labels must be >= 0, got {int(present.min())}")
    labels, ids = np.unique(present, return_inverse=True)  # sorts: no array sized by a label
    if len(labels) > MAX_CLASSES:
        raise UserError(
            f"{path}: y holds {len(labels)} distinct labels; at most {MAX_CLASSES} classes"
        )
    if len(labels) == 1:
        _log.warning("%s: every label is %d: one class, nothing to tell apart", path, labels[0])
    out = np.zeros(y.shape, np.int32)
    out[valid] = ids
    return out, [str(v) for v in labels]


def _shape(want) -> str:
    return "(" + ", ".join("NT"[: len(want)]) + ("," if len(want) == 1 else "") + ")"


def _labels(path, y) -> np.ndarray:
    if np.issubdtype(y.dtype, np.floating):
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise UserError(f"{path}: y must hold integer class labels, got {y.dtype} fractions")
        if np.any(np.abs(y) >= 2**62):
            raise UserError(f"{path}: y holds labels beyond 2**62; use class ids")
    elif not np.issubdtype(y.dtype, np.integer):
        raise UserError(f"{path}: y must hold integer class labels, got dtype {y.dtype}")
    return y.astype(np.int64)


def _lengths(path, lengths, N: int, T: int) -> np.ndarray:
    if lengths is None:
        return np.full(N, T, np.int32)
    if lengths.shape != (N,) or not np.issubdtype(lengths.dtype, np.integer):
        raise UserError(f"{path}: lengths must be integers of shape ({N},), got {lengths.shape}")
    if np.any(lengths > T) or np.any(lengths < 1):
        bad = int(lengths.max()) if np.any(lengths > T) else int(lengths.min())
        raise UserError(f"{path}: lengths must lie in 1..T={T}, got {bad}")
    return lengths.astype(np.int32)


def _split(path, split, N: int) -> dict[str, np.ndarray]:
    if split is None:
        return split_rows(N)
    if split.shape != (N,):
        raise UserError(f"{path}: split must have shape ({N},), got {split.shape}")
    names = (
        np.array(SPLITS)[split]
        if np.issubdtype(split.dtype, np.integer) and (np.all((split >= 0) & (split < 3)))
        else split.astype(str)
    )
    rows = {s: np.flatnonzero(names == s) for s in SPLITS}
    unknown = set(np.unique(names)) - set(SPLITS)
    if unknown or any(len(r) == 0 for r in rows.values()):
        raise UserError(
            f"{path}: split must name train, val and test (or 0, 1, 2), each at least once; "
            f"got {sorted(map(str, np.unique(names)))}"
        )
    return rows
