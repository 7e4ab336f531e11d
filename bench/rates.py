"""Kernel firing rates: rnnlab.spikes.instantaneous_rate against Elephant 1.2, one run.

The same 100 Poisson spike trains (20 1/s, 100 s, seeded), a Gaussian kernel of
sigma = 50 ms, 1 ms sampling. Two estimates:

* ``mean`` (the headline): the rate averaged over the 100 trains (Elephant's
  ``pool_spike_trains=True``). rnnlab sums the counts and convolves once.
* ``per_train``: one rate per train (Elephant's default). Both libraries do one FFT
  convolution over all trains; the FFT dominates, so the gain is smaller.

Timings are the best of ``REPEATS`` runs (spike trains already built, Elephant's
neo.SpikeTrain objects too); "max_rel_diff" is max |rnnlab - elephant| / max |elephant|.
Prints one JSON object.
"""

import json
import logging
import platform
import time
import warnings

import elephant
import neo
import numpy as np
import quantities as pq
from elephant import kernels, statistics

from rnnlab.spikes import homogeneous_poisson, instantaneous_rate

N_TRAINS, T_STOP, RATE, SIGMA, DT, REPEATS = 100, 100.0, 20.0, 0.05, 0.001, 5


def best_time(fn) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    trains = homogeneous_poisson(RATE, T_STOP, rng=np.random.default_rng(0), n_trains=N_TRAINS)
    spiketrains = [neo.SpikeTrain(t, t_stop=T_STOP, units="s") for t in trains]
    kernel = kernels.GaussianKernel(SIGMA * pq.s)
    report = {
        "setup": {
            "n_trains": N_TRAINS,
            "duration_s": T_STOP,
            "rate_hz": RATE,
            "n_spikes": int(sum(t.size for t in trains)),
            "kernel": "gaussian",
            "sigma_s": SIGMA,
            "sampling_period_s": DT,
            "repeats": REPEATS,
            "elephant": elephant.__version__,
            "numpy": np.__version__,
            "machine": platform.machine(),
        }
    }
    for name, pool in (("mean", True), ("per_train", False)):
        t_ours, (_, ours) = best_time(
            lambda pool=pool: instantaneous_rate(trains, DT, sigma=SIGMA, t_stop=T_STOP, pool=pool)
        )
        t_ref, ref = best_time(
            lambda pool=pool: statistics.instantaneous_rate(
                spiketrains, DT * pq.s, kernel=kernel, pool_spike_trains=pool
            )
        )
        ref = ref.magnitude[:, 0] if pool else ref.magnitude.T  # (T,) or (N, T)
        report[name] = {
            "rnnlab_s": round(t_ours, 5),
            "elephant_s": round(t_ref, 5),
            "speedup": round(t_ref / t_ours, 2),
            "max_rel_diff": float(np.max(np.abs(ours - ref)) / np.max(np.abs(ref))),
            "shape": list(ours.shape),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
