"""Figures for the neuron lecture: decision boundaries and the momentum comparison.

Both build a ``matplotlib.figure.Figure`` directly (no pyplot, no global state, no
window): save it with ``fig.savefig(path)``, which renders through Agg.
"""

import jax
import jax.numpy as jnp
import numpy as np
from matplotlib.colors import LinearSegmentedColormap, ListedColormap
from matplotlib.figure import Figure

from rnnlab.errors import UserError
from rnnlab.neuron._momentum import (
    convergence_rate,
    gradient_descent,
    heavy_ball,
    optimal_gd,
    optimal_momentum,
    quadratic,
)
from rnnlab.neuron._neuron import Neuron

__all__ = ["plot_decision_boundary", "plot_momentum"]

_COLOURS = ["#e8743b", "#1f77b4", "#2ca02c", "#9467bd", "#d62728", "#8c564b"]


def _class_scores(model, grid: np.ndarray) -> np.ndarray:
    """Class probabilities on grid (G, 2) as (G, K); K = 1 holds p(y=1) = sigma(z)."""
    # A Neuron's boundary is its net input a = w.x + b = 0, whatever its activation.
    f = model.net_input if isinstance(model, Neuron) else model
    z = np.asarray(jax.vmap(f)(jnp.asarray(grid, dtype=jnp.float32)), dtype=np.float64)
    z = z.reshape(len(grid), -1)  # a scalar output (G,) becomes (G, 1)
    if z.shape[1] == 1:
        return 1.0 / (1.0 + np.exp(-z))
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def plot_decision_boundary(model, X, y, *, resolution: int = 200, title: str | None = None):
    """Colour the plane by the class ``model`` predicts and scatter the data on top.

    ``model`` maps one input x (2,) to logits z (K,) or one logit (an :class:`MLP` or
    any such callable); a :class:`Neuron` is shaded by sigma(a) of its net input a.
    X is (N, 2), y (N,). Returns the Figure.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2 or y.shape != (len(X),):
        raise UserError(f"need X of shape (N, 2) and y of shape (N,), got {X.shape}, {y.shape}")
    lo, hi = X.min(0) - 0.2, X.max(0) + 0.2
    g0, g1 = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )
    grid = np.stack([g0.ravel(), g1.ravel()], axis=1)  # (R*R, 2)
    p = _class_scores(model, grid)  # (R*R, K)
    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    n_classes = max(p.shape[1], 2, int(y.max()) + 1)
    cmap = ListedColormap([_COLOURS[c % len(_COLOURS)] for c in range(n_classes)])
    if p.shape[1] == 1:
        # Shade by p(y=1), and draw the boundary p = 1/2.
        shade = LinearSegmentedColormap.from_list("p", [_COLOURS[0], "white", _COLOURS[1]])
        ax.contourf(g0, g1, p[:, 0].reshape(g0.shape), levels=20, cmap=shade, alpha=0.5)
        ax.contour(g0, g1, p[:, 0].reshape(g0.shape), levels=[0.5], colors="k", linewidths=1)
    else:
        label = p.argmax(1).reshape(g0.shape)
        ax.contourf(g0, g1, label, levels=np.arange(n_classes + 1) - 0.5, cmap=cmap, alpha=0.35)
    ax.scatter(
        X[:, 0],
        X[:, 1],
        c=y,
        cmap=cmap,
        vmin=-0.5,
        vmax=n_classes - 0.5,
        s=12,
        edgecolors="k",
        linewidths=0.3,
    )
    ax.set(xlabel="$x_1$", ylabel="$x_2$", aspect="equal", title=title or "decision boundary")
    return fig


def plot_momentum(eigenvalues=(1.0, 100.0), *, steps: int = 300):
    """Distance to the optimum per step, gradient descent vs. momentum (Goh 2017).

    Both run at their optimal constant parameters for the given eigenvalues of A,
    from w0 = (1, ..., 1); dashed lines show the predicted rates. Returns the Figure.
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    A = quadratic(lam)
    w0 = np.ones(len(lam))
    gd, hb = optimal_gd(lam.min(), lam.max()), optimal_momentum(lam.min(), lam.max())
    runs = [
        (
            f"gradient descent, $\\alpha$={gd.alpha:.3g}",
            gd.rate,
            gradient_descent(A, w0, alpha=gd.alpha, steps=steps),
        ),
        (
            f"momentum, $\\alpha$={hb.alpha:.3g}, $\\beta$={hb.beta:.3g}",
            hb.rate,
            heavy_ball(A, w0, alpha=hb.alpha, beta=hb.beta, steps=steps),
        ),
    ]
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    k = np.arange(steps + 1)
    for (label, rate, ws), colour in zip(runs, _COLOURS, strict=False):
        err = np.linalg.norm(ws, axis=1)  # (steps + 1,), ||w^k - w*|| with w* = 0
        positive = err[err > 0]  # a one-step solve (kappa = 1) leaves exact zeros
        if len(positive) >= 3:
            label += f": measured rate {convergence_rate(positive, len(positive) // 2):.4f}"
        ax.semilogy(k, err, color=colour, label=label)
        ax.semilogy(
            k, err[0] * rate**k, "--", color=colour, lw=0.8, label=f"predicted rate {rate:.4f}"
        )
    kappa = lam.max() / lam.min()
    ax.set(
        xlabel="step $k$",
        ylabel="$\\|w^k - w^*\\|$",
        title=f"$f(w) = \\frac{{1}}{{2}} w^T A w$, $\\kappa$ = {kappa:.3g}",
    )
    ax.legend(fontsize=8)
    return fig
