r"""Poisson spike generators: the null model of rate coding (Dayan & Abbott 2001, sec. 1.4).

Homogeneous, rate lambda on [t_start, t_stop): the count is Poisson with mean
lambda (t_stop - t_start) and, given the count, the spike times are independent and
uniform, so the inter-spike intervals are exponential with mean 1 / lambda (CV = 1).

Inhomogeneous, rate lambda(t) <= lambda_max, by thinning (Lewis & Shedler 1979): draw a
homogeneous train of rate lambda_max and keep each spike t with probability
lambda(t) / lambda_max. The count is then Poisson with mean int lambda(t) dt.

Randomness is explicit: ``rng`` is a :class:`numpy.random.Generator` or an integer seed.
"""

from collections.abc import Callable

import numpy as np

from rnnlab.errors import UserError
from rnnlab.spikes._checks import rng_of


def _check_span(t_start: float, t_stop: float, n_trains: int) -> tuple[float, float, int]:
    t0, t1 = float(t_start), float(t_stop)
    if not (np.isfinite(t0) and np.isfinite(t1)) or t0 < 0:
        raise UserError(f"t_start ({t0}) must be >= 0 and t_stop ({t1}) finite")
    if t1 <= t0:
        raise UserError(f"t_stop ({t1:g} s) must be greater than t_start ({t0:g} s)")
    if isinstance(n_trains, bool) or not isinstance(n_trains, int | np.integer) or n_trains < 1:
        raise UserError(f"n_trains must be a positive integer, got {n_trains!r}")
    return t0, t1, int(n_trains)


def homogeneous_poisson(
    rate: float, t_stop: float, *, rng, t_start: float = 0.0, n_trains: int = 1
) -> list[np.ndarray]:
    """``n_trains`` Poisson spike trains of constant ``rate`` (1/s) on [t_start, t_stop).

    Returns a list of sorted spike-time arrays ``(S_i,)`` in seconds.

    >>> trains = homogeneous_poisson(20.0, 100.0, rng=0)
    >>> 1800 < trains[0].size < 2200
    True
    """
    t0, t1, n = _check_span(t_start, t_stop, n_trains)
    lam = float(rate)
    if not (np.isfinite(lam) and lam >= 0):
        raise UserError(f"rate must be a finite number >= 0 (1/s), got {rate!r}")
    gen = rng_of(rng)
    counts = gen.poisson(lam * (t1 - t0), size=n)  # (n,)
    return [np.sort(gen.uniform(t0, t1, size=c)) for c in counts]


def inhomogeneous_poisson(
    rate: Callable[[np.ndarray], np.ndarray],
    t_stop: float,
    *,
    rate_max: float,
    rng,
    t_start: float = 0.0,
    n_trains: int = 1,
) -> list[np.ndarray]:
    """``n_trains`` Poisson trains of time-varying rate lambda(t) by thinning.

    ``rate`` maps an array of times (s) to rates (1/s), elementwise; ``rate_max`` must
    bound it on [t_start, t_stop) (checked at every candidate spike).

    >>> import numpy as np
    >>> lam = lambda t: 20.0 * (1.0 + np.sin(2 * np.pi * t))
    >>> trains = inhomogeneous_poisson(lam, 10.0, rate_max=40.0, rng=1, n_trains=3)
    >>> len(trains)
    3
    """
    lam_max = float(rate_max)
    if not (np.isfinite(lam_max) and lam_max > 0):
        raise UserError(f"rate_max must be a positive number (1/s), got {rate_max!r}")
    if not callable(rate):
        raise UserError(f"rate must be a function of time t -> lambda(t), got {type(rate)}")
    gen = rng_of(rng)
    candidates = homogeneous_poisson(lam_max, t_stop, rng=gen, t_start=t_start, n_trains=n_trains)
    trains = []
    for t in candidates:
        lam = np.broadcast_to(np.asarray(rate(t), dtype=np.float64), t.shape)  # (S,)
        if lam.size and (not np.all(np.isfinite(lam)) or lam.min() < 0):
            raise UserError("rate(t) must be finite and >= 0 at every time")
        if lam.size and lam.max() > lam_max * (1 + 1e-12):
            raise UserError(f"rate(t) reaches {lam.max():g} > rate_max={lam_max:g}; raise rate_max")
        keep = gen.uniform(size=t.size) * lam_max < lam
        trains.append(t[keep])
    return trains
