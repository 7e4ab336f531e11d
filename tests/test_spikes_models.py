"""rnnlab.spikes: the LIF neuron against its closed form, Poisson generators against
theory, the kernels' moments, and the grasshopper loader."""

import math

import numpy as np
import pytest
from scipy import stats

from rnnlab.errors import UserError
from rnnlab.spikes import (
    CAUSAL_KERNELS,
    KERNELS,
    LIF,
    fi_curve,
    fi_curve_theory,
    homogeneous_poisson,
    inhomogeneous_poisson,
    instantaneous_rate,
    kernel_pdf,
    load_grasshopper,
    simulate_lif,
)

NEURON = LIF()  # tau 10 ms, R 10 MOhm, theta 15 mV, reset 0, t_ref 2 ms
# R I from 1.1 theta to 6 theta: firing from a few to ~270 spikes/s
ABOVE = np.linspace(1.1, 6.0, 12) * NEURON.theta / NEURON.R


def _closed_form(neuron: LIF, current: float) -> float:
    # Gerstner & Kistler 2002, eq. 4.10, written out by hand for the test
    ri = neuron.R * current
    if ri <= neuron.theta:
        return 0.0
    return 1.0 / (neuron.t_ref + neuron.tau * math.log((ri - neuron.u_reset) / (ri - neuron.theta)))


def test_closed_form_value_by_hand():
    # R I = 20 mV, theta = 15 mV: period = 2 ms + 10 ms * ln 4
    assert fi_curve_theory(NEURON, 2e-9)[0] == pytest.approx(1.0 / (0.002 + 0.01 * math.log(4)))


@pytest.mark.parametrize("neuron", [NEURON, LIF(u_reset=0.005, t_ref=0.004, tau=0.02)])
def test_fi_curve_exact_integration_matches_closed_form(neuron):
    expected = [_closed_form(neuron, i) for i in ABOVE]
    np.testing.assert_allclose(fi_curve_theory(neuron, ABOVE), expected, rtol=1e-12)
    # exact exponential steps + exact crossing times: equal to round-off
    np.testing.assert_allclose(fi_curve(neuron, ABOVE, duration=0.5), expected, rtol=1e-9)


def test_fi_curve_euler_within_its_time_step_error():
    expected = fi_curve_theory(NEURON, ABOVE)

    def error(dt):
        rates = fi_curve(NEURON, ABOVE, duration=0.5, dt=dt, method="euler")
        return np.max(np.abs(rates / expected - 1))

    err_coarse, err_fine = error(1e-4), error(2.5e-5)
    assert err_coarse < 0.01  # dt = 0.1 ms, tau = 10 ms
    assert err_fine < err_coarse / 2.5  # first order: error ~ dt


def test_below_threshold_is_silent():
    below = np.array([0.0, 0.5, 0.9, 0.99]) * NEURON.theta / NEURON.R
    assert np.all(fi_curve_theory(NEURON, below) == 0.0)
    assert np.all(fi_curve(NEURON, below, duration=0.5) == 0.0)
    trace = simulate_lif(NEURON, below[-1], 0.2)
    # the voltage settles at R I (Euler would too), never reaching theta
    assert trace.u[-1] == pytest.approx(NEURON.R * below[-1], rel=1e-6)


def test_time_varying_current_step_onset():
    # current switched on at 50 ms: the first spike comes tau ln(RI / (RI - theta)) later
    i_on = 2e-9
    trace = simulate_lif(NEURON, lambda t: np.where(t >= 0.05, i_on, 0.0), 0.2, dt=1e-4)
    assert np.all(trace.u[trace.t <= 0.05] == 0.0)
    first = 0.05 + NEURON.tau * math.log(0.02 / 0.005)
    assert trace.spikes[0] == pytest.approx(first, abs=1e-12)
    assert np.diff(trace.spikes) == pytest.approx(1 / _closed_form(NEURON, i_on), rel=1e-9)


def test_current_array_matches_constant():
    n = simulate_lif(NEURON, 3e-9, 0.1).spikes
    a = simulate_lif(NEURON, np.full(1000, 3e-9), 0.1).spikes
    np.testing.assert_array_equal(n, a)


@pytest.mark.parametrize(
    "kwargs",
    [dict(tau=0.0), dict(R=-1.0), dict(u_reset=0.02), dict(t_ref=-0.001), dict(tau=float("nan"))],
)
def test_lif_bad_parameters(kwargs):
    with pytest.raises(UserError):
        LIF(**kwargs)


