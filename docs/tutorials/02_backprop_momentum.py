# %% [markdown]
# # 2. Back-propagation and momentum
#
# A multilayer perceptron computes $h = \varphi(W_1 x + b_1)$, then $z = W_2 h + b_2$.
# Back-propagation is the chain rule, applied from the loss back to every weight. The
# error at the output, $\delta_2 = \partial L / \partial z$, is sent back through
# $W_2^\top$ and multiplied by the slope of the activation:
# $\delta_1 = (W_2^\top \delta_2) \odot \varphi'(a_1)$. Each weight's gradient is then its
# layer's $\delta$ times that layer's input.
#
# Gradient descent takes steps against that gradient. On a long, narrow valley it
# zig-zags across the valley and crawls along it. Momentum ("heavy ball") accumulates
# the steps: $z \leftarrow \beta z + \nabla f(w)$, $w \leftarrow w - \alpha z$. Gabriel
# Goh's Distill article, *Why Momentum Really Works* (2017), works out on a quadratic
# which step $\alpha$ and momentum $\beta$ are best, and how much faster they are.
#
# You will see:
#
# - back-propagation written out by hand gives exactly the gradient that `jax.grad`
#   computes;
# - on the same network and data, momentum brings the loss down much faster than plain
#   gradient descent at the same step size;
# - on a quadratic with condition number $\kappa = 100$, the best gradient descent
#   shrinks the error by $(\kappa-1)/(\kappa+1) = 0.980$ per step, while the best
#   momentum shrinks it by $(\sqrt\kappa-1)/(\sqrt\kappa+1) = 0.818$. The measured rates
#   match these predictions, and a map of the rate over $(\alpha, \beta)$ puts its
#   minimum at Goh's optimum.
#
# API: [`MLP`](../../api/neuron/#rnnlab.neuron.MLP),
# [`train_mlp`](../../api/neuron/#rnnlab.neuron.train_mlp),
# [`optimal_momentum`](../../api/neuron/#rnnlab.neuron.optimal_momentum),
# [`heavy_ball`](../../api/neuron/#rnnlab.neuron.heavy_ball),
# [`plot_momentum`](../../api/neuron/#rnnlab.neuron.plot_momentum).

# %%
# %matplotlib inline
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from matplotlib.figure import Figure

from rnnlab.neuron import (
    MLP,
    circles,
    convergence_rate,
    heavy_ball,
    optimal_gd,
    optimal_momentum,
    plot_decision_boundary,
    plot_momentum,
    quadratic,
    train_mlp,
)

# %% [markdown]
# ## Back-propagation by hand
#
# A network with one hidden layer of tanh units, one output and the squared-error loss
# $L = \frac12 (z - t)^2$. Below, the backward pass is written out line by line and
# compared with `jax.grad` of the forward pass.

# %%
k1, k2, k3 = jr.split(jr.key(0), 3)
W1, b1 = jr.normal(k1, (5, 2)), jnp.zeros(5)  # (H, D), (H,)
W2, b2 = jr.normal(k2, (1, 5)), jnp.zeros(1)  # (1, H), (1,)
x, t = jr.normal(k3, (2,)), 0.5


def loss(params, x, t):
    W1, b1, W2, b2 = params
    h = jnp.tanh(W1 @ x + b1)  # (H,)
    z = W2 @ h + b2  # (1,)
    return 0.5 * jnp.sum((z - t) ** 2)


@jax.jit
def backprop(params, x, t):
    W1, b1, W2, b2 = params
    h = jnp.tanh(W1 @ x + b1)  # forward, (H,)
    z = W2 @ h + b2  # (1,)
    delta2 = z - t  # dL/dz, (1,)
    delta1 = (W2.T @ delta2) * (1 - h**2)  # dL/da1 = W2^T delta2 * tanh'(a1), (H,)
    return jnp.outer(delta1, x), delta1, jnp.outer(delta2, h), delta2


by_hand = backprop((W1, b1, W2, b2), x, t)
by_jax = jax.jit(jax.grad(loss))((W1, b1, W2, b2), x, t)
for name, mine, theirs in zip(("dW1", "db1", "dW2", "db2"), by_hand, by_jax, strict=True):
    print(f"{name}: max |by hand - jax.grad| = {float(jnp.abs(mine - theirs).max()):.1e}")
    assert jnp.allclose(mine, theirs, atol=1e-6)

# %% [markdown]
# ## Gradient descent against momentum on a small classifier
#
# The same MLP (2-16-1, tanh), trained on two concentric circles once with plain
# gradient descent and once with momentum $\beta = 0.9$, both with step
# $\alpha = 0.1$ and the full batch.

# %%
X, y = circles(200, noise=0.05, seed=0)
net = MLP((2, 16, 1), "tanh", key=jr.key(1))
runs = {
    name: train_mlp(net, X, y, optimizer=name, learning_rate=0.1, epochs=300, key=jr.key(2))
    for name in ("sgd", "momentum")
}
fig = Figure(figsize=(5, 3))
ax = fig.subplots()
for name, (_, history) in runs.items():
    ax.semilogy(history.loss, label=f"{name}: accuracy {history.accuracy[-1]:.2f}")
