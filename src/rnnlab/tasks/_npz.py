"""The user's own sequences from a ``.npz`` file, checked before anything is written."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from rnnlab.errors import UserError
from rnnlab.tasks._data import SPLITS, Dataset, SeqData, split_rows


def load_npz(path, *, tagged: bool) -> Dataset:
    """``x`` (N, T, D) float, ``y`` (N,) int (or (N, T) when ``tagged``), optional
    ``lengths`` (N,) in 1..T and ``split`` (N,) of train/val/test (or 0/1/2); without
    ``split``, 80/10/10 from a fixed permutation. Any defect is one :class:`UserError`."""
    if path is None:
        raise UserError("this task reads your data: give --data FILE.npz")
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise UserError(f"cannot read {path} as a .npz file ({err})") from None
    for key in ("x", "y"):
        if key not in arrays:
            raise UserError(f"{path} has no {key!r} array (it has {', '.join(arrays) or 'none'})")
    x, y = arrays["x"], arrays["y"]
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
    y = _labels(path, y)
    lengths = _lengths(path, arrays.get("lengths"), N, T)
    data = SeqData(x.astype(np.float32), y, lengths)
    if tagged:
        y = np.where(data.valid(), y, 0)  # padding labels do not count
        if np.any(data.labels() < 0):
            raise UserError(f"{path}: labels must be >= 0, got {int(data.labels().min())}")
        data.y = y
    elif np.any(y < 0):
        raise UserError(f"{path}: labels must be >= 0, got {int(y.min())}")
    rows = _split(path, arrays.get("split"), N)
    classes = int(data.labels().max()) + 1
    splits = {name: data.take(idx) for name, idx in rows.items()}
    return Dataset(splits, [str(c) for c in range(classes)])


def _shape(want) -> str:
    return "(" + ", ".join("NT"[: len(want)]) + ("," if len(want) == 1 else "") + ")"


def _labels(path, y) -> np.ndarray:
    if np.issubdtype(y.dtype, np.floating):
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise UserError(f"{path}: y must hold integer class labels, got {y.dtype} fractions")
    elif not np.issubdtype(y.dtype, np.integer):
        raise UserError(f"{path}: y must hold integer class labels, got dtype {y.dtype}")
    return y.astype(np.int64).astype(np.int32)


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
