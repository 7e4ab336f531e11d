# %% [markdown]
# # 10. Spike trains, firing rates and the integrate-and-fire neuron
#
# Real neurons communicate with spikes: brief, all-or-none events. An artificial
# neuron's output $y = \sigma(a)$ stands for a **firing rate**, the number of spikes
# per second. This tutorial follows that link in both directions:
#
# - from the neuron to the rate: the leaky integrate-and-fire (LIF) neuron,
#   $\tau\, du/dt = -u + R I$, which spikes and resets when $u$ reaches $\theta$. Under
#   a constant current its firing rate is a sigmoid-like function of the current, its
#   f-I curve;
# - from spikes back to a rate: a Poisson process generates spike trains of a known
#   rate, and we estimate that rate from the spikes with a time histogram (PSTH) and
#   with a kernel, choosing the bin width and the bandwidth with Shimazaki &
#   Shinomoto's methods. The last section applies the same estimators to a real
#   recording.
#
# You will see:
#
# - the simulated f-I curve lies on the closed-form one,
#   $r = 1/(t_{ref} + \tau \ln(RI / (RI - \theta)))$, and a sigmoid fits it;
# - a Poisson train's inter-spike intervals are exponential, with a coefficient of
#   variation of 1;
# - from 30 trials, the kernel estimate follows the true rate closely, and the
#   optimal bin and bandwidth are chosen from the spikes alone.
#
# API: [`rnnlab.spikes`](../../api/spikes/), in particular
# [`simulate_lif`](../../api/spikes/#rnnlab.spikes.simulate_lif),
# [`fi_curve`](../../api/spikes/#rnnlab.spikes.fi_curve),
# [`inhomogeneous_poisson`](../../api/spikes/#rnnlab.spikes.inhomogeneous_poisson),
# [`time_histogram`](../../api/spikes/#rnnlab.spikes.time_histogram) and
# [`instantaneous_rate`](../../api/spikes/#rnnlab.spikes.instantaneous_rate).

# %%
# %matplotlib inline
import numpy as np
from matplotlib.figure import Figure

from rnnlab.spikes import (
    LIF,
    demo_rate,
    fi_curve,
    fi_curve_theory,
    homogeneous_poisson,
    inhomogeneous_poisson,
    instantaneous_rate,
    optimal_bin_size,
    plot_grasshopper,
    plot_lif_fi,
    plot_rate_estimates,
)

# %% [markdown]
# ## The integrate-and-fire neuron and its f-I curve
#
# The defaults describe a typical cortical neuron: $\tau = 10$ ms, $R = 10$ MΩ,
# $\theta = 15$ mV above rest, reset to rest and a 2 ms refractory period. Below the
# threshold current $\theta / R = 1.5$ nA the voltage settles under $\theta$ and the
# neuron never fires. Above it, the rate rises steeply at first and then saturates
# towards $1/t_{ref} = 500$ spikes/s.

# %%
plot_lif_fi()

# %%
neuron = LIF()
currents = np.linspace(0.25e-9, 10.25e-9, 21)  # A, 0.25 to 10.25 nA
simulated = fi_curve(neuron, currents, duration=0.5)
theory = fi_curve_theory(neuron, currents)
print("current (nA):", (currents[::5] * 1e9).round(1).tolist())
print("simulated (1/s):", simulated[::5].round(1).tolist())
print("closed form (1/s):", theory[::5].round(1).tolist())
assert np.all(simulated[currents * neuron.R <= neuron.theta] == 0)
above = theory > 0
assert np.allclose(simulated[above], theory[above], rtol=0.02)

# %% [markdown]
# The rate is an increasing, saturating function of the input current. The sigmoid of
# an artificial neuron is a smooth stand-in for this curve.
#
# ## Poisson spike trains
#
# In a Poisson process of rate $\lambda$, spikes fall independently at every instant.
# The intervals between spikes are then exponential with mean $1/\lambda$, and their
# coefficient of variation (standard deviation / mean) is 1. A regular spike train,
# like the LIF's under a constant current, has a CV of 0.

# %%
train = homogeneous_poisson(20.0, 200.0, rng=0)[0]  # 20 spikes/s for 200 s
isi = np.diff(train)
cv = isi.std() / isi.mean()
fig = Figure(figsize=(6, 3))
ax = fig.subplots()
ax.hist(1e3 * isi, bins=60, density=True, alpha=0.6, label="intervals")
grid = np.linspace(0, isi.max(), 200)
ax.plot(1e3 * grid, 20.0 * np.exp(-20.0 * grid) / 1e3, "k", label=r"$\lambda e^{-\lambda t}$")
ax.set(xlabel="inter-spike interval (ms)", ylabel="density (1/ms)")
ax.set_title(f"{train.size} spikes in 200 s, CV = {cv:.3f}")
ax.legend()
fig

# %%
assert abs(train.size / 200.0 - 20.0) < 1.0 and abs(cv - 1.0) < 0.05

# %% [markdown]
# ## Estimating a rate that changes in time
#
# This is the lecture's figure: 30 trials of a Poisson process whose rate
# $\lambda(t) = 25\,(1 + 0.8 \sin 2\pi t)$ is known. From top to bottom, one train and
# its intervals, a raster of all trials, the time histogram with Shimazaki &
# Shinomoto's (2007) optimal bin width, and the Gaussian-kernel estimate with their
# (2010) optimal bandwidth, drawn against the true rate.

# %%
plot_rate_estimates(seed=0, n_trials=30, t_stop=2.0)

# %%
trains = inhomogeneous_poisson(
    demo_rate, 2.0, rate_max=45.0, rng=np.random.default_rng(0), n_trains=30
)
times, rate = instantaneous_rate(trains, 0.001, sigma="auto", t_stop=2.0)  # trial mean
inner = (times > 0.2) & (times < 1.8)  # away from the edges, where the kernel is cut
relative_error = np.sqrt(np.mean((rate[inner] - demo_rate(times[inner])) ** 2)) / 25.0
print(f"optimal bin width {optimal_bin_size(trains, 0.0, 2.0) * 1e3:.0f} ms")
print(f"kernel estimate: RMS error {relative_error:.1%} of the mean rate")
assert relative_error < 0.2

# %% [markdown]
# Thirty trials of two seconds hold about 1,500 spikes. From them the kernel estimate
# recovers the sinusoid to within a few spikes per second. With fewer trials, the
# optimal bandwidth widens and the estimate smooths more.
#
# ## A real recording
#
# A grasshopper's auditory receptor neuron, recorded by Rokem et al. (2006) and
# shipped with the `nitime` package. The same two estimators, with bin width and
# bandwidth chosen from the spikes.

# %%
plot_grasshopper(1)
