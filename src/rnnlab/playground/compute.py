"""The pages' small computations, answered at once by the server: no training process.

Momentum on a quadratic and Hebb/Oja (Neuron page), the LIF neuron and the firing-rate
estimates (Spikes page). Each takes a request body, checks it against the limits
(:class:`rnnlab.playground.limits.Invalid` on a bad value) and returns plain JSON
data computed by :mod:`rnnlab.neuron` and :mod:`rnnlab.spikes`.
"""

from __future__ import annotations

import functools

import numpy as np

from rnnlab.playground.limits import choice, number

PROFILES = ("sine", "step", "constant")


def momentum(body: dict) -> dict:
    """Gradient descent and momentum on f(w) = 1/2 (l_min w1^2 + l_max w2^2) (Goh 2017)."""
    from rnnlab.neuron import convergence_rate, heavy_ball, optimal_gd, optimal_momentum

    kappa = number(body, "kappa", 20.0, 1.0, 1000.0)
    lam = (1.0, kappa)  # lambda_min, lambda_max
    alpha = number(body, "alpha", optimal_gd(*lam).alpha, 1e-6, 2.5)
    beta = number(body, "beta", 0.5, 0.0, 0.999)
    steps = number(body, "steps", 100, 1, 1000, integer=True)
    w0 = np.array([number(body, "w1", -1.0, -10, 10), number(body, "w2", 1.0, -10, 10)])
    A = np.diag(lam)
    paths = {
        "gd": heavy_ball(A, w0, alpha=alpha, beta=0.0, steps=steps),
        "momentum": heavy_ball(A, w0, alpha=alpha, beta=beta, steps=steps),
    }
    out = {"eigenvalues": list(lam), "alpha": alpha, "beta": beta}
    for name, ws in paths.items():
        err = np.linalg.norm(ws, axis=1)
        ok = np.isfinite(ws).all(1)
        out[name] = ws[ok].tolist()  # (K+1, 2) until it overflows
        out[f"{name}_error"] = [float(e) for e in err[ok]]
        late = steps // 2
        good = ok.all() and (err[late:] > 0).all()
        out[f"{name}_rate"] = convergence_rate(err, start=late) if good else None
    out["optimal_gd"] = optimal_gd(*lam)._asdict()
    out["optimal_momentum"] = optimal_momentum(*lam)._asdict()
    return out


def hebb(body: dict) -> dict:
    """Hebb's or Oja's rule on a centred, elongated 2-D Gaussian cloud."""
    import jax

    from rnnlab.neuron import train_hebb, train_oja

    rule = choice(body, "rule", "oja", ("hebb", "oja"))
    eta = number(body, "eta", 0.01, 1e-5, 1.0)
    epochs = number(body, "steps", 20, 1, 500, integer=True)
    n = number(body, "n", 200, 2, 2000, integer=True)
    angle = np.deg2rad(number(body, "angle", 30.0, -180, 180))
    ratio = number(body, "ratio", 0.3, 0.01, 1.0)  # minor / major standard deviation
    seed = number(body, "seed", 0, 0, 2**31 - 1, integer=True)
    rng = np.random.default_rng(seed)
    R = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    X = (rng.normal(size=(n, 2)) * [1.0, ratio]) @ R.T
    X = X - X.mean(0)
    train = train_hebb if rule == "hebb" else train_oja
    _, history = train(X, eta=eta, epochs=epochs, key=jax.random.key(seed))
    history = np.asarray(history, np.float64)
    evals, evecs = np.linalg.eigh(np.cov(X.T))
    ok = np.isfinite(history).all(1)
    return {
        "rule": rule,
        "points": np.round(X, 4).tolist(),
        "weights": history[ok].tolist(),  # (epochs + 1, 2) until it overflows
        "pc": evecs[:, -1].tolist(),
        "variance": evals[::-1].tolist(),
    }


@functools.lru_cache(maxsize=32)
def _fi(tau, theta, t_ref, i_max):
    from rnnlab.spikes import LIF, fi_curve, fi_curve_theory

    neuron = LIF(tau=tau, theta=theta, t_ref=t_ref)
    currents = np.linspace(0.0, i_max, 31)
    simulated = fi_curve(neuron, currents, duration=0.5, dt=1e-4)
    return currents, simulated, fi_curve_theory(neuron, currents)


