"""Figures of the lecture's spike-train part, rebuilt from live computation.

Each function returns a :class:`matplotlib.figure.Figure` made without pyplot (no global
state; PNG output through the Agg canvas); :func:`save_figure` writes one atomically.
"""

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from scipy.optimize import curve_fit

from rnnlab.spikes._data import load_grasshopper
from rnnlab.spikes._lif import LIF, fi_curve, fi_curve_theory, simulate_lif
from rnnlab.spikes._optimal import optimal_bin_size, optimal_kernel_bandwidth
from rnnlab.spikes._poisson import inhomogeneous_poisson
from rnnlab.spikes._rates import instantaneous_rate, time_histogram

_TRUE = "#d62728"  # the true rate, in every panel


def demo_rate(t: np.ndarray) -> np.ndarray:
    """The demo's known rate lambda(t) = 25 (1 + 0.8 sin(2 pi t / 1 s)) in 1/s (5 to 45)."""
    return 25.0 * (1.0 + 0.8 * np.sin(2.0 * np.pi * np.asarray(t)))


def plot_rate_estimates(seed: int = 0, n_trials: int = 30, t_stop: float = 2.0) -> Figure:
    """(a) a spike train and its inter-spike intervals, (b) a raster of trials, (c) the
    time histogram and (d) the Gaussian-kernel estimate against the true rate, for an
    inhomogeneous Poisson process of rate :func:`demo_rate` (Shimazaki & Shinomoto's
    optimal bin width and bandwidth)."""
    trains = inhomogeneous_poisson(
        demo_rate, t_stop, rate_max=45.0, rng=np.random.default_rng(seed), n_trains=n_trials
    )
    t_fine = np.linspace(0.0, t_stop, 1001)
    fig = Figure(figsize=(8, 9), layout="constrained")
    ax_a, ax_b, ax_c, ax_d = fig.subplots(4, 1)

    # (a) the first 0.6 s of trial 0, each interval drawn and labelled in ms
    first = trains[0][trains[0] < 0.6]
    ax_a.vlines(first, 0, 1, color="k")
    for t_prev, t_next in zip(first[:-1], first[1:], strict=True):
        arrow = dict(arrowstyle="<->", lw=0.8, color="C0", shrinkA=0, shrinkB=0)
        ax_a.annotate("", (t_prev, 0.45), (t_next, 0.45), arrowprops=arrow)
        if t_next - t_prev >= 0.02:  # label the intervals with room for the text
            isi_ms = f"{1e3 * (t_next - t_prev):.0f}"
            ax_a.text((t_prev + t_next) / 2, 0.55, isi_ms, ha="center", fontsize=7, color="C0")
    ax_a.set(
        xlim=(0, 0.6),
        ylim=(0, 1.1),
        yticks=[],
        xlabel="time (s)",
        title="(a) a spike train and its inter-spike intervals (ms)",
    )

    # (b) raster: one row per trial
    ax_b.eventplot(trains, colors="k", linelengths=0.8, linewidths=0.8)
    ax_b.set(xlim=(0, t_stop), ylabel="trial", title=f"(b) raster of {n_trials} trials")

    # (c) PSTH with the Shimazaki-Shinomoto (2007) bin width
    delta = optimal_bin_size(trains, 0.0, t_stop)
    times, rate = time_histogram(trains, delta, 0.0, t_stop, output="rate")
    ax_c.stairs(rate, np.r_[times, times[-1] + delta], fill=True, color="0.7", label="histogram")
    ax_c.plot(t_fine, demo_rate(t_fine), color=_TRUE, label="true rate")
    ax_c.set(
        xlim=(0, t_stop),
        ylim=(0, None),
        ylabel="rate (1/s)",
        title=f"(c) time histogram, optimal bin {1e3 * delta:.0f} ms",
    )
    ax_c.legend(loc="upper right", fontsize=8)

    # (d) Gaussian kernel with the Shimazaki-Shinomoto (2010) bandwidth
    sigma = optimal_kernel_bandwidth(trains)
    times, rate = instantaneous_rate(trains, 0.001, sigma=sigma, t_stop=t_stop)
    ax_d.plot(times, rate, color="k", label="Gaussian kernel")
    ax_d.plot(t_fine, demo_rate(t_fine), color=_TRUE, label="true rate")
    ax_d.set(
        xlim=(0, t_stop),
        ylim=(0, None),
        xlabel="time (s)",
        ylabel="rate (1/s)",
        title=f"(d) kernel estimate, optimal sigma {1e3 * sigma:.0f} ms",
    )
    ax_d.legend(loc="upper right", fontsize=8)
    return fig


def _sigmoid(i, r_max, i_half, width):
    # r(I) = r_max / (1 + exp(-(I - I_half) / width)): the rate neuron's activation
    return r_max / (1.0 + np.exp(-(i - i_half) / width))


