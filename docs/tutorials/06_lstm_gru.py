# %% [markdown]
# # 6. The LSTM, its variants and the GRU, gates over time
#
# The LSTM (Hochreiter & Schmidhuber 1997) answers the vanishing gradient of
# [tutorial 5](../05_bptt/) with a *cell state* $c$. The cell state is updated
# additively, and gates decide what enters it, what stays in it and what leaves it:
#
# $$
# \begin{aligned}
# i &= \sigma(W_i x + U_i h + b_i), \quad f = \sigma(W_f x + U_f h + b_f), \quad
# o = \sigma(W_o x + U_o h + b_o), \quad g = \tanh(W_g x + U_g h + b_g) \\
# c_t &= f \odot c_{t-1} + i \odot g, \qquad h_t = o \odot \tanh(c_t)
# \end{aligned}
# $$
#
# The variants the lecture names are each one cell in rnnlab:
#
# | cell | what changes |
# | --- | --- |
# | [`LSTM1997Cell`](../../api/rnnlab/#rnnlab.LSTM1997Cell) | no forget gate: $c_t = c_{t-1} + i \odot g$, the constant error carousel |
# | [`LSTMCell`](../../api/rnnlab/#rnnlab.LSTMCell) | the forget gate (Gers, Schmidhuber & Cummins 2000), as above; PyTorch's `nn.LSTM` |
# | [`PeepholeLSTMCell`](../../api/rnnlab/#rnnlab.PeepholeLSTMCell) | the gates also see the cell state (Gers & Schmidhuber 2000) |
# | [`CIFGLSTMCell`](../../api/rnnlab/#rnnlab.CIFGLSTMCell) | one gate for both: $i = 1 - f$ (coupled input and forget gate) |
# | [`GRUCell`](../../api/rnnlab/#rnnlab.GRUCell) | no cell state: an update gate $z$ mixes old and new, $h_t = (1 - z) \odot n + z \odot h_{t-1}$ (Cho et al. 2014) |
#
# `unroll(cell, xs, trace=True)` returns every gate at every step.
#
# You will see:
#
# - the gates of each cell respond to a pulse of input, and the traced values obey
#   each cell's equations exactly;
# - under a long constant input, the 1997 cell state grows without bound (nothing
#   ever subtracts from it), while with a forget gate it levels off. This is why Gers
#   et al. added the forget gate.

# %%
# %matplotlib inline
import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from matplotlib.figure import Figure

import rnnlab

D, H, T = 1, 8, 80
CELLS = {
    "lstm1997": rnnlab.LSTM1997Cell,
    "lstm": rnnlab.LSTMCell,
    "peephole": rnnlab.PeepholeLSTMCell,
    "cifg": rnnlab.CIFGLSTMCell,
    "gru": rnnlab.GRUCell,
}
cells = {name: cls(D, H, key=jr.key(0)) for name, cls in CELLS.items()}
traced = eqx.filter_jit(lambda cell, xs: rnnlab.unroll(cell, xs, trace=True))

# %% [markdown]
# ## A pulse of input and the gates' answer
#
# The input is 0, then 3 for steps 20 to 39, then 0 again. The weights are random, as
# at initialisation. Each panel shows, unit by unit, the gate that decides what the
# state keeps: the forget gate $f$ of the LSTMs (the 1997 cell has none: its input gate
# $i$ is shown), and the GRU's update gate $z$, its share of the old state.

# %%
xs = jnp.zeros((T, D)).at[20:40].set(3.0)  # (T, D)
traces = {name: traced(cell, xs)[2] for name, cell in cells.items()}  # name -> {gate: (T, H)}
KEEP = {"lstm1997": "i", "lstm": "f", "peephole": "f", "cifg": "f", "gru": "z"}

