"""UORO is unbiased: the mean of many independent draws approaches the exact (RTRL)
gradient, within a band derived from the draws' own sample variance; a single draw is
not the exact gradient (the estimate is random)."""

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

import rnnlab
from rnnlab import learn

D, H, T, DRAWS = 2, 3, 5, 4000


def test_uoro_mean_approaches_rtrl(x64, random_like):
    cell = jax.tree_util.tree_map(
        lambda a: jnp.asarray(a, jnp.float64), rnnlab.ElmanCell(D, H, key=jax.random.key(0))
    )
    cell = random_like(cell, 1)
    xs = random_like(jnp.zeros((T, D), jnp.float64), 2, 1.0)
    w = random_like(jnp.zeros((T, H), jnp.float64), 3, 1.0)
    loss = lambda ys: jnp.sum(jnp.tanh(ys) * w)
    uoro = learn.UORO()

    @jax.jit
    def draws(keys):
        one = lambda k: ravel_pytree(uoro(cell, xs, loss, uoro.init(cell, k))[0])[0]
        return jax.vmap(one)(keys)  # (DRAWS, p)

    g = np.asarray(draws(jax.random.split(jax.random.key(4), DRAWS)))
    exact = np.asarray(ravel_pytree(learn.rtrl_grad(cell, xs, loss))[0])
    mean, sd = g.mean(0), g.std(0, ddof=1)
    se = sd / np.sqrt(DRAWS)
    # Each of the p = 21 components within 5 standard errors of the exact value (for
    # an unbiased estimate a false alarm has probability ~1e-5; the draws are fixed).
    z = (mean - exact) / se
    assert np.all(np.abs(z) < 5), np.abs(z).max()
    # A random estimate: one draw is far from exact, the spread is real.
    assert np.all(sd > 1e-3 * np.abs(exact).max())
    assert np.abs(g[0] - exact).max() > 1e-2 * np.abs(exact).max()
    # Unbiased, not merely noisy around something else: the band is tight.
    assert np.abs(mean - exact).max() < 0.1 * np.abs(exact).max()
