r"""Data-driven resolution of rate estimates: Shimazaki & Shinomoto's bin width and bandwidth.

Both methods choose the resolution that minimises an estimate of the mean integrated
squared error (MISE) between the estimated and the unknown true rate, computed from the
spikes alone (a Poisson assumption makes the unknown terms cancel).

Histogram (Shimazaki & Shinomoto 2007, Neural Comput 19:1503, eq. 2.10 / algorithm):
with k_i the spikes of all n trials in bin i of width Delta (N bins),

    k_bar = 1/N sum_i k_i,    v = 1/N sum_i (k_i - k_bar)^2,
    C(Delta) = (2 k_bar - v) / (n Delta)^2,        Delta* = argmin C(Delta).

Gaussian kernel (Shimazaki & Shinomoto 2010, J Comput Neurosci 29:171, eq. 19, and the
authors' ``sskernel.m``): for the density y(t) of the N pooled spikes on a grid of step
dt, and y_w = y smoothed by a Gaussian of standard deviation w,

    C(w) = N^2 [ sum y_w^2 dt - 2 sum y_w y dt + 2 / (sqrt(2 pi) w N) ],

minimised by golden-section search over log(exp(w) - 1), as ``sskernel.m`` and
``elephant.statistics.optimal_kernel_bandwidth`` do (same grid, steps and answer).
"""

import math

import numpy as np

from rnnlab.errors import UserError
from rnnlab.spikes._checks import as_trains, n_whole_bins, positive, window


def bin_size_cost(spike_trains, bin_sizes, t_start=0.0, t_stop=None, n_shifts=1) -> np.ndarray:
    """The Shimazaki-Shinomoto (2007) cost C(Delta) for each width in ``bin_sizes``, ``(K,)``.

    Bins of width Delta start at ``t_start`` and only whole bins inside the window count
    (choose widths that divide the window, as :func:`optimal_bin_size` does). With
    ``n_shifts > 1`` the cost is averaged over bin origins ``t_start + p Delta / n_shifts``
    (p = 0, ..., n_shifts - 1), as the authors' ``sshist.m`` does: a less noisy cost.
    """
    trains, _ = as_trains(spike_trains)
    t0, t1 = window(trains, t_start, t_stop)
    widths = np.atleast_1d(np.asarray(bin_sizes, dtype=np.float64))  # (K,)
    if widths.size == 0:
        raise UserError("bin_sizes is empty; give at least one bin width")
    if isinstance(n_shifts, bool) or not isinstance(n_shifts, int | np.integer) or n_shifts < 1:
        raise UserError(f"n_shifts must be a positive integer, got {n_shifts!r}")
    n = len(trains)
    x = np.sort(np.concatenate(trains))  # (S,) pooled: k_i sums the n trials
    cost = np.empty(widths.size)
    for j, delta in enumerate(widths):
        delta = positive(delta, "bin size")
        n_bins = n_whole_bins(t1 - t0, delta)  # N
        shifts = delta * np.arange(n_shifts)[:, None] / n_shifts  # (P, 1)
        edges = t0 + shifts + delta * np.arange(n_bins + 1)  # (P, N+1)
        k = np.diff(np.searchsorted(x, edges, side="left"), axis=1)  # (P, N) spikes per bin
        # A shifted origin pushes the last bin past t_stop: only whole bins inside count.
        inside = edges[:, 1:] <= t1 + 1e-8 * delta  # (P, N)
        ok = inside.any(axis=1)
        k, inside = k[ok], inside[ok]  # (P', N): origins with at least one whole bin
        m = inside.sum(axis=1)  # (P',) bins per origin
        k_bar = np.where(inside, k, 0).sum(axis=1) / m  # (P',)
        v = np.where(inside, (k - k_bar[:, None]) ** 2, 0).sum(axis=1) / m  # biased variance
        cost[j] = np.mean((2.0 * k_bar - v) / (n * delta) ** 2)
    return cost


