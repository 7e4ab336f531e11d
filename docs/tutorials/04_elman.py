# %% [markdown]
# # 4. Elman's network and the temporal XOR
#
# Elman's simple recurrent network (1990, *Finding structure in time*) adds *context
# units* to a feed-forward net. At every step they hold a copy of the previous hidden
# state, so the hidden layer sees both the input and its own past:
# $h_t = \tanh(W x_t + U h_{t-1} + b)$. In rnnlab this one step is
# [`ElmanCell`](../../api/rnnlab/#rnnlab.ElmanCell), and
# [`unroll`](../../api/rnnlab/#rnnlab.unroll.unroll) runs it over a sequence.
#
# Elman's first experiment is the **temporal XOR**. The input is a stream of bits in
# triples: two random bits, then their XOR (`1 0 1  0 0 0  1 1 0 ...`). The net must
# predict the next bit. Only the third bit of each triple can be predicted; the other
# two are coin flips.
#
# Elman trained with a one-step gradient: the context was treated as an extra input,
# and no error flowed back into earlier steps. In rnnlab this is `truncate=1`.
# Back-propagation through time (BPTT) is the full gradient.
#
# You will see:
#
# - after training, the error drops every third bit and stays near chance (0.5) on
#   the others: the sawtooth of Elman's Figure 3;
# - with full BPTT this 8-unit net predicts the XOR bit almost perfectly. With
#   Elman's one-step training, with the same seed and budget, it gets only part of the
#   way: its context units hold whatever an untrained-through-time recurrence happens
#   to keep.

# %%
# %matplotlib inline
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
from matplotlib.figure import Figure

import rnnlab

# %% [markdown]
# ## The data
#
# 3,000 training bits, as in Elman's paper, cut into 100 rows of 30 bits. Each row
# starts at a triple and from a zero state. The target of each step is the next bit.
# A separate test stream of 1,200 bits is read in one piece.


# %%
def xor_stream(n_bits, rng):
    ab = rng.integers(0, 2, size=(n_bits // 3, 2))  # two random bits per triple
    return np.column_stack([ab, ab[:, 0] ^ ab[:, 1]]).reshape(-1)  # (n_bits,)


rng = np.random.default_rng(0)
train_bits, test_bits = xor_stream(3003, rng), xor_stream(1203, rng)
X = jnp.asarray(train_bits[:3000].reshape(100, 30, 1), jnp.float32)  # (B, T, 1)
Y = jnp.asarray(train_bits[1:3001].reshape(100, 30), jnp.float32)  # next bits, (B, T)
x_test = jnp.asarray(test_bits[:1200, None], jnp.float32)  # (T, 1)
y_test = test_bits[1:1201]  # (T,)
print("first bits:", train_bits[:12])

# %% [markdown]
# ## The network and its training
#
# An `ElmanCell` with 8 hidden units and one logistic output unit that gives
# $p(\text{next bit} = 1)$. The cross-entropy is summed over every step. The only
# difference between the two runs is `truncate`, passed to `unroll`.


# %%
class ElmanNet(eqx.Module):
    cell: rnnlab.ElmanCell
    readout: eqx.nn.Linear

    def __init__(self, hidden, *, key):
        k_cell, k_out = jr.split(key)
        self.cell = rnnlab.ElmanCell(1, hidden, key=k_cell)
        self.readout = eqx.nn.Linear(hidden, 1, key=k_out)

    def __call__(self, xs, truncate=None):
        hs, _ = rnnlab.unroll(self.cell, xs, truncate=truncate)  # (..., T, H)
        return (hs @ self.readout.weight.T + self.readout.bias)[..., 0]  # logits (..., T)


def train(truncate, *, steps=600, seed=1):
    """600 full-batch Adam steps (Elman: 600 passes over the 3,000 bits)."""
    net, opt = ElmanNet(8, key=jr.key(seed)), optax.adam(0.05)

    def loss(net):
        return optax.sigmoid_binary_cross_entropy(net(X, truncate), Y).mean()

    @jax.jit
    def run(net):
        def step(carry, _):
            net, state = carry
            value, grads = eqx.filter_value_and_grad(loss)(net)
            updates, state = opt.update(grads, state, net)
            return (eqx.apply_updates(net, updates), state), value

        (net, _), losses = jax.lax.scan(step, (net, opt.init(net)), length=steps)
        return net, losses

    return run(net)


nets = {"full BPTT": train(None), "one step (truncate=1)": train(1)}

# %% [markdown]
# ## The error, bit by bit
#
# On the test stream, the error of each prediction is $|y - p|$. Averaged by position
# within the triple, the third bit (the XOR) stands apart from the other two.

# %%
phase = (np.arange(1200) + 1) % 3  # the position of each target within its triple
errors = {}
fig = Figure(figsize=(10, 3.2))
ax_t, ax_p = fig.subplots(1, 2, width_ratios=(2, 1))
for k, (name, (net, _)) in enumerate(nets.items()):
    p = np.asarray(jax.nn.sigmoid(net(x_test)))  # p(next bit = 1), (T,)
    err = np.abs(y_test - p)
    errors[name] = np.array([err[phase == j].mean() for j in range(3)])
    ax_t.plot(np.arange(1, 13), err[:12], "o-", label=name)
    ax_p.bar(np.arange(3) + 0.4 * k - 0.2, errors[name], width=0.4, label=name)
ax_t.axhline(0.5, color="grey", ls=":")
ax_t.set(xlabel="test step", ylabel="|target - p|", title="the first 12 test predictions")
ax_p.axhline(0.5, color="grey", ls=":")
ax_p.set(
    xticks=range(3),
    xticklabels=["bit 1", "bit 2", "bit 3 (XOR)"],
    ylabel="mean |target - p|",
    title="by position in the triple",
)
ax_t.legend()
fig.tight_layout()
fig

# %%
{name: e.round(3).tolist() for name, e in errors.items()}

# %% [markdown]
# The first two bits of each triple stay at chance for both runs, as they must.
# With full BPTT the XOR bit is predicted almost exactly. One-step training brings its
# error down only partly. The gradient of one-step training never tells $U$ how to
# keep the first bit of the triple for two steps; it only learns to read the context
# as it is. Elman's own 2-unit network, trained his way, showed this partial dip:
# see [Papers, reproduced](../../guide/papers/).

# %%
full, one_step = errors["full BPTT"], errors["one step (truncate=1)"]
assert np.all(np.abs(full[:2] - 0.5) < 0.05) and np.all(np.abs(one_step[:2] - 0.5) < 0.05)
assert full[2] < 0.05 and full[2] < one_step[2] < 0.45
