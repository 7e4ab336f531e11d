"""The exact values behind a pooled heatmap: the worker writes a look's traces whole, the
server reads one value back for the page's read-out (NumPy only: no JAX in the server).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from rnnlab.playground.limits import finite


def save_exact(path, traces) -> None:
    """The traces as they are, written whole then renamed (a reader never sees half)."""
    path = Path(path)
    arrays = {
        f"{l}_{k}": np.asarray(v, np.float32) for l, t in enumerate(traces) for k, v in t.items()
    }
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def exact_value(path, layer: int, name: str, step: int, unit: int) -> float | None:
    """The exact value of one internal at ``step`` and ``unit`` (both from 1) of the last
    pooled look; None where it is not finite. KeyError or IndexError when there is none."""
    with np.load(path) as arrays:
        trace = arrays[f"{layer}_{name}"]  # (T, H)
        if not (1 <= step <= trace.shape[0] and 1 <= unit <= trace.shape[1]):
            raise IndexError(
                f"step and unit must be within 1..{trace.shape[0]} and 1..{trace.shape[1]}"
            )
        v = trace[step - 1, unit - 1]
    return finite(v)
