"""Spike trains and firing rates: from the biological neuron to the rate neuron.

The leaky integrate-and-fire neuron and its f-I curve; Poisson spike generators; the
time histogram (PSTH) and kernel estimates of the firing rate, with the optimal bin width
and bandwidth of Shimazaki & Shinomoto; real grasshopper spike trains; the lecture's
figures. Times are seconds (floats), rates 1/s; a spike train is a sorted 1-D array.

>>> import numpy as np
>>> from rnnlab.spikes import inhomogeneous_poisson, instantaneous_rate, time_histogram
>>> lam = lambda t: 25.0 * (1.0 + 0.8 * np.sin(2 * np.pi * t))
>>> trains = inhomogeneous_poisson(lam, 2.0, rate_max=45.0, rng=0, n_trains=30)
>>> times, psth = time_histogram(trains, 0.05, 0.0, 2.0, output="rate")
>>> times, rate = instantaneous_rate(trains, 0.001, sigma="auto", t_stop=2.0)
>>> rate.shape
(2000,)
"""

from rnnlab.spikes._data import (
    GRASSHOPPER_DURATION,
    SpikeRecording,
    load_grasshopper,
    parse_spike_text,
    read_spike_times,
)
from rnnlab.spikes._kernels import CAUSAL_KERNELS, KERNELS, kernel_pdf
from rnnlab.spikes._lif import LIF, LIFTrace, fi_curve, fi_curve_theory, simulate_lif
from rnnlab.spikes._optimal import bin_size_cost, optimal_bin_size, optimal_kernel_bandwidth
from rnnlab.spikes._poisson import homogeneous_poisson, inhomogeneous_poisson
from rnnlab.spikes._rates import instantaneous_rate, time_histogram

# The figures need matplotlib (slow to import): load them on first use.
_PLOTS = (
    "demo_rate",
    "fit_sigmoid",
    "plot_grasshopper",
    "plot_lif_fi",
    "plot_rate_estimates",
    "save_figure",
)


def __getattr__(name):
    if name in _PLOTS:
        from rnnlab.spikes import _plots

        return getattr(_plots, name)
    raise AttributeError(f"module 'rnnlab.spikes' has no attribute {name!r}")


__all__ = [
    "CAUSAL_KERNELS",
    "GRASSHOPPER_DURATION",
    "KERNELS",
    "LIF",
    "LIFTrace",
    "SpikeRecording",
    "bin_size_cost",
    "demo_rate",
    "fi_curve",
    "fi_curve_theory",
    "fit_sigmoid",
    "homogeneous_poisson",
    "inhomogeneous_poisson",
    "instantaneous_rate",
    "kernel_pdf",
    "load_grasshopper",
    "optimal_bin_size",
    "optimal_kernel_bandwidth",
    "parse_spike_text",
    "plot_grasshopper",
    "plot_lif_fi",
    "plot_rate_estimates",
    "read_spike_times",
    "save_figure",
    "simulate_lif",
    "time_histogram",
]
