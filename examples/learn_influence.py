"""The README figure of "Learning without BPTT": what RTRL, SnAp-1 and e-prop keep.

Left: |dh_t/dU| of a dense Elman net (8 units) after 20 steps, exact RTRL's influence
matrix restricted to the recurrent weights (rows: units; columns: the 64 weights U_kj).
Middle: the entries SnAp-1 keeps of it (each weight's own unit). Right: e-prop's
eligibility traces of three input synapses of an ALIF neuron over time, with its spikes.

python examples/learn_influence.py [out.png]
"""

import sys

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import rnnlab  # noqa: E402
from rnnlab import learn  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else "docs/learn/influence.png"
H, D, T = 8, 3, 20
cell = rnnlab.ElmanCell(D, H, key=jax.random.key(0))
xs = jax.random.normal(jax.random.key(1), (T, D))
loss = lambda ys: jnp.sum(ys**2)
_, carry, _ = learn.rtrl(cell, xs, loss)
U = slice(H * D, H * D + H * H)  # weight_hh's columns among the flat parameters
J = np.abs(np.asarray(carry.trace)[:, U])  # (H, H*H)
snap1 = learn.SnAp(cell, 1)
kept = np.zeros_like(J, bool)
idx, ok = np.asarray(snap1.idx)[U, 0], np.asarray(snap1.ok)[U, 0]
kept[idx[ok], np.arange(H * H)[ok]] = True

alif = rnnlab.ALIFCell(4, 1, tau=5.0, tau_adaptation=30.0, beta=1.0, key=jax.random.key(2))
alif = jax.tree_util.tree_map(lambda a: jnp.abs(a) * 0.8, alif)
spikes_in = (jax.random.uniform(jax.random.key(3), (120, 4)) < 0.25).astype(jnp.float32)
eprop = learn.EProp(alif)
step = jax.jit(lambda c, x: eprop(alif, x, jnp.sum, c)[1])
traces, carry_e = [], eprop.init(alif)
for t in range(120):  # one step per chunk, to record the trace at every step
    carry_e = step(carry_e, spikes_in[t : t + 1])
    traces.append(np.asarray(carry_e.trace)[:3])  # weight_ih[0, 0..2]: (3, r)
traces = np.array(traces)  # (T, 3, r): rows v, z, a of the unit
zs = np.asarray(rnnlab.unroll(alif, spikes_in)[0])[:, 0]

fig, ax = plt.subplots(1, 3, figsize=(13, 3.2), gridspec_kw={"width_ratios": [2, 2, 2.2]})
ax[0].imshow(J, aspect="auto", cmap="viridis")
ax[0].set(title="RTRL: |dh/dU| (n x n^2, all kept)", xlabel="weight U_kj", ylabel="unit")
ax[1].imshow(np.where(kept, J, np.nan), aspect="auto", cmap="viridis")
ax[1].set(title="SnAp-1 keeps dh_k/dU_kj", xlabel="weight U_kj")
for j in range(3):
    ax[2].plot(traces[:, j, 0], label=f"eps_v, input {j}")
ax[2].plot(traces[:, 0, 2], "k--", label="eps_a, input 0")
ax[2].vlines(np.flatnonzero(zs > 0), -0.5, -0.2, color="r", label="spikes")
ax[2].set(title="e-prop: ALIF eligibility vector", xlabel="step")
ax[2].legend(fontsize=7, ncol=2)
fig.tight_layout()
fig.savefig(out, dpi=110)
print(out)