fig = Figure(figsize=(10, 7))
axes = fig.subplots(len(cells), 1, sharex=True)
for ax, (name, trace) in zip(axes, traces.items(), strict=True):
    ax.plot(np.asarray(trace[KEEP[name]]), lw=1)  # (T, H): one line per unit
    ax.axvspan(20, 40, color="grey", alpha=0.15)
    ax.set_ylabel(f"{name}\n{KEEP[name]}")
    ax.set_ylim(0, 1)
axes[-1].set_xlabel("time step (input on in the grey band)")
fig.suptitle("one gate per cell, each line a unit")
fig.tight_layout()
fig

# %% [markdown]
# When the input switches on, each unit's gate jumps to a new level, some up and some
# down, and it returns when the input stops: at initialisation, what a unit keeps
# depends on the input, through random weights. Training sets these weights so that
# a unit holds on to what the task needs. The CIFG cell has no input gate of its own:
# it writes $1 - f$.
#
# The traces follow each cell's equations: they are recomputed below from the traced
# gates with NumPy and compared with the traced states.


# %%
def previous(a):
    """The value one step earlier, with the zero initial state: (T, H) -> (T, H)."""
    return np.concatenate([np.zeros_like(a[:1]), a[:-1]])


tr = {name: {k: np.asarray(v) for k, v in t.items()} for name, t in traces.items()}
checks = {
    "lstm1997: c = c_prev + i g": tr["lstm1997"]["c"]
    - (previous(tr["lstm1997"]["c"]) + tr["lstm1997"]["i"] * tr["lstm1997"]["g"]),
    "lstm: c = f c_prev + i g": tr["lstm"]["c"]
    - (tr["lstm"]["f"] * previous(tr["lstm"]["c"]) + tr["lstm"]["i"] * tr["lstm"]["g"]),
    "lstm: h = o tanh(c)": tr["lstm"]["h"] - tr["lstm"]["o"] * np.tanh(tr["lstm"]["c"]),
    "cifg: c = f c_prev + (1 - f) g": tr["cifg"]["c"]
    - (tr["cifg"]["f"] * previous(tr["cifg"]["c"]) + (1 - tr["cifg"]["f"]) * tr["cifg"]["g"]),
    "gru: h = (1 - z) n + z h_prev": tr["gru"]["h"]
    - ((1 - tr["gru"]["z"]) * tr["gru"]["n"] + tr["gru"]["z"] * previous(tr["gru"]["h"])),
}
for equation, residual in checks.items():
    print(f"{equation:32s} max residual {np.abs(residual).max():.1e}")
    assert np.abs(residual).max() < 1e-5

# %% [markdown]
# ## A long constant input: why the forget gate
#
# The same cells now read a constant input of 1 for 400 steps.

# %%
long_xs = jnp.ones((400, D))
fig = Figure(figsize=(7, 3.5))
ax = fig.subplots()
final = {}
for name in ("lstm1997", "lstm", "peephole", "cifg"):
    c = np.asarray(traced(cells[name], long_xs)[2]["c"])  # (T, H)
    final[name] = float(np.abs(c[-1]).max())
    ax.plot(np.abs(c).max(1), label=name)
ax.set(xlabel="time step", ylabel=r"$\max_j |c_j|$", title="the cell state under constant input")
ax.legend()
fig

# %%
final

# %% [markdown]
# Without a forget gate, every step adds $i \odot g$ to the cell state, and with a
# constant input that increment has a constant sign: $c$ grows linearly, and $\tanh(c)$
# saturates. Hochreiter & Schmidhuber reset the state by hand between sequences. With
# a forget gate, $c$ settles where what is forgotten balances what is written, at
# about $|i\,g| / (1 - f)$.

# %%
assert final["lstm1997"] > 20 * max(final["lstm"], final["peephole"], final["cifg"])
c97 = np.abs(np.asarray(traced(cells["lstm1997"], long_xs)[2]["c"])).max(1)
assert c97[-1] > 1.8 * c97[199]  # still growing, about linearly
