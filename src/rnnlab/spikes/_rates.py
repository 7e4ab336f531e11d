r"""Firing-rate estimates from spike trains: the time histogram and kernel smoothing.

Dayan & Abbott (2001), *Theoretical Neuroscience*, sec. 1.2: the rate r(t) of a neuron
is estimated from n repeated trials either by counting spikes in bins of width Delta
(the peri-stimulus time histogram, PSTH),

    r_i = k_i / (n Delta),        k_i = spikes of all trials in bin i,

or by placing a kernel K of standard deviation sigma on every spike,

    r(t) = 1/n sum_trials sum_spikes K(t - t_s).

Both follow the conventions of Elephant 1.2 (``elephant.statistics.time_histogram`` and
``instantaneous_rate``) so that results agree with it to rounding; see the docstrings.
Times are seconds, rates 1/s.
"""

import math

import numpy as np
from scipy.special import erf

from rnnlab.errors import UserError
from rnnlab.spikes._checks import as_trains, bin_index, n_whole_bins, positive, window
from rnnlab.spikes._kernels import MIN_CUTOFF, check_kernel, kernel_pdf

_OUTPUTS = ("counts", "mean", "rate")


def time_histogram(spike_trains, bin_size, t_start=0.0, t_stop=None, output="counts"):
    """Spike counts of all trains in bins of width ``bin_size``: the PSTH.

    Bin i covers ``[t_start + i*bin_size, t_start + (i+1)*bin_size)``; there are
    ``B = floor((t_stop - t_start) / bin_size)`` whole bins (a last partial bin is
    dropped). As in Elephant's ``BinnedSpikeTrain``, a spike that lies within 1e-8 of
    a bin's right edge (in units of ``bin_size``) is counted in the next bin, and spikes
    past the last whole bin are ignored.

    output: ``"counts"`` k_i (summed over the n trains), ``"mean"`` k_i / n, or
    ``"rate"`` k_i / (n bin_size) in 1/s. ``t_stop=None`` means the latest spike.

    Returns ``(times, values)``: bin left edges ``(B,)`` and the histogram ``(B,)``.

    >>> times, rate = time_histogram([[0.1, 0.2], [0.15]], 0.25, 0.0, 1.0, "rate")
    >>> rate.tolist()
    [6.0, 0.0, 0.0, 0.0]
    """
    trains, _ = as_trains(spike_trains)
    bin_size = positive(bin_size, "bin_size")
    t0, t1 = window(trains, t_start, t_stop)
    if output not in _OUTPUTS:
        raise UserError(f"output must be one of {', '.join(_OUTPUTS)}, got {output!r}")
    n_bins = n_whole_bins(t1 - t0, bin_size)  # B
    spikes = np.concatenate(trains)  # (S,) all trains pooled
    spikes = spikes[(spikes >= t0) & (spikes <= t1)]
    idx = bin_index((spikes - t0) * (1.0 / bin_size))
    counts = np.bincount(idx[idx < n_bins], minlength=n_bins).astype(np.float64)  # (B,)
    times = t0 + np.arange(n_bins) * bin_size
    if output == "mean":
        return times, counts / len(trains)
    if output == "rate":
        return times, counts / (len(trains) * bin_size)
    return times, counts


def bin_counts(trains: list[np.ndarray], t0: float, dt: float, n_bins: int, pool: bool):
    """Counts in ``n_bins`` bins of width ``dt`` from ``t0``: ``(T,)`` pooled, else ``(N, T)``.

    Bin edges and edge rules are those of ``np.histogram(t, n_bins, (t0, t0 + n_bins*dt))``
    (half-open bins, the last one closed), which Elephant's ``instantaneous_rate`` uses;
    the count is one ``bincount`` for all trains instead of a histogram per train.
    """
    t_end = t0 + n_bins * dt
    edges = np.linspace(t0, t_end, n_bins + 1)  # (T+1,)
    t = np.concatenate(trains)  # (S,) all spikes, train after train
    keep = (t >= t0) & (t <= t_end)
    t = t[keep]
    idx = ((t - t0) / (t_end - t0) * n_bins).astype(np.intp)
    # Float rounding may put a spike one bin off its edges: fix it against the edges.
    idx[idx == n_bins] = n_bins - 1
    idx -= t < edges[idx]
    idx += (t >= edges[idx + 1]) & (idx != n_bins - 1)
    if pool:
        return np.bincount(idx, minlength=n_bins).astype(np.float64)
    rows = np.repeat(np.arange(len(trains)), [x.size for x in trains])[keep]  # (S,)
    flat = rows * n_bins + idx
    return np.bincount(flat, minlength=len(trains) * n_bins).reshape(len(trains), n_bins)


