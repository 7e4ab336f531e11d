"""Figures of what is inside: gate saturation, gradients through time, MTRNN context
activity, unit activations over a signal. Each returns PNG bytes (callers write them
atomically or embed them)."""

from __future__ import annotations

import io

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    _plt().close(fig)
    return buf.getvalue()


def saturation_png(sat: dict, title: str = "") -> bytes:
    """Karpathy, Johnson & Fei-Fei (2015, arXiv v2), Fig. 3: for each gate, one dot per unit at
    (fraction of time left-saturated, fraction right-saturated), coloured by layer.
    ``sat`` is :func:`rnnlab.inspect.saturation`'s result."""
    plt = _plt()
    gates = sorted({g for _, g in sat}, key="ifozr".index)
    fig, axes = plt.subplots(1, max(1, len(gates)), figsize=(3.2 * max(1, len(gates)), 3.3))
    axes = np.atleast_1d(axes)
    for ax, gate in zip(axes, gates, strict=False):
        for (layer, g), (left, right) in sorted(sat.items()):
            if g == gate:
                ax.scatter(left, right, s=8, alpha=0.6, label=f"layer {layer}")
        ax.plot([0, 1], [1, 0], color="#bbb", lw=0.8)  # left + right = 1: always saturated
        ax.set(xlim=(0, 1), ylim=(0, 1), title=f"gate {gate}", xlabel="left-saturated (< 0.1)")
        ax.set_aspect("equal")
    axes[0].set_ylabel("right-saturated (> 0.9)")
    axes[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return _png(fig)


def grad_time_png(trained: np.ndarray, untrained: np.ndarray, title: str = "") -> bytes:
    """``||dL/dh_l(t)||`` against steps before the loss, one line per layer, for the
    trained model (solid) and its untrained twin (dashed); log scale."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    T = trained.shape[1]
    back = np.arange(T)[::-1]  # steps between h(t) and the predicted character
    for l in range(trained.shape[0]):
        (line,) = ax.semilogy(back, trained[l], label=f"layer {l}, trained")
        ax.semilogy(back, untrained[l], "--", color=line.get_color(), label=f"layer {l}, init")
    ax.set(xlabel="steps before the prediction", ylabel="||dL/dh(t)||", title=title)
    ax.invert_xaxis()
    ax.legend(fontsize=7)
    fig.tight_layout()
    return _png(fig)


def context_png(x, labels, fast, slow, names=None, title: str = "") -> bytes:
    """Yamashita & Tani (2008), Fig. 5: the input over time, the primitive labels as a
    track, and the activity of the fast (tau small) and slow (tau large) context units;
    dotted lines at the boundaries between primitives, where the slow units change."""
    plt = _plt()
    fig, axes = plt.subplots(4, 1, figsize=(9, 7), sharex=True,
                             gridspec_kw={"height_ratios": [2, 0.6, 2, 2]})  # fmt: skip
    axes[0].plot(x, lw=0.8)
    axes[0].set_ylabel("input")
    _labels(axes[1], labels, names)
    axes[2].plot(fast, lw=0.6)
    axes[2].set_ylabel("fast units h")
    axes[3].plot(slow, lw=0.9)
    axes[3].set_ylabel("slow units h")
    axes[3].set_xlabel("step")
    for b in np.flatnonzero(np.diff(labels)) + 1:
        for ax in axes[[0, 2, 3]]:
            ax.axvline(b, color="k", ls=":", lw=0.7)
    axes[0].set_title(title, fontsize=9)
    fig.tight_layout()
    return _png(fig)


def signal_png(x, acts, units, labels, pred=None, names=None, title: str = "") -> bytes:
    """A task that is not text: the input channels, the activations of ``units`` as a
    heatmap (one row per unit, its own colour scale), and the labels as a track."""
    plt = _plt()
    fig, axes = plt.subplots(3, 1, figsize=(9, 6), sharex=True,
                             gridspec_kw={"height_ratios": [2, 2.5, 0.8]})  # fmt: skip
    axes[0].plot(x, lw=0.7)
    axes[0].set_ylabel("input")
    a = acts[:, units].T  # (k, T)
    scale = np.maximum(np.abs(a).max(1, keepdims=True), 1e-9)
    axes[1].imshow(a / scale, aspect="auto", cmap="coolwarm", vmin=-1, vmax=1,
                   interpolation="nearest")  # fmt: skip
    axes[1].set_yticks(range(len(units)), [str(u) for u in units], fontsize=7)
    axes[1].set_ylabel("unit (scaled)")
    _labels(axes[2], labels, names, pred)
    axes[2].set_xlabel("step")
    axes[0].set_title(title, fontsize=9)
    fig.tight_layout()
    return _png(fig)


def _labels(ax, labels, names, pred=None):
    ax.step(range(len(labels)), labels, where="post", lw=2, label="true")
    if pred is not None:
        ax.step(range(len(pred)), pred, where="post", lw=1, label="predicted")
        ax.legend(fontsize=7, loc="upper right")
    if names is not None:
        ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set_ylabel("label")