ax.set(xlabel="epoch (one step)", ylabel="training loss", title="same net, same step size")
ax.legend()
fig

# %%
plot_decision_boundary(runs["momentum"][0], X, y, title="the MLP trained with momentum")

# %% [markdown]
# With momentum the loss falls steeply and the net separates the circles. Plain
# gradient descent, at the same step size, has barely left its starting plateau after
# the same number of steps. Near $\beta = 0.9$, momentum's steps add up to roughly
# $1/(1-\beta) = 10$ times the plain step along directions where the gradient keeps
# its sign.

# %%
assert runs["momentum"][1].accuracy[-1] > 0.95
assert runs["momentum"][1].loss[-1] < runs["sgd"][1].loss[-1] / 2

# %% [markdown]
# ## Goh's quadratic: the best step and the best momentum
#
# On $f(w) = \frac12 w^\top A w$, where $A$ has eigenvalues from $\lambda_{min}$ to
# $\lambda_{max}$, the condition number is $\kappa = \lambda_{max}/\lambda_{min}$, and
# each eigen-direction evolves on its own. Gradient descent converges fastest with
# $\alpha = 2/(\lambda_{min} + \lambda_{max})$. Momentum converges fastest with
# $\alpha = (2/(\sqrt{\lambda_{min}} + \sqrt{\lambda_{max}}))^2$ and
# $\beta = ((\sqrt\kappa - 1)/(\sqrt\kappa + 1))^2$. `plot_momentum` runs both from
# $w_0 = (1, 1)$ with $\lambda = (1, 100)$.

# %%
plot_momentum((1.0, 100.0), steps=200)

# %%
gd, hb = optimal_gd(1.0, 100.0), optimal_momentum(1.0, 100.0)
A, w0 = quadratic([1.0, 100.0]), np.ones(2)
measured = convergence_rate(
    np.linalg.norm(heavy_ball(A, w0, alpha=hb.alpha, beta=hb.beta, steps=200), axis=1), 100
)
print(f"gradient descent: alpha={gd.alpha:.4f}, predicted rate {gd.rate:.4f}")
print(f"momentum: alpha={hb.alpha:.4f} beta={hb.beta:.4f}, predicted rate {hb.rate:.4f}")
print(f"momentum, measured over steps 100-200: {measured:.4f}")
assert abs(measured - hb.rate) < 0.01

# %% [markdown]
# To reach an error of $10^{-6}$, gradient descent needs about
# $\ln 10^{-6} / \ln 0.980 \approx 690$ steps, and momentum about 70: that is
# $\sqrt\kappa$ against $\kappa$.
#
# ## The rate for every step and momentum
#
# In each eigen-direction $\lambda$, one step maps $(z, w)$ to
# $(\beta z + \lambda w,\; w - \alpha(\beta z + \lambda w))$, a $2 \times 2$ matrix $R$.
# The slowest direction sets the rate: $\max_\lambda \rho(R_\lambda)$, where $\rho$ is
# the largest eigenvalue in modulus. The map below computes it with NumPy for a grid of
# $(\alpha, \beta)$ pairs. White marks divergence ($\rho \geq 1$). The cross is
# `optimal_momentum`.

# %%
alphas = np.linspace(0.001, 0.06, 240)
betas = np.linspace(0.0, 0.99, 240)
al, be = np.meshgrid(alphas, betas)  # (nb, na)
rate = np.zeros_like(al)
for lam in (1.0, 100.0):
    R = np.stack(
        [np.stack([be, np.full_like(al, lam)], -1), np.stack([-al * be, 1 - al * lam], -1)], -2
    )  # (nb, na, 2, 2)
    rate = np.maximum(rate, np.abs(np.linalg.eigvals(R)).max(-1))

fig = Figure(figsize=(5.5, 4))
ax = fig.subplots()
im = ax.pcolormesh(alphas, betas, np.where(rate < 1, rate, np.nan), cmap="viridis", vmax=1)
fig.colorbar(im, label=r"rate $\max_\lambda \rho(R_\lambda)$")
ax.plot(hb.alpha, hb.beta, "rx", ms=10, mew=2)
ax.set(xlabel=r"step $\alpha$", ylabel=r"momentum $\beta$", title=r"$\lambda = 1, 100$")
fig

# %% [markdown]
# The best point of the grid coincides with Goh's optimum, and its rate is 0.818. Along
# the bottom edge ($\beta = 0$, gradient descent) the best rate is 0.98. Steps larger
# than $2/\lambda_{max} = 0.02$ diverge without momentum, but with momentum they
# converge: a larger $\beta$ permits a larger $\alpha$.

# %%
i, j = np.unravel_index(np.argmin(rate), rate.shape)
print(f"grid optimum: alpha={alphas[j]:.4f}, beta={betas[i]:.3f}, rate={rate[i, j]:.4f}")
assert abs(alphas[j] - hb.alpha) < 0.002 and abs(betas[i] - hb.beta) < 0.02
assert abs(rate[i, j] - hb.rate) < 0.01
assert abs(rate[0].min() - gd.rate) < 0.002