def kernel_samples(kind: str, sigma: float, dt: float, cutoff: float) -> np.ndarray:
    """The kernel as the convolution uses it: ``(2h+1,)`` values in 1/s, lag 0 in the middle.

    As in Elephant 1.2, ``h = ceil(cutoff * sigma / dt)`` and the samples lie at
    ``linspace(-cutoff*sigma, cutoff*sigma, 2h + 1)``: their spacing is ``dt`` only when
    ``cutoff*sigma/dt`` is a whole number, slightly less otherwise.
    """
    cutoff = max(float(cutoff), MIN_CUTOFF[kind])
    h = math.ceil(cutoff * (sigma / dt))
    lags = np.linspace(-cutoff * sigma, cutoff * sigma, 2 * h + 1)  # (L,)
    return kernel_pdf(kind, lags, sigma)


def instantaneous_rate(
    spike_trains,
    sampling_period,
    *,
    kernel="gaussian",
    sigma="auto",
    t_start=0.0,
    t_stop=None,
    cutoff=5.0,
    pool=True,
    border_correction=False,
):
    """Kernel estimate of the firing rate, r(t) = sum_spikes K(t - t_s), in 1/s.

    Spikes are counted in bins of ``sampling_period`` (dt) from ``t_start`` (the
    ``np.histogram`` rule, ``T = floor((t_stop - t_start) / dt)`` bins, where a quotient
    within 1e-8 below a whole number counts as it; Elephant truncates), and the counts
    are convolved with the kernel sampled as in :func:`kernel_samples`, truncated at
    ``cutoff`` standard deviations: one FFT convolution (``scipy.signal.fftconvolve``)
    for all trains at once. ``rate[i]`` belongs to ``times[i] = t_start + i*dt``, the
    left edge of bin i (Elephant's time grid; it lags the bin centre by dt/2).

    kernel: one of :data:`KERNELS`; sigma: its standard deviation in seconds, or
    ``"auto"`` for the Shimazaki-Shinomoto (2010) optimal bandwidth of the pooled
    spikes (Gaussian kernel only). Symmetric kernels are centred on the spike, exactly
    as in Elephant 1.2. The causal kernels (exponential, alpha) start at the spike's
    bin, so the rate at time t depends only on spikes up to t (Elephant's
    ``center_kernel=False``; Elephant's default centres their median instead).

    pool: True averages over the n trains (Elephant's ``pool_spike_trains=True``): the
    counts are summed before the one convolution, which is the same by linearity and
    n times cheaper. ``border_correction`` (Gaussian only, off by default as in
    Elephant) divides by the kernel mass inside ``[t_start, t_stop]`` and rescales each
    estimate so that its integral equals its spike count.

    Returns ``(times, rate)``: ``(T,)`` and ``(T,)`` when pooled or when one train was
    given, else ``(N, T)``.

    >>> times, rate = instantaneous_rate([[0.5]], 0.001, sigma=0.05, t_stop=1.0)
    >>> round(float(rate[500]), 3)  # 1 / (0.05 * sqrt(2 pi))
    7.979
    """
    trains, single = as_trains(spike_trains)
    dt = positive(sampling_period, "sampling_period")
    kind = check_kernel(kernel)
    t0, t1 = window(trains, t_start, t_stop)
    if border_correction and kind != "gaussian":
        raise UserError(f"border_correction needs kernel='gaussian', got {kind!r}")
    if isinstance(sigma, str) and sigma.strip().lower() == "auto":
        if kind != "gaussian":
            raise UserError(f"sigma='auto' needs kernel='gaussian', got {kind!r}; give sigma")
        from rnnlab.spikes._optimal import optimal_kernel_bandwidth

        sigma = optimal_kernel_bandwidth(trains)
    sigma = positive(sigma, "sigma")
    cutoff = positive(cutoff, "cutoff", "standard deviations")

    from scipy.signal import fftconvolve  # here: scipy.signal takes ~1 s to import

    n_bins = n_whole_bins(t1 - t0, dt)  # T
    k = kernel_samples(kind, sigma, dt, cutoff)  # (L,)
    counts = bin_counts(trains, t0, dt, n_bins, pool or single)  # (T,) or (N, T)
    # 'same' keeps T samples with the kernel's middle sample (lag 0) on each bin.
    rate = fftconvolve(counts, k[None, :] if counts.ndim == 2 else k, mode="same", axes=-1)
    np.maximum(rate, 0.0, out=rate)  # FFT round-off can dip below 0 far from spikes
    times = t0 + np.arange(n_bins) * dt  # (T,)
    if pool and not single:
        rate /= len(trains)
    if border_correction:
        n_spikes = counts.sum(axis=-1) / (len(trains) if pool and not single else 1)  # () or (N,)
        s = math.sqrt(2.0) * sigma
        rate *= 2.0 / (erf((t1 - times) / s) - erf((t0 - times) / s))
        mean = np.asarray(rate.mean(axis=-1))  # () or (N,)
        scale = np.divide(n_spikes, mean * (t1 - t0), out=np.ones_like(mean), where=mean > 0)
        rate *= scale[..., None]
    return times, rate
