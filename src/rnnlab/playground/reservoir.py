"""The Reservoir page's computation: an echo state network fitted and scored at once.

One request draws a leaky reservoir (:class:`rnnlab.reservoir.ReservoirCell`), runs it
over a series (Mackey-Glass, tau 17, rescaled to [-1, 1], or the first column of the
user's CSV), fits the ridge readout that predicts the value ``horizon`` steps ahead on the
first 75 % of the steps, and scores it on the rest. Fitting is one linear solve, so the
page redraws as a slider moves. Runs in the playground's worker process.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

from rnnlab.playground.limits import Invalid, choice, finite, number, parse_csv

WARMUP = 100  # steps whose states are left out of the fit: the zero start is forgotten
MIN_STEPS = 300  # a series shorter than this leaves too little to fit and to score
MAX_POINTS = 1000  # points of each curve sent back (the test part is downsampled to it)
SHOWN_UNITS = 8  # units whose states are drawn
SHOWN_STEPS = 300  # steps of those states


@functools.lru_cache(maxsize=1)
def _mackey_glass() -> np.ndarray:
    from rnnlab.reservoir import mackey_glass, rescale

    return rescale(np.asarray(mackey_glass(2500, tau=17), np.float64).ravel())


def _series(body: dict) -> tuple[np.ndarray, str]:
    source = choice(body, "data", "mackey-glass", ("mackey-glass", "csv"))
    if source == "mackey-glass":
        return _mackey_glass(), "Mackey-Glass (tau 17), rescaled to [-1, 1]"
    values = parse_csv(body.get("csv"))[:, 0]
    if len(values) < MIN_STEPS:
        raise Invalid(f"csv has {len(values)} rows; the reservoir page needs >= {MIN_STEPS}")
    return values, "the first column of your CSV"


def fit_reservoir(body: dict) -> dict:
    """Draw, run, fit and score an ESN forecaster: the page's one request."""
    import jax.numpy as jnp

    from rnnlab.reservoir import (
        EchoStateWarning,
        ReservoirCell,
        effective_spectral_radius,
        fit,
        nrmse,
    )

    units = number(body, "units", 100, 10, 500, integer=True)
    radius = number(body, "spectral_radius", 1.25, 0.01, 3.0)
    leak = number(body, "leak", 0.3, 0.01, 1.0)
    scaling = number(body, "input_scaling", 1.0, 0.01, 10.0)
    ridge = 10.0 ** number(body, "log_ridge", -8.0, -12.0, 2.0)
    horizon = number(body, "horizon", 10, 1, 100, integer=True)
    seed = number(body, "seed", 0, 0, 2**31 - 1, integer=True)
    series, name = _series(body)
    x, y = series[:-horizon, None], series[horizon:, None]  # (T, 1): y(t) = u(t + horizon)
    cut = int(0.75 * len(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EchoStateWarning)  # the page states it itself
        cell = ReservoirCell(
            1, units, leak_rate=leak, spectral_radius=radius, input_scaling=scaling,
            connectivity=0.1, input_connectivity=0.2, matmul="dense", key=seed,
        )  # fmt: skip
    esn = fit(cell, jnp.asarray(x[:cut]), jnp.asarray(y[:cut]), ridge=ridge, warmup=WARMUP)
    pred, _ = esn(jnp.asarray(x))
    states, _ = esn.states(jnp.asarray(x[:SHOWN_STEPS]))
    pred = np.asarray(pred, np.float64)[:, 0]
    test = slice(cut, len(x))
    score = nrmse(y[test, 0], pred[test])
    W = np.asarray(cell.W, np.float64)
    eig = np.linalg.eigvals(W)
    every = max(1, (len(x) - cut) // MAX_POINTS)
    t = np.arange(cut, len(x), every)
    return {
        "data": name,
        "steps": len(series),
        "train_steps": cut,
        "t": t.tolist(),
        "target": y[t, 0].tolist(),
        "prediction": pred[t].tolist(),
        "nrmse": finite(score),
        "persistence_nrmse": finite(nrmse(y[test, 0], x[test, 0])),
        "states": np.asarray(states, np.float64)[:, :SHOWN_UNITS].T.tolist(),  # (8, steps)
        "eig_re": eig.real.tolist(),
        "eig_im": eig.imag.tolist(),
        "spectral_radius": float(np.max(np.abs(eig))),
        "effective_radius": effective_spectral_radius(W, leak, eig),
        "ridge": ridge,
    }
