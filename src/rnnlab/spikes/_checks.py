"""Input checks shared by the spike-train functions: one clear line per mistake.

A spike train is a 1-D array of spike times in seconds, finite, non-negative and sorted
ascending (equal times are allowed). A collection of trains is a list of such arrays,
one per trial or neuron.
"""

import math
from collections.abc import Sequence
from numbers import Real

import numpy as np

from rnnlab.errors import UserError


def check_train(times, where: str) -> np.ndarray:
    """One spike train as a float64 array ``(S,)``, or a :class:`UserError` naming ``where``."""
    try:
        t = np.asarray(times, dtype=np.float64)
    except (TypeError, ValueError):
        raise UserError(f"{where}: spike times must be numbers (seconds)") from None
    if t.ndim != 1:
        raise UserError(f"{where}: expected a 1-D array of spike times, got shape {t.shape}")
    if not np.all(np.isfinite(t)):
        raise UserError(f"{where}: spike times must be finite, found {t[~np.isfinite(t)][0]}")
    if t.size and t.min() < 0:
        raise UserError(f"{where}: negative spike time {t.min():g} s; times must be >= 0")
    bad = np.flatnonzero(np.diff(t) < 0)
    if bad.size:
        i = int(bad[0])
        raise UserError(
            f"{where}: spike times not sorted ({t[i + 1]:g} s follows {t[i]:g} s); "
            "sort each train ascending"
        )
    return t


def _is_single_train(spike_trains) -> bool:
    if isinstance(spike_trains, np.ndarray):
        return spike_trains.ndim == 1 and spike_trains.dtype != object
    if isinstance(spike_trains, Sequence) and not isinstance(spike_trains, str):
        return len(spike_trains) > 0 and all(isinstance(x, Real) for x in spike_trains)
    return False


def as_trains(spike_trains) -> tuple[list[np.ndarray], bool]:
    """Normalise one train or a list of trains to ``(list of (S_i,) arrays, single)``.

    ``single`` is True when one train (a 1-D array or a list of numbers) was given. At
    least one spike in all trains together is required: an estimate from no spikes at
    all is meaningless.
    """
    if isinstance(spike_trains, str | bytes):
        raise UserError("spike_trains: expected arrays of spike times, got a string")
    single = _is_single_train(spike_trains)
    if single:
        trains = [check_train(spike_trains, "spike train")]
    else:
        try:
            items = list(spike_trains)
        except TypeError:
            raise UserError(
                f"spike_trains: expected a list of spike-time arrays, got {type(spike_trains)}"
            ) from None
        if not items:
            raise UserError("spike_trains: empty list; give at least one spike train")
        trains = [check_train(x, f"spike train {i}") for i, x in enumerate(items)]
    if sum(t.size for t in trains) == 0:
        raise UserError(f"spike_trains: no spikes in any of the {len(trains)} train(s)")
    return trains, single


def positive(value, name: str, unit: str = "seconds") -> float:
    """``value`` as a finite float > 0, or a :class:`UserError`."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if not (math.isfinite(v) and v > 0):
        raise UserError(f"{name} must be a positive number ({unit}), got {value!r}")
    return v


def window(trains: list[np.ndarray], t_start, t_stop) -> tuple[float, float]:
    """``(t_start, t_stop)`` as floats; ``t_stop=None`` means the latest spike time."""
    t0 = 0.0 if t_start is None else float(t_start)
    t1 = max(float(t[-1]) for t in trains if t.size) if t_stop is None else float(t_stop)
    if not (math.isfinite(t0) and math.isfinite(t1)):
        raise UserError(f"t_start ({t0}) and t_stop ({t1}) must be finite")
    if t1 <= t0:
        raise UserError(f"t_stop ({t1:g} s) must be greater than t_start ({t0:g} s)")
    return t0, t1


def n_whole_bins(duration: float, width: float, tol: float = 1e-8) -> int:
    """Number of whole bins of ``width`` in ``duration``, robust to rounding.

    ``floor(duration / width)``, except that a quotient within ``tol`` below an integer
    counts as that integer (0.3 / 0.1 = 2.999... gives 3 bins, not 2), as Elephant's
    ``round_binning_errors`` does.
    """
    q = duration / width
    n = math.floor(q)
    if q - n >= 1.0 - tol:
        n += 1
    if n < 1:
        raise UserError(
            f"bin width {width:g} s is longer than the window ({duration:g} s); "
            "choose a smaller one"
        )
    return n


def bin_index(x: np.ndarray, tol: float = 1e-8) -> np.ndarray:
    """floor(x), but x within ``tol`` below an integer counts as that integer (Elephant)."""
    i = np.floor(x)
    return (i + (x - i >= 1.0 - tol)).astype(np.intp)


def rng_of(rng) -> np.random.Generator:
    """A :class:`numpy.random.Generator` from a Generator or an integer seed."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise UserError(f"rng must be a numpy Generator or an integer seed >= 0, got {rng!r}")
