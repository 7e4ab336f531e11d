"""aeon's classification data files (``.ts``), read directly and cached as ``.npz``.

aeon is installed without its dependencies (``pip install 'aeon==1.6.0' --no-deps``):
only its data files are read, and the package itself is never imported (its
dependencies would pull numba and downgrade numpy).
"""

from __future__ import annotations

import importlib.util
import io as _io
from pathlib import Path

import numpy as np

from rnnlab.data import default_cache_dir
from rnnlab.engine import io
from rnnlab.errors import UserError
from rnnlab.tasks._data import Dataset, SeqData, hold_out

INSTALL = "pip install 'aeon==1.6.0' --no-deps"
VERSION = "1.6.0"


def data_dir() -> Path:
    """aeon's ``datasets/data`` folder, found without importing aeon."""
    spec = importlib.util.find_spec("aeon")
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"this task reads aeon's data files; install them with: {INSTALL}")
    return Path(spec.submodule_search_locations[0]) / "datasets" / "data"


def parse_ts(text: str) -> tuple[list[np.ndarray], list[str], list[str]]:
    """The series of a ``.ts`` file, each (T_i, D), their labels, and the header's classes.

    After ``@data``, one line per series: the D channels separated by ``:``, values by
    ``,`` within a channel, the class label last.
    """
    series, labels, classes, in_data = [], [], [], False
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            low = line.lower()
            if low.startswith("@classlabel"):
                classes = line.split()[2:]
            in_data = low == "@data"
            continue
        *channels, label = line.split(":")
        series.append(np.array([c.split(",") for c in channels], np.float32).T)  # (T, D)
        labels.append(label.strip())
    return series, labels, classes


def pad(series: list[np.ndarray], labels: list[str], classes: list[str]) -> SeqData:
    """Series of lengths T_i -> a padded :class:`SeqData` (N, max T_i, D)."""
    lengths = np.array([len(s) for s in series], np.int32)
    x = np.zeros((len(series), lengths.max(), series[0].shape[1]), np.float32)
    for row, s in enumerate(series):
        x[row, : len(s)] = s
    y = np.array([classes.index(lab) for lab in labels], np.int32)
    return SeqData(x, y, lengths)


def load(problem: str, split: str, cache_dir=None) -> tuple[SeqData, list[str]]:
    """``problem``'s official ``split`` (``TRAIN`` or ``TEST``) and its class names, parsed
    on first use and then read from ``$RNNLAB_CACHE``."""
    cache = Path(cache_dir or default_cache_dir()) / f"aeon-{VERSION}-{problem}_{split}.npz"
    if cache.is_file():
        with np.load(cache) as f:
            return SeqData(f["x"], f["y"], f["lengths"]), [str(c) for c in f["classes"]]
    path = data_dir() / problem / f"{problem}_{split}.ts"
    if not path.is_file():
        raise UserError(f"{path} is missing; reinstall aeon's data files with: {INSTALL}")
    series, labels, classes = parse_ts(path.read_text(encoding="utf-8"))
    data = pad(series, labels, classes)
    cache.parent.mkdir(parents=True, exist_ok=True)
    buf = _io.BytesIO()
    np.savez(buf, x=data.x, y=data.y, lengths=data.lengths, classes=np.array(classes))
    io.atomic_write(cache, lambda f: f.write(buf.getvalue()))
    return data, classes


def official(problem: str) -> Dataset:
    """``problem``'s official ``TRAIN`` and ``TEST`` splits, a fixed tenth of each class of
    ``TRAIN`` held out as ``val`` (it picks the best checkpoint, never the test split)."""
    train, classes = load(problem, "TRAIN")
    test, _ = load(problem, "TEST")
    train, val = hold_out(train)
    return Dataset({"train": train, "val": val, "test": test}, classes)