def fit_sigmoid(currents, rates) -> tuple[float, float, float]:
    """Least-squares ``(r_max, I_half, width)`` of r(I) = r_max / (1 + exp(-(I - I_half)/width))."""
    currents, rates = np.asarray(currents, float), np.asarray(rates, float)
    scale = np.ptp(currents)  # fit in units of the current range for conditioning
    p0 = (rates.max(), np.interp(rates.max() / 2, rates, currents) / scale, 0.1)
    (r_max, i_half, width), _ = curve_fit(_sigmoid, currents / scale, rates, p0=p0, maxfev=20000)
    return float(r_max), float(i_half * scale), float(width * scale)


def plot_lif_fi(neuron: LIF | None = None, i_max: float = 1e-8) -> Figure:
    """Left: the LIF voltage and spikes for one current. Right: the f-I curve, simulated
    and closed-form, beside a sigmoid rate neuron fitted to it: the rate neuron of the
    artificial network is a smooth stand-in for the spiking neuron's f-I curve."""
    neuron = LIF() if neuron is None else neuron
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax_u, ax_f = fig.subplots(1, 2)

    i_demo = 2.5 * neuron.theta / neuron.R
    trace = simulate_lif(neuron, i_demo, 0.1, dt=1e-5)
    ax_u.plot(1e3 * trace.t, 1e3 * trace.u, color="k", lw=1)
    ax_u.vlines(1e3 * trace.spikes, 1e3 * neuron.theta, 1e3 * neuron.theta * 2, color="k", lw=1)
    ax_u.axhline(1e3 * neuron.theta, ls="--", color="tab:blue", label="threshold theta")
    ax_u.set(
        xlabel="time (ms)",
        ylabel="u (mV above rest)",
        title=f"LIF neuron, I = {1e9 * i_demo:.2f} nA",
    )
    ax_u.legend(loc="lower right", fontsize=8)

    currents = np.linspace(0.0, i_max, 41)
    simulated = fi_curve(neuron, currents, duration=0.5, dt=1e-4)
    fine = np.linspace(0.0, i_max, 1001)
    r_max, i_half, width = fit_sigmoid(currents, simulated)
    ax_f.plot(1e9 * currents, simulated, "o", ms=4, color="k", label="LIF, simulated")
    ax_f.plot(
        1e9 * fine,
        fi_curve_theory(neuron, fine),
        color="tab:blue",
        label="LIF, 1 / (t_ref + tau ln(RI / (RI - theta)))",
    )
    ax_f.plot(
        1e9 * fine,
        _sigmoid(fine, r_max, i_half, width),
        "--",
        color=_TRUE,
        label=f"sigmoid rate neuron, r_max = {r_max:.0f}/s",
    )
    ax_f.set(xlabel="input current I (nA)", ylabel="firing rate (1/s)", title="f-I curve")
    ax_f.legend(loc="upper left", fontsize=8)
    return fig


def plot_grasshopper(recording: int = 1) -> Figure:
    """The grasshopper receptor recording: its spikes, the optimal-bin time histogram and
    the optimal-bandwidth Gaussian-kernel rate over the 10 s."""
    rec = load_grasshopper(recording)
    trains = [rec.spike_times]
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax_s, ax_r = fig.subplots(2, 1, sharex=True, height_ratios=(1, 4))
    ax_s.vlines(rec.spike_times, 0, 1, color="k", lw=0.5)
    ax_s.set(
        yticks=[],
        title=f"grasshopper auditory receptor, recording {recording} "
        f"({rec.spike_times.size} spikes; Rokem et al. 2006, via nitime)",
    )
    delta = optimal_bin_size(trains, rec.t_start, rec.t_stop)
    times, rate = time_histogram(trains, delta, rec.t_start, rec.t_stop, output="rate")
    ax_r.stairs(
        rate,
        np.r_[times, times[-1] + delta],
        fill=True,
        color="0.75",
        label=f"histogram, bin {1e3 * delta:.0f} ms",
    )
    sigma = optimal_kernel_bandwidth(trains)
    # One trial that starts and ends with the recording: correct the kernel's borders.
    times, rate = instantaneous_rate(
        trains, 0.001, sigma=sigma, t_stop=rec.t_stop, border_correction=True
    )
    label = f"Gaussian kernel, sigma {1e3 * sigma:.0f} ms (border-corrected)"
    ax_r.plot(times, rate, color="k", lw=1, label=label)
    ax_r.set(xlim=(rec.t_start, rec.t_stop), xlabel="time (s)", ylabel="rate (1/s)")
    ax_r.legend(loc="upper right", fontsize=8)
    return fig


def save_figure(fig: Figure, path, dpi: int = 120) -> Path:
    """Write ``fig`` as PNG to ``path`` atomically (:func:`rnnlab.engine.io.write_png`)."""
    from rnnlab.engine.io import write_png

    path = Path(path)
    write_png(path, fig, dpi=dpi)
    return path
