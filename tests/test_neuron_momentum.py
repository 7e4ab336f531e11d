"""Gradient descent and the heavy ball on f(w) = 1/2 w^T A w (Polyak 1964; Goh 2017)."""

import jax.random as jr
import numpy as np
import pytest
from matplotlib.figure import Figure

from rnnlab.neuron import (
    convergence_rate,
    gradient_descent,
    heavy_ball,
    optimal_gd,
    optimal_momentum,
    plot_momentum,
    quadratic,
)


def _spectrum(kappa, n=8):
    return np.geomspace(1.0, kappa, n)  # lambda_min = 1, lambda_max = kappa


def _spectral_radius(eigenvalues, alpha, beta):
    """Independent reference: the largest |root| of each eigen-direction's 2x2 recurrence.

    Polyak's form w_{k+1} = (1 + beta - alpha lambda) w_k - beta w_{k-1}, as a matrix
    acting on (w_k, w_{k-1}).
    """
    return max(
        np.abs(np.linalg.eigvals(np.array([[1 + beta - alpha * lam, -beta], [1.0, 0.0]]))).max()
        for lam in eigenvalues
    )


def test_iterates_equal_polyak_recurrence_by_hand():
    A = quadratic([0.5, 2.0, 7.0], key=jr.key(0))
    w0, alpha, beta = np.array([1.0, -2.0, 0.5]), 0.1, 0.6
    ws = heavy_ball(A, w0, alpha=alpha, beta=beta, steps=40)
    ref = [w0, w0 - alpha * A @ w0]  # z^0 = 0: the first step is plain gradient descent
    for _ in range(39):
        ref.append(ref[-1] - alpha * A @ ref[-1] + beta * (ref[-1] - ref[-2]))
    np.testing.assert_allclose(ws, np.array(ref), rtol=1e-4, atol=1e-5)


def test_quadratic_has_the_chosen_eigenvalues():
    lam = [0.1, 3.0, 4.0, 50.0]
    for key in (None, jr.key(1)):
        A = quadratic(lam, key=key)
        np.testing.assert_allclose(A, A.T, atol=1e-12)
        np.testing.assert_allclose(np.linalg.eigvalsh(A), lam, rtol=1e-10)


@pytest.mark.parametrize("kappa", [10.0, 100.0, 1000.0])
def test_optimal_parameters_minimise_the_spectral_radius(kappa):
    lam = _spectrum(kappa)
    hb, gd = optimal_momentum(lam[0], lam[-1]), optimal_gd(lam[0], lam[-1])
    sqrt_k = np.sqrt(kappa)
    assert hb.rate == pytest.approx((sqrt_k - 1) / (sqrt_k + 1), rel=1e-12)
    assert gd.rate == pytest.approx((kappa - 1) / (kappa + 1), rel=1e-12)
    best = _spectral_radius(lam, hb.alpha, hb.beta)
    assert best == pytest.approx(hb.rate, rel=1e-6)
    assert _spectral_radius(lam, gd.alpha, 0.0) == pytest.approx(gd.rate, rel=1e-12)
    for d_alpha, d_beta in [(1.03, 1.0), (0.97, 1.0), (1.0, 1.03), (1.0, 0.97)]:
        assert _spectral_radius(lam, hb.alpha * d_alpha, hb.beta * d_beta) > best + 1e-6
    for d_alpha in (1.03, 0.97):
        assert _spectral_radius(lam, gd.alpha * d_alpha, 0.0) > gd.rate


@pytest.mark.parametrize(
    ("method", "kappa", "steps"),
    [("momentum", 100.0, 300), ("momentum", 1000.0, 900), ("gd", 100.0, 1500)],
)
def test_measured_rate_matches_theory(method, kappa, steps):
    lam = _spectrum(kappa)
    A, w0 = quadratic(lam, key=jr.key(2)), np.ones(len(lam))
    if method == "momentum":
        p = optimal_momentum(lam[0], lam[-1])
        ws = heavy_ball(A, w0, alpha=p.alpha, beta=p.beta, steps=steps)
        predicted = (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)
    else:
        p = optimal_gd(lam[0], lam[-1])
        ws = gradient_descent(A, w0, alpha=p.alpha, steps=steps)
        predicted = (kappa - 1) / (kappa + 1)
    err = np.linalg.norm(ws.astype(np.float64), axis=1)  # ||w^k - w*||, w* = 0
    late = err[steps // 3 :]
    measured = np.exp(np.mean(np.log(late[1:] / late[:-1])))  # geometric mean of ratios
    assert measured == pytest.approx(predicted, rel=0.02)
    assert convergence_rate(err, steps // 3) == pytest.approx(measured, rel=1e-9)


def test_momentum_needs_about_sqrt_kappa_times_fewer_steps():
    lam = _spectrum(400.0)
    A, w0 = quadratic(lam), np.ones(len(lam))
    gd, hb = optimal_gd(lam[0], lam[-1]), optimal_momentum(lam[0], lam[-1])
    e_gd = np.linalg.norm(gradient_descent(A, w0, alpha=gd.alpha, steps=2000), axis=1)
    e_hb = np.linalg.norm(heavy_ball(A, w0, alpha=hb.alpha, beta=hb.beta, steps=2000), axis=1)
    target = 1e-3 * e_gd[0]
    k_gd, k_hb = np.argmax(e_gd < target), np.argmax(e_hb < target)
    assert 0 < k_hb and 0 < k_gd
    assert 5 < k_gd / k_hb < 20  # sqrt(400) = 20 up to the transient of the double root


def test_momentum_figure_draws_both_runs():
    steps = 300
    fig = plot_momentum((1.0, 10.0, 100.0), steps=steps)
    assert isinstance(fig, Figure)
    lines = fig.axes[0].get_lines()
    assert len(lines) == 4  # measured and predicted, for each method
    gd = optimal_gd(1.0, 100.0)
    A = np.diag([1.0, 10.0, 100.0])
    ref = [np.ones(3)]
    for _ in range(steps):
        ref.append(ref[-1] - gd.alpha * A @ ref[-1])
    np.testing.assert_allclose(lines[0].get_ydata(), np.linalg.norm(ref, axis=1), rtol=1e-4)
    # Momentum's error reaches ~1e-24 here: it must still be drawn, not underflow to 0.
    err_hb = lines[2].get_ydata()
    assert np.all(err_hb > 0) and err_hb[-1] < 1e-20
