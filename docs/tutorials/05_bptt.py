# %% [markdown]
# # 5. Back-propagation through time, truncation and the vanishing gradient
#
# Unrolled over $T$ steps, a recurrent network is a $T$-layer feed-forward network
# whose layers all share the same weights. Back-propagation through that unrolled
# graph is BPTT. In rnnlab it is just `jax.grad` of a loss computed with
# [`unroll`](../../api/rnnlab/#rnnlab.unroll.unroll).
#
# The error that a loss at step $T$ sends back to the state $h_t$ is multiplied, at
# every step it crosses, by the Jacobian
# $\partial h_{k+1}/\partial h_k = \mathrm{diag}(\varphi'(a_{k+1}))\, U$. After many
# steps this product shrinks to nothing or blows up, depending on the size of $U$ and
# of the slopes $\varphi'$. This is the vanishing (or exploding) gradient of Hochreiter
# (1991) and Bengio, Simard & Frasconi (1994).
# [`grad_norms_through_time`](../../api/rnnlab/#rnnlab.grad_norms_through_time)
# returns $\|\partial L/\partial h_t\|$ for every $t$.
#
# You will see:
#
# - with the recurrent matrix an orthogonal matrix times a gain $s$, and small inputs
#   (so that $\tanh' \approx 1$), the gradient shrinks or grows by exactly $s$ per step
#   back in time;
# - at their usual random initialisation, an Elman net, a GRU and a forget-gate LSTM
#   lose the error within a few dozen steps. The 1997 LSTM's constant error carousel
#   and the MTRNN's slow units carry it much further back;
# - with `truncate=k`, nothing flows further back than $k$ steps: the gradients there
#   are exactly zero.

# %%
# %matplotlib inline
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from matplotlib.figure import Figure

import rnnlab

T, D, H = 120, 4, 32
# Compiled once per cell structure: cells of one family with other weights reuse it.
grad_norms = eqx.filter_jit(rnnlab.grad_norms_through_time)

# %% [markdown]
# ## BPTT is `jax.grad` through `unroll`
#
# Differentiating a loss at the last step with respect to the recurrent weights gives
# the BPTT gradient. A central finite difference on one weight agrees with it.

# %%
cell = rnnlab.ElmanCell(D, H, key=jr.key(0))
xs = jr.normal(jr.key(1), (30, D))


@eqx.filter_jit
def last_step_loss(cell):
    ys, _ = rnnlab.unroll(cell, xs)
    return jnp.sum(ys[-1] ** 2)


grad = eqx.filter_jit(jax.grad(last_step_loss))(cell).weight_hh  # (H, H)
eps = 1e-3
bump = jnp.zeros((H, H)).at[3, 5].set(eps)
plus = eqx.tree_at(lambda c: c.weight_hh, cell, cell.weight_hh + bump)
minus = eqx.tree_at(lambda c: c.weight_hh, cell, cell.weight_hh - bump)
finite_difference = (last_step_loss(plus) - last_step_loss(minus)) / (2 * eps)
print(
    f"dL/dU[3, 5]: BPTT {float(grad[3, 5]):.5f}, finite difference {float(finite_difference):.5f}"
)
assert abs(float(grad[3, 5]) - float(finite_difference)) < 1e-2 * max(1.0, abs(float(grad[3, 5])))

# %% [markdown]
# ## The gain of the recurrent matrix decides
#
# For this experiment the recurrent matrix is $U = s\,Q$, with $Q$ orthogonal, so
# that $\|U^\top v\| = s\,\|v\|$ for every vector $v$. The inputs are tiny and the
# biases zero, which keeps every $\tanh'$ close to 1. The predicted norm is then
# $s^{T-1-t}$ times the norm at the last step.

# %%
Q = jnp.linalg.qr(jr.normal(jr.key(2), (H, H)))[0]  # orthogonal, (H, H)
small_xs = 1e-5 * jr.normal(jr.key(3), (T, D))
gains = (0.8, 0.95, 1.0, 1.05)
steps_back = np.arange(T)[::-1]  # T-1-t
fig = Figure(figsize=(6, 3.5))
ax = fig.subplots()
measured_decay = {}
for s in gains:
    linear = rnnlab.ElmanCell(D, H, use_bias=False, key=jr.key(0))
    linear = eqx.tree_at(lambda c: c.weight_hh, linear, s * Q)
    norms = np.asarray(grad_norms(linear, small_xs))  # (T,)
    measured_decay[s] = float(np.exp(np.mean(np.diff(np.log(norms)))))  # per step forward
    ax.semilogy(steps_back, norms / norms[-1], label=f"gain s = {s}")
    ax.semilogy(steps_back, float(s) ** steps_back, "k:", lw=0.8)
ax.set(xlabel="steps back from the loss", ylabel=r"$\|\partial L/\partial h_t\|$ (relative)")
ax.set_title("measured (colour) and $s^{T-1-t}$ (dotted)")
ax.legend()
fig

# %%
for s in gains:
    print(f"gain {s}: the gradient is multiplied by {1 / measured_decay[s]:.4f} per step back")
    assert abs(1 / measured_decay[s] - s) < 0.005

# %% [markdown]
# Below a gain of 1 the gradient vanishes geometrically, above 1 it explodes, and at
# exactly 1 (an orthogonal matrix) it keeps its size. With ordinary inputs the
# $\tanh'$ factors are below 1 and make the vanishing worse.
#
# ## The cells at their usual initialisation
#
# The same picture for each cell family, as rnnlab initialises it (the weights
# uniform in $\pm 1/\sqrt{H}$, as in PyTorch), on random inputs of unit size.

# %%
xs = jr.normal(jr.key(1), (T, D))
reach = {}
fig = Figure(figsize=(7, 3.8))
ax = fig.subplots()
for name in ("elman", "gru", "lstm", "lstm1997", "mtrnn"):
    family_cell = rnnlab.make_cell(name, D, H, key=jr.key(0))
    norms = np.asarray(grad_norms(family_cell, xs))
    reach[name] = int((norms >= 1e-6 * norms[-1]).sum())  # steps within 6 decades
    ax.semilogy(steps_back, norms, label=name)
lstm = rnnlab.make_cell("lstm", D, H, key=jr.key(0))
cut = np.asarray(grad_norms(lstm, xs, truncate=20))
ax.semilogy(steps_back, cut + 1e-30, "k:", label="lstm, truncate=20")
ax.set(
    xlabel="steps back from the loss", ylabel=r"$\|\partial L/\partial h_t\|$", ylim=(1e-14, 1e2)
)
ax.legend(fontsize=8)
fig

# %%
reach

# %% [markdown]
# The Elman net, the GRU and the standard LSTM lose six orders of magnitude within a
# few dozen steps. The forget-gate LSTM is no exception at initialisation: its forget
# gates start near $\sigma(0) = 1/2$, so its cell state halves at every step. The 1997
# LSTM has no forget gate: its cell state is carried with weight exactly 1 (the
# "constant error carousel"), and its error survives the whole sequence. The MTRNN's
# slow units (time constant 70) decay by only $1 - 1/70$ per step. The dotted line
# shows truncation at 20 steps: beyond it, the gradient is exactly zero.

# %%
assert reach["lstm1997"] == T and reach["mtrnn"] == T
assert max(reach["elman"], reach["gru"], reach["lstm"]) < T // 2
assert np.all(cut[: T - 20] == 0) and np.all(cut[T - 20 :] > 0)
