"""Activations and the single neuron, against NumPy closed forms and finite differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rnnlab.neuron import ACTIVATIONS, Neuron, get_activation, threshold


@pytest.fixture
def x64():
    # Float64 only inside this test: jax.enable_x64 restores the previous setting on exit.
    with jax.enable_x64(True):
        yield


def _np_sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


NUMPY_FORMS = {
    "threshold": lambda a: np.heaviside(a, 1.0),  # H(0) = 1
    "sigmoid": _np_sigmoid,
    "tanh": np.tanh,
    "relu": lambda a: np.maximum(a, 0.0),
}

A_GRID = np.array([-4.0, -1.5, -0.3, 0.0, 0.2, 1.0, 3.7])


@pytest.mark.parametrize("name", sorted(NUMPY_FORMS))
def test_activation_forward_equals_numpy(name):
    got = np.asarray(get_activation(name)(jnp.asarray(A_GRID, dtype=jnp.float32)))
    np.testing.assert_allclose(got, NUMPY_FORMS[name](A_GRID), rtol=1e-6, atol=1e-7)


def test_lookup_knows_exactly_the_documented_names():
    assert sorted(ACTIVATIONS) == ["relu", "sigmoid", "tanh", "threshold"]


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu"])
def test_activation_grad_equals_finite_differences(name, x64):
    phi = get_activation(name)
    a = np.array([-2.1, -0.7, 0.4, 1.3, 2.6])  # away from relu's kink at 0
    h = 1e-6
    fd = (NUMPY_FORMS[name](a + h) - NUMPY_FORMS[name](a - h)) / (2 * h)
    grad = np.array([float(jax.grad(phi)(jnp.float64(ai))) for ai in a])
    np.testing.assert_allclose(grad, fd, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("slope", [1.0, 4.0])
def test_threshold_gradient_is_the_sigmoid_surrogate(slope):
    a = jnp.asarray(A_GRID, dtype=jnp.float32)
    grad = np.asarray(jax.vmap(jax.grad(lambda a: threshold(a, slope)))(a))
    s = _np_sigmoid(slope * A_GRID)
    np.testing.assert_allclose(grad, slope * s * (1 - s), rtol=1e-5, atol=1e-7)
    # The forward pass stays the exact step whatever the slope.
    np.testing.assert_array_equal(np.asarray(threshold(a, slope)), np.heaviside(A_GRID, 1.0))


@pytest.mark.parametrize("name", sorted(NUMPY_FORMS))
def test_neuron_equals_weighted_sum_through_activation(name):
    w, b = np.array([0.5, -1.25, 2.0]), 0.3
    X = np.array([[1.0, 0.0, -1.0], [0.2, 0.4, 0.6], [-1.0, 2.0, 0.5], [0.0, 0.0, 0.0]])
    got = np.asarray(jax.vmap(Neuron(w, b, activation=name))(jnp.asarray(X, jnp.float32)))
    np.testing.assert_allclose(got, NUMPY_FORMS[name](X @ w + b), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    ("w", "b", "truth"),
    [([1.0, 1.0], -1.5, [0, 0, 0, 1]), ([1.0, 1.0], -0.5, [0, 1, 1, 1])],
    ids=["AND", "OR"],
)
def test_threshold_neuron_computes_logic_gates(w, b, truth):
    gate = Neuron(w, b, activation="threshold")
    X = jnp.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    np.testing.assert_array_equal(np.asarray(jax.vmap(gate)(X)), truth)


def test_threshold_neuron_is_trainable_through_the_surrogate():
    # d/dw H(w.x + b) under the surrogate is sigma'(a) x with a = w.x + b (chain rule).
    w, b, x = np.array([0.3, -0.2]), 0.1, np.array([2.0, 1.0])
    grad_w = jax.grad(lambda w: Neuron(w, b, activation="threshold")(jnp.asarray(x)))(w)
    s = _np_sigmoid(x @ w + b)
    np.testing.assert_allclose(np.asarray(grad_w), s * (1 - s) * x, rtol=1e-6)


def test_neuron_init_draws_from_the_key():
    k1, k2 = jax.random.split(jax.random.key(0))
    n1, n1_again, n2 = (Neuron.init(4, key=k) for k in (k1, k1, k2))
    np.testing.assert_array_equal(n1.weight, n1_again.weight)
    assert not np.allclose(n1.weight, n2.weight)
    assert np.all(np.abs(n1.weight) <= 0.5) and float(n1.bias) == 0.0  # U(+-1/sqrt(4))
