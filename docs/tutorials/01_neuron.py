# %% [markdown]
# # 1. The neuron, its activations, Hebb and Oja
#
# An artificial neuron takes a weighted sum of its inputs plus a bias, its *net input*
# $a = w \cdot x + b$, and passes it through an activation function: $y = \varphi(a)$.
# This tutorial looks at four choices of $\varphi$ and at their derivatives, which
# decide how well gradients flow through a network. It then shows what one neuron can
# and cannot compute, and what two local learning rules make of it: Hebb's rule grows
# the weights without bound, while Oja's rule finds the first principal component.
#
# You will see:
#
# - the derivative of the sigmoid is at most $1/4$ and that of tanh at most 1. A
#   gradient that passes through many sigmoids shrinks at least 4 times per layer,
#   which is the root of the vanishing gradient of [tutorial 5](../05_bptt/);
# - the perceptron rule stops making mistakes on two separable clouds, but it keeps
#   making them on XOR, which no single neuron can compute;
# - under Hebb's rule the weight norm explodes, while under Oja's rule it settles at 1,
#   along the direction of largest variance of the data.
#
# API: [`rnnlab.neuron`](../../api/neuron/), in particular
# [`Neuron`](../../api/neuron/#rnnlab.neuron.Neuron),
# [`train_perceptron`](../../api/neuron/#rnnlab.neuron.train_perceptron),
# [`train_hebb`](../../api/neuron/#rnnlab.neuron.train_hebb) and
# [`train_oja`](../../api/neuron/#rnnlab.neuron.train_oja).

# %%
# %matplotlib inline
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from matplotlib.figure import Figure

from rnnlab.neuron import (
    ACTIVATIONS,
    Neuron,
    gaussian_blobs,
    train_hebb,
    train_oja,
    train_perceptron,
    xor,
)

# %% [markdown]
# ## Activations and their derivatives
#
# `jax.grad` gives each derivative. The threshold $H(a)$, the unit of McCulloch & Pitts
# and of Rosenblatt's perceptron, has derivative zero everywhere except at 0, so no
# gradient could train through it. rnnlab's `threshold` keeps the exact step going
# forward and uses a *surrogate* going backward: the derivative of a sigmoid, drawn
# dashed below.

# %%
a = jnp.linspace(-4.0, 4.0, 401)
fig = Figure(figsize=(9, 3.2))
ax_f, ax_d = fig.subplots(1, 2)
slopes = {}
for name, phi in ACTIVATIONS.items():
    y = phi(a)
    dy = jax.jit(jax.vmap(jax.grad(phi)))(a)  # one compiled program, not op by op
    slopes[name] = float(dy.max())
    ax_f.plot(a, y, label=name)
    ax_d.plot(a, dy, "--" if name == "threshold" else "-", label=name)
ax_f.set(title=r"$\varphi(a)$", xlabel="net input $a$")
ax_d.set(title=r"$\varphi'(a)$ (threshold: surrogate)", xlabel="net input $a$")
ax_f.legend()
fig.tight_layout()
fig

# %%
{name: round(s, 3) for name, s in slopes.items()}

# %% [markdown]
# The sigmoid's slope peaks at $\sigma'(0) = 1/4$, and tanh's at $\tanh'(0) = 1$. ReLU's
# slope is 1 wherever the unit is active and 0 elsewhere. Whenever back-propagation
# multiplies such slopes along a path, the sigmoid's factor of at most 1/4 takes its
# toll.

# %%
assert abs(slopes["sigmoid"] - 0.25) < 1e-3 and abs(slopes["tanh"] - 1.0) < 1e-3

# %% [markdown]
# ## One neuron as a logic gate, and where it fails
#
# With weights $(1, 1)$, a threshold neuron computes AND when $b = -1.5$ and OR when
# $b = -0.5$: its decision boundary is the line $w \cdot x + b = 0$. The perceptron
# rule, $w \leftarrow w + \eta (t - y) x$, finds such a line whenever one exists
# (Novikoff's convergence theorem). XOR needs two lines, so the rule keeps making
# mistakes on it forever.

# %%
inputs = jnp.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
and_gate = Neuron(jnp.array([1.0, 1.0]), -1.5, activation="threshold")
or_gate = Neuron(jnp.array([1.0, 1.0]), -0.5, activation="threshold")
print("AND", jax.vmap(and_gate)(inputs).tolist(), " OR", jax.vmap(or_gate)(inputs).tolist())

