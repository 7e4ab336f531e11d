"""The MLP against a NumPy forward and a hand-written back-propagation; XOR and spirals."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from matplotlib.figure import Figure

from rnnlab.neuron import (
    MLP,
    Neuron,
    gaussian_blobs,
    plot_decision_boundary,
    predict,
    train_mlp,
    two_spirals,
    xor,
)

NUMPY_PHI = {
    "tanh": np.tanh,
    "sigmoid": lambda a: 1 / (1 + np.exp(-a)),
    "relu": lambda a: np.maximum(a, 0),
    "threshold": lambda a: np.heaviside(a, 1.0),
}


def _numpy_params(mlp):
    return [
        (np.asarray(lay.weight, np.float64), np.asarray(lay.bias, np.float64)) for lay in mlp.layers
    ]


@pytest.mark.parametrize("activation", sorted(NUMPY_PHI))
def test_forward_equals_numpy(activation):
    mlp = MLP((3, 5, 4, 2), activation, key=jr.key(0))
    X = np.random.default_rng(0).normal(size=(7, 3))
    h = X
    (W1, b1), (W2, b2), (W3, b3) = _numpy_params(mlp)
    phi = NUMPY_PHI[activation]
    z = phi(phi(h @ W1.T + b1) @ W2.T + b2) @ W3.T + b3  # (7, 2)
    got = np.asarray(jax.vmap(mlp)(jnp.asarray(X, jnp.float32)))
    np.testing.assert_allclose(got, z, rtol=1e-5, atol=1e-5)


def test_one_sgd_step_equals_hand_written_backprop():
    """Rumelhart, Hinton & Williams (1986): deltas propagated back through W^T."""
    X, y = xor(16, noise=0.1, seed=3)
    mlp = MLP((2, 6, 1), "tanh", key=jr.key(1))
    (W1, b1), (W2, b2) = _numpy_params(mlp)
    Xd = X.astype(np.float64)
    h = np.tanh(Xd @ W1.T + b1)  # (N, 6)
    p = 1 / (1 + np.exp(-(h @ W2.T + b2)))  # (N, 1)
    delta2 = (p - y[:, None]) / len(X)  # dL/dz of the mean binary cross-entropy, (N, 1)
    delta1 = (delta2 @ W2) * (1 - h**2)  # (N, 6)
    expected = [
        (W1 - 0.5 * delta1.T @ Xd, b1 - 0.5 * delta1.sum(0)),
        (W2 - 0.5 * delta2.T @ h, b2 - 0.5 * delta2.sum(0)),
    ]
    trained, _ = train_mlp(mlp, X, y, optimizer="sgd", learning_rate=0.5, epochs=1, key=jr.key(2))
    for (W, b), (W_ref, b_ref) in zip(_numpy_params(trained), expected, strict=True):
        np.testing.assert_allclose(W, W_ref, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(b, b_ref, rtol=1e-5, atol=1e-6)


XOR_TABLE = (np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32), np.array([0, 1, 1, 0]))


@pytest.mark.parametrize(
    ("data", "sizes", "epochs", "batch_size", "min_accuracy"),
    [
        (XOR_TABLE, (2, 4, 1), 500, None, 1.0),
        (xor(200, seed=0), (2, 8, 1), 100, 20, 1.0),
        (two_spirals(400, noise=0.0, seed=0), (2, 32, 32, 1), 1600, None, 0.95),
    ],
    ids=["xor-table", "xor-playground", "two-spirals"],
)
def test_momentum_solves(data, sizes, epochs, batch_size, min_accuracy):
    X, y = data
    mlp, history = train_mlp(
        MLP(sizes, "tanh", key=jr.key(0)),
        X,
        y,
        optimizer="momentum",
        learning_rate=0.1,
        momentum=0.9,
        epochs=epochs,
        batch_size=batch_size,
        key=jr.key(1),
    )
    accuracy = np.mean(predict(mlp, X) == y)
    assert accuracy >= min_accuracy
    assert history.accuracy[-1] == pytest.approx(accuracy)  # the history tells the truth
    assert history.loss[-1] < 0.5 * history.loss[0]


def _train_blobs(optimizer, key=1):
    # One configuration for the tests below: train_mlp compiles once per optimizer.
    X, y = gaussian_blobs(150, n_classes=3, noise=0.1, seed=0)
    mlp, history = train_mlp(
        MLP((2, 8, 3), "tanh", key=jr.key(0)),
        X,
        y,
        optimizer=optimizer,
        learning_rate=0.01,
        epochs=100,
        batch_size=15,
        key=jr.key(key),
    )
    return np.mean(predict(mlp, X) == y), history


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_every_optimizer_separates_three_blobs(optimizer):
    accuracy, history = _train_blobs(optimizer)
    assert accuracy == 1.0
    assert np.all(np.diff(history.loss[::20]) < 0)  # loss falls epoch block after block


def test_momentum_beats_plain_sgd_at_the_same_step():
    # Same step alpha, but momentum's effective step is alpha / (1 - beta) (Goh 2017).
    assert _train_blobs("momentum")[1].loss[-1] < 0.1 * _train_blobs("sgd")[1].loss[-1]


def test_training_is_reproducible_from_the_keys():
    losses = [_train_blobs("momentum", key=k)[1].loss for k in (5, 5, 6)]
    np.testing.assert_array_equal(losses[0], losses[1])
    assert not np.array_equal(losses[0], losses[2])


@pytest.mark.parametrize("kind", ["mlp-binary", "mlp-3-class", "neuron"])
def test_decision_boundary_figure(kind, tmp_path):
    X, y = gaussian_blobs(60, n_classes=3 if kind == "mlp-3-class" else 2, seed=0)
    if kind == "neuron":
        model = Neuron([1.0, 0.0], 0.0, activation="threshold")
    else:
        model = MLP((2, 4, 3 if kind == "mlp-3-class" else 1), key=jr.key(0))
    fig = plot_decision_boundary(model, X, y, resolution=50)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    points = [c for c in fig.axes[0].collections if c.get_offsets().shape == X.shape]
    np.testing.assert_allclose(points[0].get_offsets(), X)  # the data are drawn where they are
    fig.savefig(tmp_path / "boundary.png")
    assert (tmp_path / "boundary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
