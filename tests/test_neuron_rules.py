"""Perceptron, Hebb and Oja rules: single steps by hand, convergence against references."""

import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from rnnlab.neuron import (
    hebb_update,
    oja_update,
    perceptron_update,
    train_hebb,
    train_oja,
    train_perceptron,
)


@pytest.mark.parametrize(
    ("x", "t", "w_new", "b_new"),
    [
        # a = 0.5 - 1 + 0 = -0.5 -> y = 0, t = 1: w += 0.5 * x, b += 0.5
        ([1.0, 1.0], 1.0, [1.0, -0.5], 0.5),
        # a = -0.5 + 0 = -0.5 -> y = 0 = t: no change
        ([-1.0, 0.0], 0.0, [0.5, -1.0], 0.0),
        # a = 1 + 0 = 1 -> y = 1, t = 0: w -= 0.5 * x, b -= 0.5
        ([2.0, 0.0], 0.0, [-0.5, -1.0], -0.5),
    ],
)
def test_perceptron_single_step_by_hand(x, t, w_new, b_new):
    w, b = perceptron_update(jnp.array([0.5, -1.0]), jnp.float32(0.0), jnp.array(x), t, eta=0.5)
    np.testing.assert_array_equal(np.asarray(w), w_new)
    assert float(b) == b_new


def _separable(seed, dim, n=200, margin=0.1):
    rng = np.random.default_rng(seed)
    w_true, b_true = rng.normal(size=dim), 0.1
    w_true /= np.linalg.norm(w_true)  # so |a| is the distance to the true boundary
    X = rng.uniform(-1, 1, size=(4 * n, dim))
    a = X @ w_true + b_true
    keep = np.abs(a) > margin  # a gap around the true boundary
    return X[keep][:n], (a[keep][:n] >= 0).astype(np.int32)


@pytest.mark.parametrize(("seed", "dim"), [(0, 2), (2, 5)])
def test_perceptron_converges_on_separable_data(seed, dim):
    X, t = _separable(seed, dim)
    assert 0 < t.mean() < 1
    neuron, mistakes = train_perceptron(X, t, eta=1.0, max_epochs=200, key=jr.key(seed))
    assert mistakes[-1] == 0 and mistakes[0] > 0
    y = np.asarray(jnp.heaviside(jnp.asarray(X) @ neuron.weight + neuron.bias, 1.0))
    np.testing.assert_array_equal(y, t)


def test_hebb_single_step_by_hand():
    # y = w.x = 1*3 + 2*(-1) = 1; w + eta*y*x = [1, 2] + 0.5*[3, -1] = [2.5, 1.5]
    w = hebb_update(jnp.array([1.0, 2.0]), jnp.array([3.0, -1.0]), eta=0.5)
    np.testing.assert_array_equal(np.asarray(w), [2.5, 1.5])


def test_oja_single_step_by_hand():
    # y = 1; w + eta*y*(x - y*w) = [1, 2] + 0.5*([3, -1] - [1, 2]) = [2, 0.5]
    w = oja_update(jnp.array([1.0, 2.0]), jnp.array([3.0, -1.0]), eta=0.5)
    np.testing.assert_array_equal(np.asarray(w), [2.0, 0.5])


def _correlated(seed, dim, n=1000):
    rng = np.random.default_rng(seed)
    scales = np.r_[3.0, np.linspace(1.5, 0.5, dim - 1)]  # a clear first component
    Q, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    X = (rng.normal(size=(n, dim)) * scales) @ Q.T + rng.normal(size=dim)  # not centred
    return X - X.mean(0)


@pytest.mark.parametrize(("seed", "dim"), [(0, 2), (2, 8)])
def test_oja_converges_to_first_principal_component(seed, dim):
    X = _correlated(seed, dim)
    pc1 = np.linalg.svd(X, full_matrices=False)[2][0]  # first right singular vector
    w, history = train_oja(X, eta=0.0005, epochs=40, key=jr.key(seed))
    w = np.asarray(w, dtype=np.float64)
    assert abs(w @ pc1) / np.linalg.norm(w) > 0.99
    assert abs(np.linalg.norm(w) - 1.0) < 0.05
    assert history.shape == (41, dim) and abs(history[0] @ pc1) < abs(history[-1] @ pc1)
    # The key fixes the start and the order of the samples.
    w_again, _ = train_oja(X, eta=0.0005, epochs=40, key=jr.key(seed))
    w_other, _ = train_oja(X, eta=0.0005, epochs=40, key=jr.key(seed + 1))
    np.testing.assert_array_equal(np.asarray(w_again), w.astype(np.float32))
    assert not np.array_equal(np.asarray(w_other), np.asarray(w_again))


def test_hebb_turns_towards_pc1_while_the_norm_grows():
    X = _correlated(3, 4, n=200)
    pc1 = np.linalg.svd(X, full_matrices=False)[2][0]
    w0 = np.array([0.3, -0.2, 0.1, 0.25])
    w, _ = train_hebb(X, eta=0.002, epochs=3, key=jr.key(0), w0=w0)
    w = np.asarray(w, dtype=np.float64)
    assert abs(w @ pc1) / np.linalg.norm(w) > 0.99
    assert np.linalg.norm(w) > 100 * np.linalg.norm(w0)  # Hebb alone has no bound