X_blobs, t_blobs = gaussian_blobs(200, noise=0.15, seed=0)
X_xor, t_xor = xor(200, seed=0)
_, mistakes_blobs = train_perceptron(X_blobs, t_blobs, max_epochs=30, key=jr.key(0))
_, mistakes_xor = train_perceptron(X_xor, t_xor, max_epochs=30, key=jr.key(0))

fig = Figure(figsize=(5, 3))
ax = fig.subplots()
ax.plot(np.arange(1, len(mistakes_blobs) + 1), mistakes_blobs, "o-", label="two blobs")
ax.plot(np.arange(1, len(mistakes_xor) + 1), mistakes_xor, label="XOR")
ax.set(xlabel="epoch", ylabel="mistakes in the epoch", title="the perceptron rule")
ax.legend()
fig

# %% [markdown]
# On the blobs the mistakes reach zero within a few epochs and training stops. On XOR
# they never do: about half of the points stay on the wrong side of any line.

# %%
assert mistakes_blobs[-1] == 0 and len(mistakes_blobs) < 30
assert mistakes_xor.min() > 20

# %% [markdown]
# ## Hebb and Oja: a linear neuron learns from correlations alone
#
# Hebb's rule strengthens a weight whenever its input and the output are active
# together: $y = w \cdot x$, $w \leftarrow w + \eta\, y\, x$. On average this step is
# $\eta\, C w$, with $C$ the data's covariance matrix, so $w$ turns towards $C$'s
# leading eigenvector, the first principal component, **and** grows like
# $(1 + \eta \lambda_1)^{\text{steps}}$. Oja's rule adds a decay that keeps
# $\|w\| = 1$: $w \leftarrow w + \eta\, y\,(x - y\, w)$.
#
# Both rules below see the same centred, correlated 2-D cloud in the same order.

# %%
rng = np.random.default_rng(0)
angle = np.deg2rad(30.0)
R = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
X = (rng.normal(size=(500, 2)) * [1.5, 0.4]) @ R.T  # (N, 2), long axis at 30 degrees
X = (X - X.mean(0)).astype(np.float32)
eigenvalues, eigenvectors = np.linalg.eigh(np.cov(X.T))
pc1 = eigenvectors[:, -1]  # the first principal component, from NumPy

w0 = jnp.array([0.1, 0.5])
w_hebb, hist_hebb = train_hebb(X, eta=0.002, epochs=10, key=jr.key(1), w0=w0)
w_oja, hist_oja = train_oja(X, eta=0.002, epochs=10, key=jr.key(1), w0=w0)

fig = Figure(figsize=(9, 3.6))
ax_data, ax_norm = fig.subplots(1, 2)
ax_data.scatter(X[:, 0], X[:, 1], s=4, alpha=0.4, color="grey")
for w, label, colour in ((w_oja, "Oja", "C1"), (pc1, "PC1 (NumPy)", "k")):
    w = np.asarray(w) / np.linalg.norm(w) * 2.5
    ax_data.plot([-w[0], w[0]], [-w[1], w[1]], color=colour, label=label)
ax_data.set(aspect="equal", title="data, Oja's w and the first PC")
ax_data.legend()
epochs = np.arange(len(hist_hebb))
ax_norm.semilogy(epochs, np.linalg.norm(hist_hebb, axis=1), "o-", label="Hebb")
ax_norm.semilogy(epochs, np.linalg.norm(hist_oja, axis=1), "o-", label="Oja")
ax_norm.set(xlabel="epoch", ylabel=r"$\|w\|$", title="weight norm")
ax_norm.legend()
fig.tight_layout()
fig

# %% [markdown]
# Oja's weight lies on the first principal component that NumPy computes from the
# covariance matrix, and its norm is 1. Hebb's weight points the same way, but its
# norm has grown by orders of magnitude in ten passes, and it keeps growing.

# %%
cos_oja = abs(float(np.dot(w_oja, pc1) / np.linalg.norm(w_oja)))
cos_hebb = abs(float(np.dot(w_hebb, pc1) / np.linalg.norm(w_hebb)))
print(f"|cos(w, PC1)|: Oja {cos_oja:.4f}, Hebb {cos_hebb:.4f}")
print(f"||w|| after 10 epochs: Oja {np.linalg.norm(w_oja):.3f}, Hebb {np.linalg.norm(w_hebb):.3g}")
assert cos_oja > 0.999 and abs(np.linalg.norm(w_oja) - 1.0) < 0.05
assert np.linalg.norm(w_hebb) > 100 * np.linalg.norm(w0)
