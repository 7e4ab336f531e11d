"""Figures that tasks write into their run directories."""

from __future__ import annotations

import numpy as np

from rnnlab.engine import io


def confusion(path, y_true, y_pred, names, *, title="") -> np.ndarray:
    """Confusion matrix (rows: true class, columns: predicted) as a PNG; returns the counts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    C = len(names)
    counts = np.zeros((C, C), np.int64)
    np.add.at(counts, (np.asarray(y_true), np.asarray(y_pred)), 1)
    size = 2.5 + 0.45 * C
    fig, ax = plt.subplots(figsize=(size, size), dpi=100)
    ax.imshow(counts, cmap="Blues")
    for (i, j), n in np.ndenumerate(counts):
        if n:
            color = "white" if n > counts.max() / 2 else "black"
            ax.text(j, i, str(n), ha="center", va="center", fontsize=8, color=color)
    ax.set_xticks(range(C), names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(C), names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    io.atomic_write(path, lambda f: fig.savefig(f, format="png"))
    plt.close(fig)
    return counts
