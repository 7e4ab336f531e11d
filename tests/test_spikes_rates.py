"""rnnlab.spikes rate estimates against Elephant 1.2 (the reference peer, test-only), the
Shimazaki-Shinomoto bin width against brute force, and bad inputs."""

import logging
import math
import warnings

import numpy as np
import pytest

from rnnlab.errors import UserError
from rnnlab.spikes import (
    bin_size_cost,
    homogeneous_poisson,
    inhomogeneous_poisson,
    instantaneous_rate,
    optimal_bin_size,
    optimal_kernel_bandwidth,
    time_histogram,
)

neo = pytest.importorskip("neo")
pq = pytest.importorskip("quantities")
elephant_stats = pytest.importorskip("elephant.statistics")
elephant_kernels = pytest.importorskip("elephant.kernels")

T_STOP = 10.0
RTOL = 1e-9


@pytest.fixture(autouse=True)
def _quiet_elephant():
    # Elephant warns about discarded edge spikes and logs rounding corrections.
    logging.disable(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
    logging.disable(logging.NOTSET)


@pytest.fixture(scope="module")
def trains():
    ts = homogeneous_poisson(20.0, T_STOP, rng=np.random.default_rng(3), n_trains=6)
    return ts + [np.array([])]  # an empty trial among others is valid data


def _neo(trains, t_stop=T_STOP):
    return [neo.SpikeTrain(t, t_stop=t_stop, units="s") for t in trains]


def _rel(ours, ref):
    """max |ours - ref| / max |ref|: relative to the scale of the rate."""
    ours, ref = np.asarray(ours, float), np.asarray(ref, float)
    assert ours.shape == ref.shape
    return np.max(np.abs(ours - ref)) / np.max(np.abs(ref))


@pytest.mark.parametrize("sigma", [0.05, 0.0123, 0.1])
@pytest.mark.parametrize("dt", [0.001, 0.002])
def test_gaussian_rate_equals_elephant(trains, sigma, dt):
    kernel = elephant_kernels.GaussianKernel(sigma * pq.s)
    ref = elephant_stats.instantaneous_rate(_neo(trains), dt * pq.s, kernel=kernel)
    times, rate = instantaneous_rate(trains, dt, sigma=sigma, t_stop=T_STOP, pool=False)
    assert _rel(rate.T, ref.magnitude) < RTOL  # Elephant: (T, N)
    np.testing.assert_allclose(times, ref.times.rescale("s").magnitude, rtol=0, atol=1e-12)
    pooled = elephant_stats.instantaneous_rate(
        _neo(trains), dt * pq.s, kernel=kernel, pool_spike_trains=True
    )
    _, mean_rate = instantaneous_rate(trains, dt, sigma=sigma, t_stop=T_STOP)
    assert _rel(mean_rate, pooled.magnitude[:, 0]) < RTOL


def test_gaussian_rate_equals_elephant_in_milliseconds_and_window(trains):
    kernel = elephant_kernels.GaussianKernel(25 * pq.ms)
    ref = elephant_stats.instantaneous_rate(
        _neo(trains), 1 * pq.ms, kernel=kernel, t_start=2 * pq.s, t_stop=8500 * pq.ms
    )
    times, rate = instantaneous_rate(
        trains, 0.001, sigma=0.025, t_start=2.0, t_stop=8.5, pool=False
    )
    assert _rel(rate.T, ref.magnitude) < RTOL
    assert times[0] == 2.0 and times.size == ref.shape[0] == 6500


@pytest.mark.parametrize(
    "name, cls",
    [
        ("rectangular", "RectangularKernel"),
        ("triangular", "TriangularKernel"),
        ("epanechnikov", "EpanechnikovLikeKernel"),
        ("exponential", "ExponentialKernel"),
        ("alpha", "AlphaKernel"),
    ],
)
def test_other_kernels_equal_elephant_uncentred(trains, name, cls):
    # Elephant's center_kernel=False is our convention for every kernel (a no-op for the
    # symmetric ones): causal kernels start at the spike.
    kernel = getattr(elephant_kernels, cls)(0.03 * pq.s)
    ref = elephant_stats.instantaneous_rate(
        _neo(trains), 0.001 * pq.s, kernel=kernel, center_kernel=False
    )
    _, rate = instantaneous_rate(trains, 0.001, kernel=name, sigma=0.03, t_stop=T_STOP, pool=False)
    assert _rel(rate.T, ref.magnitude) < RTOL


def test_border_correction_equals_elephant(trains):
    kernel = elephant_kernels.GaussianKernel(0.3 * pq.s)
    ref = elephant_stats.instantaneous_rate(
        _neo(trains[:-1]), 0.001 * pq.s, kernel=kernel, border_correction=True
    )
    _, rate = instantaneous_rate(
        trains[:-1], 0.001, sigma=0.3, t_stop=T_STOP, pool=False, border_correction=True
    )
    assert _rel(rate.T, ref.magnitude) < RTOL
    _, plain = instantaneous_rate(trains[:-1], 0.001, sigma=0.3, t_stop=T_STOP, pool=False)
    assert _rel(plain, rate) > 0.1  # the correction does change the borders


def test_auto_sigma_equals_elephant_auto(trains):
    ref = elephant_stats.instantaneous_rate(_neo(trains[:1])[0], 0.001 * pq.s, kernel="auto")
    _, rate = instantaneous_rate(trains[0], 0.001, sigma="auto", t_stop=T_STOP)
    assert rate.shape == (10_000,)  # one train in, one rate out
    assert _rel(rate, ref.magnitude[:, 0]) < RTOL


@pytest.mark.parametrize("seed", range(12))
def test_optimal_kernel_bandwidth_equals_elephant(seed):
    def lam(t):
        return 25.0 * (1.0 + 0.8 * np.sin(2 * np.pi * t))

    (train,) = inhomogeneous_poisson(lam, 4.0, rate_max=45.0, rng=seed)
    ref = elephant_stats.optimal_kernel_bandwidth(train)["optw"]
    assert optimal_kernel_bandwidth(train) == pytest.approx(ref, rel=RTOL)


def test_optimal_kernel_bandwidth_pools_trials(trains):
    pooled = np.sort(np.concatenate(trains))
    ref = elephant_stats.optimal_kernel_bandwidth(pooled)["optw"]
    assert optimal_kernel_bandwidth(trains) == pytest.approx(ref, rel=RTOL)


@pytest.mark.parametrize("output", ["counts", "mean", "rate"])
@pytest.mark.parametrize("bin_size", [0.1, 0.3, 0.007, 0.05])
def test_time_histogram_equals_elephant(trains, output, bin_size):
    ref = elephant_stats.time_histogram(_neo(trains), bin_size * pq.s, output=output)
    times, values = time_histogram(trains, bin_size, 0.0, T_STOP, output=output)
    assert _rel(values, ref.magnitude[:, 0]) < RTOL
    np.testing.assert_allclose(times, ref.times.magnitude, rtol=0, atol=1e-12)


def test_time_histogram_edge_spikes_follow_elephant():
    # spikes on bin edges, at t_stop and a hair below an edge (rounding tolerance)
    edge = [[0.0, 0.1, 0.2, 0.3 - 1e-12, 0.5, 1.0], [0.25, 0.7, 1.0]]
    ref = elephant_stats.time_histogram(_neo(edge, 1.0), 0.1 * pq.s, output="counts")
    _, counts = time_histogram(edge, 0.1, 0.0, 1.0)
    np.testing.assert_array_equal(counts, ref.magnitude[:, 0])


def test_bin_size_cost_by_hand():
    # one trial, window [0, 4), width 1: counts k = (2, 0, 1, 1)
    train = [0.1, 0.5, 2.2, 3.9]
    k = np.array([2, 0, 1, 1])
    expected = (2 * k.mean() - np.mean((k - k.mean()) ** 2)) / 1.0**2
    assert bin_size_cost([train], [1.0], 0.0, 4.0)[0] == pytest.approx(expected)
    # two trials: k sums them and the cost divides by (n Delta)^2
    k2 = k + np.array([1, 1, 0, 0])
    two = (2 * k2.mean() - np.mean((k2 - k2.mean()) ** 2)) / (2 * 1.0) ** 2
    assert bin_size_cost([train, [0.3, 1.5]], [1.0], 0.0, 4.0)[0] == pytest.approx(two)


def _mise_ratio(n_shifts: int, reps: int, seed: int) -> float:
    """MISE of the Shimazaki-Shinomoto choice / MISE of the best fixed width (brute force)."""
    t_stop, n_trials, a, b = 10.0, 10, 25.0, 0.8

    def lam(t):
        return a * (1.0 + b * np.sin(2 * np.pi * t))

    def lam_integral(t):  # int_0^t lambda
        return a * (t - b * np.cos(2 * np.pi * t) / (2 * np.pi))

    # int_0^T lambda^2 over whole periods
    lam2_integral = a * a * t_stop * (1 + b * b / 2)
    widths = t_stop / np.arange(2, 501)  # the default candidates

    def ise(x, delta):
        n_bins = int(round(t_stop / delta))
        k = np.bincount(np.minimum((x / delta).astype(int), n_bins - 1), minlength=n_bins)
        r = k / (n_trials * delta)  # the histogram's rate in each bin
        mass = np.diff(lam_integral(delta * np.arange(n_bins + 1)))
        return np.sum(r * r * delta) - 2 * np.sum(r * mass) + lam2_integral

    rng = np.random.default_rng(seed)
    all_ise, chosen_ise = np.zeros((reps, widths.size)), np.zeros(reps)
    for r in range(reps):
        trains = inhomogeneous_poisson(lam, t_stop, rate_max=45.0, rng=rng, n_trains=n_trials)
        x = np.concatenate(trains)
        all_ise[r] = [ise(x, d) for d in widths]
        chosen_ise[r] = ise(x, optimal_bin_size(trains, 0.0, t_stop, n_shifts=n_shifts))
    return chosen_ise.mean() / all_ise.mean(axis=0).min()


def test_shimazaki_shinomoto_bin_width_near_brute_force_best():
    assert _mise_ratio(n_shifts=1, reps=30, seed=0) < 1.2


def test_shift_averaged_cost_near_brute_force_best():
    assert _mise_ratio(n_shifts=10, reps=12, seed=1) < 1.2


def test_pooling_is_cheap_and_exact(trains):
    # the mean over trains, by linearity one convolution of summed counts
    _, each = instantaneous_rate(trains, 0.001, sigma=0.05, t_stop=T_STOP, pool=False)
    _, pooled = instantaneous_rate(trains, 0.001, sigma=0.05, t_stop=T_STOP)
    assert _rel(pooled, each.mean(axis=0)) < 1e-12


def test_window_and_grid_conventions():
    times, rate = instantaneous_rate([[0.05]], 0.1, sigma=0.1, t_stop=0.3)
    assert times.tolist() == pytest.approx([0.0, 0.1, 0.2])  # left bin edges, 0.3/0.1 = 3 bins
    peak = 1 / (0.1 * math.sqrt(2 * math.pi))
    assert rate[0] == pytest.approx(peak)  # the spike's bin gets the kernel's centre


BAD = [
    (lambda: time_histogram([[0.3, 0.1]], 0.1, 0.0, 1.0), "not sorted"),
    (lambda: time_histogram([[-0.1, 0.2]], 0.1, 0.0, 1.0), "negative"),
    (lambda: time_histogram([], 0.1, 0.0, 1.0), "empty"),
    (lambda: time_histogram([[], []], 0.1, 0.0, 1.0), "no spikes"),
    (lambda: time_histogram([[0.1, "x"]], 0.1, 0.0, 1.0), "numbers"),
    (lambda: time_histogram([[0.1, float("nan")]], 0.1, 0.0, 1.0), "finite"),
    (lambda: time_histogram([[0.1]], 0.1, 1.0, 1.0), "t_stop"),
    (lambda: time_histogram([[0.1]], 0.0, 0.0, 1.0), "bin_size"),
    (lambda: time_histogram([[0.1]], -0.1, 0.0, 1.0), "bin_size"),
    (lambda: time_histogram([[0.1]], 0.1, 0.0, 1.0, output="hz"), "output"),
    (lambda: instantaneous_rate([[0.1]], 0.001, kernel="boxcar", sigma=0.1), "unknown kernel"),
    (lambda: instantaneous_rate([[0.1]], 0.001, sigma=0.0), "sigma"),
    (lambda: instantaneous_rate([[0.1]], 0.001, sigma=-1), "sigma"),
    (lambda: instantaneous_rate([[0.1]], 0.0, sigma=0.1), "sampling_period"),
    (lambda: instantaneous_rate([[0.1, 0.2]], 0.001, kernel="alpha"), "gaussian"),
    (lambda: instantaneous_rate([[0.1]], 0.001, sigma=0.1, t_start=2.0, t_stop=1.0), "t_stop"),
    (lambda: optimal_kernel_bandwidth([[0.1, 0.1]]), "distinct"),
    (lambda: optimal_bin_size([[0.1]], 0.0, 1.0, bin_sizes=[2.0]), "longer"),
]


@pytest.mark.parametrize("call, words", BAD)
def test_bad_inputs_raise_one_line_user_error(call, words):
    with pytest.raises(UserError) as err:
        call()
    message = str(err.value)
    assert "\n" not in message
    assert words in message
