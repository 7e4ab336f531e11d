"""The README's reservoir figure: states of an echo state network on Mackey-Glass, and
the 10-step forecast error of a grid search over spectral radius and leak rate.

    python examples/reservoir_figures.py [--out docs/reservoir/esn.png]

A grid of 10 x 10 settings, 2 seeds each, 100 units, ridge 1e-8, in float64: one
``rnnlab.reservoir.search`` call (about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import rnnlab  # noqa: E402
from rnnlab import reservoir as rc  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("docs/reservoir/esn.png"))
    p.add_argument("--grid", type=int, default=10)
    a = p.parse_args()
    jax.config.update("jax_enable_x64", True)
    warnings.simplefilter("ignore", rc.EchoStateWarning)
    X = rc.rescale(rc.mackey_glass(2510))
    x, y = rc.to_forecasting(X, 10)

    cell = rc.ReservoirCell(
        1, 100, leak_rate=0.3, spectral_radius=1.25, input_connectivity=0.2, key=0
    )
    states, _ = rnnlab.unroll(cell, jnp.asarray(x[:300]))

    srs = np.geomspace(0.05, 5.0, a.grid)
    lrs = np.geomspace(0.01, 1.0, a.grid)
    S, L = np.meshgrid(srs, lrs, indexing="ij")  # (sr, lr)
    trials = {"spectral_radius": S.ravel(), "leak_rate": L.ravel(), "ridge": np.full(S.size, 1e-8)}
    res = rc.search(
        (x[:2000], y[:2000]),
        (x[2000:], y[2000:]),
        trials,
        units=100,
        seeds=2,
        input_connectivity=0.2,
    )
    err = np.nanmean(res.loss, axis=1).reshape(S.shape)

    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 3.8), width_ratios=[1.5, 1])
    ax0.plot(x[:300, 0], color="black", lw=2, label="input u (Mackey-Glass)")
    for i in np.flatnonzero(np.asarray(cell.W_in[:, 0]))[:3].tolist() + [0, 1, 2]:
        ax0.plot(states[:, i], lw=0.9)
    ax0.set(title="states x_i of 6 units (lr 0.3, sr 1.25)", xlabel="step")
    ax0.legend(loc="lower left", fontsize=8)
    im = ax1.pcolormesh(
        lrs, srs, np.log10(np.clip(err, 1e-4, 1.0)), cmap="viridis_r", shading="nearest"
    )
    ax1.set(
        xscale="log",
        yscale="log",
        xlabel="leak rate",
        ylabel="spectral radius",
        title="log10 NRMSE, 10 steps ahead (test)",
    )
    best = np.unravel_index(np.nanargmin(err), err.shape)
    ax1.plot(lrs[best[1]], srs[best[0]], "r*", ms=12)
    fig.colorbar(im, ax=ax1)
    fig.tight_layout()
    a.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(a.out, dpi=110)
    print(f"wrote {a.out}; best sr {srs[best[0]]:.3g}, lr {lrs[best[1]]:.3g}: {err[best]:.4g}")


if __name__ == "__main__":
    main()