def lif(body: dict) -> dict:
    """A membrane trace at one current, and the f-I curve (simulated and closed form)."""
    from rnnlab.spikes import LIF, simulate_lif

    tau = number(body, "tau_ms", 10.0, 1.0, 100.0) / 1e3
    theta = number(body, "theta_mV", 15.0, 1.0, 50.0) / 1e3
    t_ref = number(body, "t_ref_ms", 2.0, 0.0, 20.0) / 1e3
    current = number(body, "current_nA", 2.0, 0.0, 10.0) * 1e-9
    t_stop = number(body, "t_stop", 0.2, 0.01, 2.0)
    i_max = number(body, "i_max_nA", 5.0, 0.1, 10.0) * 1e-9
    trace = simulate_lif(LIF(tau=tau, theta=theta, t_ref=t_ref), current, t_stop, dt=1e-4)
    stride = max(1, len(trace.t) // 2000)
    currents, simulated, theory = _fi(tau, theta, t_ref, i_max)
    return {
        "t": np.round(trace.t[::stride], 6).tolist(),
        "u": np.round(trace.u[::stride], 7).tolist(),
        "spikes": trace.spikes.tolist(),
        "theta": theta,
        "currents": currents.tolist(),
        "fi_simulated": simulated.tolist(),
        "fi_theory": theory.tolist(),
    }


def rate_profile(profile: str, rate: float):
    """lambda(t) in 1/s: a sine of period 1 s, a step at half time, or a constant."""
    if profile == "sine":
        return lambda t: rate * (1.0 + 0.8 * np.sin(2 * np.pi * np.asarray(t)))
    if profile == "step":
        return lambda t: np.where(np.asarray(t) % 2.0 < 1.0, 0.3 * rate, 1.7 * rate)
    return lambda t: np.full(np.shape(t), rate)


@functools.lru_cache(maxsize=32)
def _trains(profile, rate, n_trains, duration, seed):
    from rnnlab.spikes import inhomogeneous_poisson, optimal_bin_size, optimal_kernel_bandwidth

    trains = inhomogeneous_poisson(
        rate_profile(profile, rate), duration, rate_max=1.8 * rate, rng=seed, n_trains=n_trains
    )
    spikes = sum(t.size for t in trains)
    best_bin = optimal_bin_size(trains, 0.0, duration) if spikes >= 2 else None
    best_bw = optimal_kernel_bandwidth(trains) if spikes >= 3 else None
    return trains, best_bin, best_bw


def rates(body: dict) -> dict:
    """Poisson trains of a rate profile, their time histogram and kernel estimate."""
    from rnnlab.spikes import instantaneous_rate, time_histogram

    profile = choice(body, "profile", "sine", PROFILES)
    rate = number(body, "rate", 20.0, 1.0, 200.0)
    n_trains = number(body, "n_trains", 20, 1, 100, integer=True)
    duration = number(body, "duration", 4.0, 0.5, 20.0)
    seed = number(body, "seed", 0, 0, 2**31 - 1, integer=True)
    trains, best_bin, best_bw = _trains(profile, rate, n_trains, duration, seed)
    bin_size = number(body, "bin_ms", 100.0, 1.0, 1000.0 * duration) / 1e3
    sigma = number(body, "bandwidth_ms", 50.0, 1.0, 1000.0 * duration) / 1e3
    edges, psth = time_histogram(trains, bin_size, 0.0, duration, output="rate")
    dt = max(1e-3, duration / 2000)
    times, kernel = instantaneous_rate(trains, dt, sigma=sigma, t_stop=duration)
    grid = np.linspace(0.0, duration, 400)
    return {
        "trains": [np.round(t, 5).tolist() for t in trains],
        "duration": duration,
        "true_t": grid.tolist(),
        "true_rate": rate_profile(profile, rate)(grid).tolist(),
        "psth_t": edges.tolist(),
        "psth": psth.tolist(),
        "bin_size": bin_size,
        "kernel_t": np.round(times, 6).tolist(),
        "kernel": np.round(kernel, 4).tolist(),
        "optimal_bin": best_bin,
        "optimal_bandwidth": best_bw,
    }