def optimal_bin_size(spike_trains, t_start=0.0, t_stop=None, bin_sizes=None, n_shifts=1) -> float:
    """Shimazaki-Shinomoto (2007) bin width Delta* = argmin C(Delta), in seconds.

    The candidates default to the window divided into N = 2, ..., 500 bins (the authors'
    ``sshist.m``). ``t_stop=None`` means the latest spike; ``n_shifts`` as in
    :func:`bin_size_cost` (1: the paper's cost; ``sshist.m`` uses 30).

    >>> from rnnlab.spikes import homogeneous_poisson
    >>> trains = homogeneous_poisson(20.0, 10.0, rng=0, n_trains=5)
    >>> optimal_bin_size(trains, 0.0, 10.0) >= 1.0  # a flat rate: wide bins win
    True
    """
    trains, _ = as_trains(spike_trains)
    t0, t1 = window(trains, t_start, t_stop)
    if bin_sizes is None:
        bin_sizes = (t1 - t0) / np.arange(2, 501)
    widths = np.atleast_1d(np.asarray(bin_sizes, dtype=np.float64))
    cost = bin_size_cost(trains, widths, t0, t1, n_shifts)
    return float(widths[int(np.argmin(cost))])


def _softplus(x: float) -> float:
    # log(1 + exp(x)): sskernel.m's map from the search variable to the width w > 0.
    return math.log(1.0 + math.exp(x)) if x < 1e2 else x


def _softplus_inv(w: float) -> float:
    return math.log(math.exp(w) - 1.0) if w < 1e2 else w


def _smooth(y: np.ndarray, w: float) -> np.ndarray:
    """y convolved (circularly, zero-padded) with a Gaussian of std ``w`` grid steps."""
    n_y = y.size
    n = 2 ** math.ceil(math.log2(n_y + 3 * w))  # pad by 3 w against wrap-around
    freqs = np.minimum(np.arange(n), n - np.arange(n)) / n  # |f| in cycles per step
    gauss = np.exp(-0.5 * (w * 2.0 * math.pi * freqs) ** 2)  # Fourier transform of K
    return np.fft.ifft(np.fft.fft(y, n) * gauss)[:n_y]


def optimal_kernel_bandwidth(spike_trains) -> float:
    """Shimazaki-Shinomoto (2010) optimal Gaussian kernel standard deviation, in seconds.

    The trains are pooled (the method's n-trial form). The pooled spikes are binned on
    ``M = min(round(T / isi_min), 1000)`` points spanning first to last spike (T apart;
    isi_min the shortest non-zero interval), and C(w) is minimised over
    ``2 dt <= w <= T`` by 20 golden-section steps; the width last probed is returned,
    as in ``sskernel.m`` and Elephant's ``optimal_kernel_bandwidth``.
    """
    trains, _ = as_trains(spike_trains)
    x = np.sort(np.concatenate(trains))  # (S,) pooled spike times
    isi = np.diff(x)
    isi = isi[isi > 0]
    if isi.size == 0:
        raise UserError("optimal bandwidth needs at least two distinct spike times")
    span = x[-1] - x[0]  # T
    n_grid = min(int(span / isi.min() + 0.5), 1000)  # M
    if n_grid < 2:
        raise UserError("optimal bandwidth needs at least three distinct spike times")
    grid = np.linspace(x[0], x[-1], n_grid)  # (M,)
    dt = float(np.min(np.diff(grid)))
    y, _ = np.histogram(x, np.r_[grid - dt / 2, grid[-1] + dt / 2])
    n_spikes = y.sum()  # N
    y = y / (n_spikes * dt)  # density of the pooled spikes

    def cost(w: float) -> float:
        y_w = np.abs(_smooth(y, w / dt))
        c = (
            np.sum(y_w**2) * dt
            - 2 * np.sum(y_w * y) * dt
            + 2 / math.sqrt(2 * math.pi) / w / n_spikes
        )
        return c * n_spikes * n_spikes

    # Golden-section search on the softplus scale (sskernel.m): 20 steps, tol 1e-5.
    phi = 0.5 * (math.sqrt(5.0) + 1.0)
    a, b = _softplus_inv(2 * dt), _softplus_inv(span)
    c1 = (phi - 1) * a + (2 - phi) * b
    c2 = (2 - phi) * a + (phi - 1) * b
    f1, f2 = cost(_softplus(c1)), cost(_softplus(c2))
    w_opt = None
    for _ in range(20):
        if abs(b - a) <= 1e-5 * (abs(c1) + abs(c2)):
            break
        if f1 < f2:
            b, c2, f2 = c2, c1, f1
            c1 = (phi - 1) * a + (2 - phi) * b
            w_opt = _softplus(c1)
            f1 = cost(w_opt)
        else:
            a, c1, f1 = c1, c2, f2
            c2 = (2 - phi) * a + (phi - 1) * b
            w_opt = _softplus(c2)
            f2 = cost(w_opt)
    if w_opt is None:
        raise UserError("optimal bandwidth: the spikes span too short a time to search")
    return float(w_opt)
