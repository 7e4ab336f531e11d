"""The Mackey-Glass delay equation, integrated by RK4; forecasting pairs; NRMSE."""

from __future__ import annotations

import numpy as np

from rnnlab.errors import UserError

MAX_STEPS = 10_000_000  # a bound on a length read from user input


def mackey_glass(
    n_steps: int,
    *,
    tau: float = 17.0,
    a: float = 0.2,
    b: float = 0.1,
    n: float = 10.0,
    x0: float = 1.2,
    h: float = 1.0,
    history=None,
    seed: int = 5555,
) -> np.ndarray:
    r"""``n_steps`` samples (n_steps, 1) of the Mackey-Glass equation (Mackey & Glass 1977):

    .. math::  \frac{dx}{dt} = \frac{a\, x(t - \tau)}{1 + x(t - \tau)^n} - b\, x(t)

    One sample per step of length ``h``, by the classic fourth-order Runge-Kutta
    step with the delayed value ``x(t - tau)`` held fixed within the step (the
    delayed value is a sample, ``floor(tau / h)`` steps back). The series starts at
    ``x0``; the history before it is ``floor(tau / h)`` samples, by default
    ``x0 + 0.2 (U[0, 1) - 0.5)`` from ``numpy.random.default_rng(seed)``, or the last
    samples of ``history``. With the defaults this is exactly ReservoirPy <= 0.4.0's
    ``mackey_glass`` (default seed 5555): 1.2, 1.135497, 1.057360, ...

    ReservoirPy >= 0.4.1 (commit dfe2fd9, "Optimize Mackey-Glass") rewrote the step;
    for a fixed delayed value its update is ``x + k (1 + 5B/6 + B^2/2 + B^3/6)``
    (``k = h (a x_tau / (1 + x_tau^n) - b x)``, ``B = -b h``) where RK4 gives
    ``x + k (1 + B/2 + B^2/6 + B^3/24)``: first-order accurate. Both series are
    chaotic, but they part by about 0.016 within 100 steps and entirely over 2,000, so
    a comparison with ReservoirPy must feed both sides the same series (this one).
    """
    if int(n_steps) != n_steps or not 0 < n_steps <= MAX_STEPS:
        raise UserError(f"n_steps must be an integer in [1, {MAX_STEPS}], got {n_steps!r}")
    if not (tau >= 0 and h > 0):
        raise UserError(f"Mackey-Glass needs tau >= 0 and h > 0, got tau={tau}, h={h}")
    lag = int(np.floor(tau / h))
    if lag > MAX_STEPS:
        raise UserError(f"tau / h must be at most {MAX_STEPS}, got {lag}")
    if history is None:
        rng = np.random.default_rng(seed)
        past = x0 + 0.2 * (rng.random(lag) - 0.5)
    else:
        history = np.asarray(history, np.float64).ravel()
        if len(history) < lag:
            raise UserError(f"history needs at least tau / h = {lag} samples, got {len(history)}")
        past = history[len(history) - lag :]
    X = np.empty(lag + int(n_steps))
    X[:lag] = past

    def f(x, x_tau):  # dx/dt for a fixed delayed value
        return a * x_tau / (1.0 + x_tau**n) - b * x

    x = float(x0)
    for i in range(lag, lag + int(n_steps)):
        X[i] = x
        x_tau = X[i - lag] if lag > 0 else 0.0
        k1 = h * f(x, x_tau)
        k2 = h * f(x + 0.5 * k1, x_tau)
        k3 = h * f(x + 0.5 * k2, x_tau)
        k4 = h * f(x + k3, x_tau)
        x = x + (k1 + 2 * k2 + 2 * k3 + k4) / 6
    return X[lag:].reshape(-1, 1)


def rescale(x: np.ndarray, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    """``x`` mapped linearly onto [low, high] by its own min and max."""
    x = np.asarray(x, np.float64)
    return low + (high - low) * (x - x.min()) / (x.max() - x.min())


def to_forecasting(x: np.ndarray, horizon: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets for a ``horizon``-step-ahead forecast of ``x`` (T, D):
    ``(x[:-horizon], x[horizon:])``, each (T - horizon, D), as ReservoirPy's
    ``to_forecasting(x, forecast=horizon)`` before its train/test split."""
    x = np.asarray(x)
    if int(horizon) != horizon or not 0 < horizon < len(x):
        raise UserError(f"horizon must be an integer in [1, {len(x) - 1}], got {horizon!r}")
    return x[:-horizon], x[horizon:]


def nrmse(y_true, y_pred, norm: str = "minmax") -> float:
    """Root-mean-square error over ``norm`` of ``y_true``: ``"minmax"`` (max - min, the
    default, as ReservoirPy's ``nrmse``), ``"std"`` (the standard deviation, the
    usual definition in the literature), or ``"var"`` (the variance, ReservoirPy's
    ``norm="var"``)."""
    y_true, y_pred = np.asarray(y_true, np.float64), np.asarray(y_pred, np.float64)
    rmse = np.sqrt(np.mean((y_true - y_pred) ** 2))
    scale = {
        "minmax": lambda y: y.max() - y.min(),
        "std": np.std,
        "var": np.var,
    }
    if norm not in scale:
        raise UserError(f"norm must be one of {', '.join(scale)}, got {norm!r}")
    return float(rmse / scale[norm](y_true))