def test_homogeneous_poisson_counts_and_intervals():
    rate, t_stop, n = 20.0, 10.0, 400
    trains = homogeneous_poisson(rate, t_stop, rng=np.random.default_rng(42), n_trains=n)
    counts = np.array([t.size for t in trains])
    # mean count lambda T = 200, standard error sqrt(200 / 400) = 0.7
    assert abs(counts.mean() - rate * t_stop) < 3.0
    assert 0.8 < counts.var() / counts.mean() < 1.2  # Fano factor 1
    isi = np.concatenate([np.diff(t) for t in trains])
    assert np.all(isi >= 0)
    assert isi.mean() == pytest.approx(1 / rate, rel=0.02)
    assert isi.std() / isi.mean() == pytest.approx(1.0, abs=0.03)  # CV 1
    assert stats.kstest(isi, "expon", args=(0, 1 / rate)).pvalue > 1e-3
    assert all(t.min() >= 0 and t.max() < t_stop for t in trains)


def test_inhomogeneous_poisson_follows_the_rate():
    def lam(t):
        return 25.0 * (1.0 + 0.8 * np.sin(2 * np.pi * t))

    trains = inhomogeneous_poisson(lam, 2.0, rate_max=45.0, rng=7, n_trains=500)
    first = np.array([np.sum(t < 0.5) for t in trains])  # high half-period
    second = np.array([np.sum((t >= 0.5) & (t < 1.0)) for t in trains])  # low half-period
    # integrals of lambda: 12.5 +- 20 / pi; standard errors ~0.19 and ~0.11
    assert first.mean() == pytest.approx(12.5 + 20 / math.pi, abs=0.8)
    assert second.mean() == pytest.approx(12.5 - 20 / math.pi, abs=0.5)
    total = np.array([t.size for t in trains])
    assert total.mean() == pytest.approx(50.0, abs=1.3)
    assert 0.8 < total.var() / total.mean() < 1.2


def test_generators_are_reproducible():
    a = homogeneous_poisson(5.0, 3.0, rng=3, n_trains=2)
    b = homogeneous_poisson(5.0, 3.0, rng=np.random.default_rng(3), n_trains=2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize(
    "call",
    [
        lambda: inhomogeneous_poisson(lambda t: 50.0 + 0 * t, 1.0, rate_max=10.0, rng=0),
        lambda: homogeneous_poisson(-1.0, 1.0, rng=0),
        lambda: homogeneous_poisson(1.0, 0.0, rng=0),
        lambda: homogeneous_poisson(1.0, 1.0, rng="seed"),
        lambda: homogeneous_poisson(1.0, 1.0, rng=0, n_trains=0),
    ],
)
def test_generator_bad_inputs(call):
    with pytest.raises(UserError):
        call()


@pytest.mark.parametrize("kind", KERNELS)
def test_kernel_is_a_density_with_std_sigma(kind):
    sigma = 0.02
    t = np.linspace(-0.5, 0.5, 1_000_001)  # step 1 us, +- 25 sigma
    k = kernel_pdf(kind, t, sigma)
    dt = t[1] - t[0]
    mass = np.sum(k) * dt
    mean = np.sum(t * k) * dt
    std = math.sqrt(np.sum((t - mean) ** 2 * k) * dt)
    assert mass == pytest.approx(1.0, abs=1e-4)
    assert std == pytest.approx(sigma, rel=1e-3)
    assert np.all(k >= 0)
    if kind in CAUSAL_KERNELS:
        assert np.all(k[t < 0] == 0.0)
    else:
        np.testing.assert_allclose(k, k[::-1], atol=1e-9)  # symmetric


@pytest.mark.parametrize("kind", sorted(CAUSAL_KERNELS))
def test_causal_kernel_rate_ignores_future_spikes(kind):
    dt = 1e-4
    times, rate = instantaneous_rate([[0.5]], dt, kernel=kind, sigma=0.02, t_stop=1.0)
    # zero up to FFT round-off before the spike's bin, the whole kernel after it
    assert rate[times < 0.5].max() < 1e-12 * rate.max()
    assert np.sum(rate[times >= 0.5]) * dt == pytest.approx(1.0, abs=0.01)
    times, sym = instantaneous_rate([[0.5]], dt, kernel="gaussian", sigma=0.02, t_stop=1.0)
    assert np.sum(sym[times < 0.5]) * dt == pytest.approx(0.5, abs=0.01)  # sees the future


def test_grasshopper_loader_units_and_content():
    rec = load_grasshopper(1)
    t = rec.spike_times
    assert t.size == 929
    assert np.all(np.diff(t) > 0)
    assert 0.0 <= t[0] and t[-1] < rec.t_stop == 10.0  # microseconds converted to seconds
    assert 80 < t.size / rec.t_stop < 110  # the header's "desired firing rate (Hz): 100"
    assert rec.header["desired firing rate (Hz)"] == "100"
    assert t[0] == pytest.approx(6700e-6)  # first line of the file: 6700 us
    assert load_grasshopper(2).spike_times.size > 800
    with pytest.raises(UserError):
        load_grasshopper(3)
