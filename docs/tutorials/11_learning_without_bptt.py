# %% [markdown]
# # 11. Learning without back-propagation through time
#
# BPTT stores the whole sequence and runs backwards over it. That is impossible for
# a network that must learn while it runs, on a stream without end, and implausible
# for a brain. *Online* learners carry forward, alongside the state, what they need
# to form the gradient as time advances:
#
# | learner | carries | memory | gradient |
# | --- | --- | --- | --- |
# | RTRL (Williams & Zipser 1989) | the influence matrix $\partial h_t / \partial \theta$ | $O(n\,p)$ | exact |
# | UORO (Tallec & Ollivier 2017) | a random rank-one estimate of it | $O(n + p)$ | unbiased, noisy |
# | SnAp-1 (Menick et al. 2021) | its entries on the units each parameter writes to | $O(p)$ | biased |
# | e-prop (Bellec et al. 2020) | one eligibility trace per synapse | $O(p)$ | biased |
# | truncated BPTT ($k$) | the last $k$ steps | $O(k\,n)$ | biased |
#
# Here $n$ is the number of state units and $p$ the number of parameters. In rnnlab
# each learner is a function `learner(model, xs, loss_fn, carry) -> (grads, carry,
# loss)`; see [`rnnlab.learn`](../../api/learn/).
#
# You will see, on one LSTM and one sequence:
#
# - RTRL's gradient equals BPTT's to float precision, only computed forwards;
# - SnAp-1, e-prop and truncated BPTT point almost the same way on this short task;
# - one UORO sample is a poor guess, but the average of many converges on the true
#   gradient: the estimate is unbiased.

# %%
# %matplotlib inline
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jax.flatten_util import ravel_pytree
from matplotlib.figure import Figure

import rnnlab
from rnnlab.learn import EProp, Network, SnAp, bptt, rtrl, uoro

# %% [markdown]
# ## One network, one sequence, the exact gradient
#
# An LSTM with 6 units and a linear readout, trained to output a sine wave from random
# inputs over 20 steps; the loss is the mean squared error over all steps. The
# readout's gradient is exact under every learner, so the comparison is made on the
# cell's parameters.

# %%
net = Network(rnnlab.LSTMCell(2, 6, key=jr.key(0)), out_size=1, key=jr.key(1))
xs = jr.normal(jr.key(2), (20, 2))  # (T, D)
targets = jnp.sin(jnp.arange(20.0) / 3)[:, None]  # (T, 1)


def loss_fn(outs):
    return jnp.mean((outs - targets) ** 2)


def cell_vector(grads):
    """The cell's part of a gradient, as one vector (p,)."""
    return ravel_pytree(eqx.filter(grads.cell, eqx.is_inexact_array))[0]


def cosine(a, b):
    return float(a @ b / (jnp.linalg.norm(a) * jnp.linalg.norm(b)))


@eqx.filter_jit
def estimates(net, xs, snap, eprop):
    return {
        "BPTT (exact)": cell_vector(bptt(net, xs, loss_fn)[0]),
        "RTRL": cell_vector(rtrl(net, xs, loss_fn)[0]),
        "truncated BPTT, k=5": cell_vector(bptt(net, xs, loss_fn, truncate=5)[0]),
        "SnAp-1": cell_vector(snap(net, xs, loss_fn)[0]),
        "e-prop": cell_vector(eprop(net, xs, loss_fn)[0]),
    }


# SnAp and e-prop find their sparsity patterns from the model once, outside jit
grads = estimates(net, xs, SnAp(net, 1), EProp(net, "symmetric"))
true = grads["BPTT (exact)"]
print(f"{true.size} cell parameters")
print(f"max |RTRL - BPTT| = {float(jnp.abs(grads['RTRL'] - true).max()):.1e}")
assert jnp.allclose(grads["RTRL"], true, atol=1e-6)

# %% [markdown]
# ## UORO: unbiased, noisy
#
# UORO draws random signs at every step. Each draw gives a different estimate, and
# their mean is the true gradient. Below, 32 draws are run at once with `jax.vmap`.

# %%
keys = jr.split(jr.key(3), 32)
samples = eqx.filter_jit(jax.vmap(lambda k: cell_vector(uoro(net, xs, loss_fn, key=k)[0])))(keys)
counts = np.array([1, 2, 4, 8, 16, 32])
mean_cosines = [cosine(samples[:n].mean(0), true) for n in counts]
grads["UORO, 1 draw"] = samples[0]
grads["UORO, mean of 32"] = samples.mean(0)

fig = Figure(figsize=(10, 3.5))
ax_bar, ax_uoro = fig.subplots(1, 2, width_ratios=(3, 2))
names = [n for n in grads if n != "BPTT (exact)"]
ax_bar.barh(names, [cosine(grads[n], true) for n in names])
ax_bar.set(xlim=(0, 1.02), xlabel="cosine with the BPTT gradient")
ax_bar.invert_yaxis()
ax_uoro.semilogx(counts, mean_cosines, "o-", base=2)
ax_uoro.set(xlabel="UORO draws averaged", ylabel="cosine with BPTT", ylim=(0, 1.02))
fig.tight_layout()
fig

# %%
{name: round(cosine(g, true), 3) for name, g in grads.items()}

# %% [markdown]
# RTRL is exact. The three cheap, biased learners point almost the same way as BPTT
# here (the cosines printed above), because in this task the error at each step depends mostly on the
# last few inputs, and they drop only the long paths back in time. Tasks with long
# dependencies separate them (the evidence-accumulation task of
# [`rnnlab.learn`](../../api/learn/) is one). A single UORO draw is only loosely aligned
# with the gradient; averaging draws brings it closer, at the rate of an unbiased
# estimate whose noise falls as $1/\sqrt{N}$. In online training, the many steps of
# stochastic gradient descent do this averaging.

# %%
for name in ("SnAp-1", "e-prop", "truncated BPTT, k=5"):
    assert cosine(grads[name], true) > 0.9, name
assert cosine(grads["UORO, mean of 32"], true) > max(0.8, cosine(grads["UORO, 1 draw"], true))
