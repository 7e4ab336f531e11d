r"""The leaky integrate-and-fire neuron and its f-I curve (Gerstner & Kistler 2002, sec. 4.1).

Voltages are measured from rest (rest = 0 V), so with membrane time constant tau,
resistance R and input current I(t):

    tau du/dt = -u + R I(t)
    if u reaches theta:  a spike at t_f, then u = u_reset, held for t_ref (refractory)

With a constant current the neuron fires regularly when R I > theta, at the rate

    r = 1 / (t_ref + tau ln((R I - u_reset) / (R I - theta)))   (R I > theta), else 0,

which is r = 1 / (t_ref + tau ln(R I / (R I - theta))) for the usual u_reset = 0.

Integration on a grid of step dt, the current held constant within each step:

* ``"exact"``: u(t + h) = R I + (u - R I) exp(-h / tau), the exact solution for a
  piecewise-constant current; the threshold crossing time inside a step is solved for
  exactly, h* = tau ln((R I - u) / (R I - theta)), and the refractory period ends
  mid-step, so spike times do not snap to the grid.
* ``"euler"``: u(t + h) = u + h / tau (R I - u) (forward Euler, error O(dt / tau)),
  with the crossing time found by linear interpolation within the step.

Times are seconds, voltages volts, currents amperes, resistance ohms, rates 1/s.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from rnnlab.errors import UserError
from rnnlab.spikes._checks import n_whole_bins, positive

_METHODS = ("exact", "euler")


@dataclass(frozen=True)
class LIF:
    """Leaky integrate-and-fire parameters (defaults: a typical cortical neuron).

    tau: membrane time constant (s); R: membrane resistance (ohm); theta: threshold
    above rest (V); u_reset: reset voltage above rest (V, < theta); t_ref: absolute
    refractory period (s).
    """

    tau: float = 0.010
    R: float = 1.0e7
    theta: float = 0.015
    u_reset: float = 0.0
    t_ref: float = 0.002

    def __post_init__(self):
        positive(self.tau, "tau")
        positive(self.R, "R")
        if not (math.isfinite(self.theta) and math.isfinite(self.u_reset)):
            raise UserError(f"theta ({self.theta}) and u_reset ({self.u_reset}) must be finite")
        if self.u_reset >= self.theta:
            raise UserError(f"u_reset ({self.u_reset:g} V) must be below theta ({self.theta:g} V)")
        if not (math.isfinite(self.t_ref) and self.t_ref >= 0):
            raise UserError(f"t_ref must be a number >= 0 (seconds), got {self.t_ref!r}")


class LIFTrace(NamedTuple):
    """A simulated LIF run: grid times ``t`` (K+1,), voltage ``u`` (K+1,), spike times (S,)."""

    t: np.ndarray
    u: np.ndarray
    spikes: np.ndarray


def _current_on_grid(current, t: np.ndarray) -> list[float]:
    """I at the start of each of the K steps, as Python floats (the loop is scalar)."""
    if callable(current):
        values = np.broadcast_to(np.asarray(current(t), dtype=np.float64), t.shape)
    else:
        values = np.asarray(current, dtype=np.float64)
        if values.ndim == 0:
            values = np.full(t.shape, float(values))
        elif values.shape != t.shape:
            raise UserError(f"current has shape {values.shape}; expected a number or ({t.size},)")
    if not np.all(np.isfinite(values)):
        raise UserError("current must be finite at every step")
    return values.tolist()


def simulate_lif(
    neuron: LIF,
    current: float | np.ndarray | Callable[[np.ndarray], np.ndarray],
    t_stop: float,
    *,
    dt: float = 1e-4,
    method: str = "exact",
    u0: float = 0.0,
) -> LIFTrace:
    """Integrate the LIF neuron from ``u0`` over [0, t_stop] in steps of ``dt``.

    ``current`` (A) is a number, an array ``(K,)`` with one value per step, or a
    function of the step start times ``(K,)``. Returns the voltage on the grid (after
    any reset) and the spike times.

    >>> trace = simulate_lif(LIF(), 2e-9, 0.1)  # R I = 20 mV > theta = 15 mV
    >>> trace.spikes.size
    6
    """
    if method not in _METHODS:
        raise UserError(f"method must be one of {', '.join(_METHODS)}, got {method!r}")
    dt = positive(dt, "dt")
    n_steps = n_whole_bins(positive(t_stop, "t_stop"), dt)  # K
    grid = np.arange(n_steps + 1) * dt  # (K+1,)
    current = _current_on_grid(current, grid[:-1])
    tau, theta, u_reset, t_ref = neuron.tau, neuron.theta, neuron.u_reset, neuron.t_ref
    exact = method == "exact"
    decay = math.exp(-dt / tau)
    u, ref_end = float(u0), -math.inf
    u_out, spikes = [u], []
    for k, i_k in enumerate(current):
        u_inf = neuron.R * i_k  # the voltage u relaxes to: R I
        start, end = k * dt, (k + 1) * dt
        while True:
            if ref_end >= end:  # refractory through the end of the step
                u = u_reset
                break
            full = start == k * dt
            if ref_end > start:  # refractory ends inside the step: integrate the rest
                start, u, full = ref_end, u_reset, False
            h = end - start
            if exact:
                u_new = u_inf + (u - u_inf) * (decay if full else math.exp(-h / tau))
            else:
                u_new = u + h / tau * (u_inf - u)
            if u_new < theta:
                u = u_new
                break
            if u >= theta:  # started at or above threshold (u0 >= theta)
                h_star = 0.0
            elif exact and u_inf > theta:  # exact crossing time of tau du/dt = R I - u
                h_star = tau * math.log((u_inf - u) / (u_inf - theta))
            elif exact:  # u_new >= theta only by round-off
                h_star = h
            else:
                h_star = h * (theta - u) / (u_new - u)
            t_f = start + min(h_star, h)
            spikes.append(t_f)
            ref_end = t_f + t_ref
            start, u = t_f, u_reset
        u_out.append(u)
    return LIFTrace(grid, np.asarray(u_out), np.asarray(spikes, dtype=np.float64))


def _rate_from_spikes(spikes: np.ndarray, duration: float) -> float:
    # Regular firing: 1 / mean inter-spike interval, which skips the first interval
    # (from rest, not from reset). Fewer than two spikes: count / duration.
    if spikes.size >= 2:
        return (spikes.size - 1) / (spikes[-1] - spikes[0])
    return spikes.size / duration


def fi_curve(
    neuron: LIF, currents, *, duration: float = 1.0, dt: float = 1e-4, method: str = "exact"
) -> np.ndarray:
    """Simulated firing rate (1/s) for each constant current in ``currents`` (A), ``(M,)``.

    The neuron starts at rest (u = 0) for each current; the rate is 1 / (mean
    inter-spike interval) over ``duration``, or count / duration with fewer than two
    spikes.
    """
    currents = np.atleast_1d(np.asarray(currents, dtype=np.float64))  # (M,)
    rates = [
        _rate_from_spikes(simulate_lif(neuron, i, duration, dt=dt, method=method).spikes, duration)
        for i in currents.tolist()
    ]
    return np.asarray(rates)


def fi_curve_theory(neuron: LIF, currents) -> np.ndarray:
    """Closed-form rate r = 1 / (t_ref + tau ln((R I - u_reset) / (R I - theta))), ``(M,)``.

    0 where R I <= theta (the voltage settles at R I below threshold).

    >>> float(fi_curve_theory(LIF(), 2e-9)[0]) > 0 == float(fi_curve_theory(LIF(), 1e-9)[0])
    True
    """
    currents = np.atleast_1d(np.asarray(currents, dtype=np.float64))  # (M,)
    ri = neuron.R * currents
    above = ri > neuron.theta
    ri_safe = np.where(above, ri, neuron.theta + 1.0)  # keep the log finite where masked
    period = neuron.t_ref + neuron.tau * np.log(
        (ri_safe - neuron.u_reset) / (ri_safe - neuron.theta)
    )
    return np.where(above, 1.0 / period, 0.0)
