"""Vanishing gradients made visible: ||dL/dh(t)|| for a loss at the last step.

At initialisation an Elman network, a GRU and a forget-gate LSTM (whose forget
gates start near 0.5) all lose the error within a few dozen steps; the 1997 LSTM's
constant error carousel (c = c + i*g) and the MTRNN's slow units (tau = 70) carry
it across the whole sequence. With truncation (k = 20) nothing flows past k steps.

    python examples/vanishing_gradients.py [out.png]
"""

import sys

import jax
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import rnnlab  # noqa: E402

T, D, H = 150, 4, 32
xs = jax.random.normal(jax.random.key(1), (T, D))
fig, ax = plt.subplots(figsize=(7, 3.5), dpi=100)
for name in ("elman", "gru", "lstm", "lstm1997", "mtrnn"):
    cell = rnnlab.make_cell(name, D, H, key=jax.random.key(0))
    norms = rnnlab.grad_norms_through_time(cell, xs)
    ax.semilogy(range(T), norms, label=name)
    reach = int((norms >= 1e-6 * norms[-1]).sum())  # steps back within 6 decades
    print(f"{name:9s} the error reaches {reach:3d} of {T} steps back (within 1e-6)")
cut = rnnlab.grad_norms_through_time(
    rnnlab.make_cell("lstm", D, H, key=jax.random.key(0)), xs, truncate=20
)
ax.semilogy(range(T), cut + 1e-30, "k:", label="lstm, truncate=20")
ax.set_xlabel("time step t")
ax.set_ylabel("||dL/dh(t)||, loss at the last step")
ax.set_ylim(1e-12, 1e2)
ax.legend(fontsize=8)
fig.tight_layout()
out = sys.argv[1] if len(sys.argv) > 1 else "vanishing_gradients.png"
fig.savefig(out)
print(f"wrote {out}")
