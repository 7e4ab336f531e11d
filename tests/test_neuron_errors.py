"""A user's mistake raises rnnlab.errors.UserError with one line naming the bad value."""

import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from rnnlab.errors import UserError
from rnnlab.neuron import (
    MLP,
    Neuron,
    circles,
    convergence_rate,
    gaussian_blobs,
    get_activation,
    heavy_ball,
    make_optimizer,
    optimal_momentum,
    plot_decision_boundary,
    quadratic,
    train_mlp,
    train_oja,
    train_perceptron,
    two_spirals,
    xor,
)

KEY = jr.key(0)
MLP_2_1 = MLP((2, 3, 1), key=KEY)
X4 = np.zeros((4, 2), np.float32)

BAD_CALLS = {
    "unknown activation": (lambda: get_activation("softsign"), "softsign"),
    "neuron activation": (lambda: Neuron([1.0], 0.0, activation="step"), "step"),
    "mlp activation": (lambda: MLP((2, 1), "gelu", key=KEY), "gelu"),
    "neuron weight shape": (lambda: Neuron([[1.0, 2.0]], 0.0), "(1, 2)"),
    "neuron input shape": (lambda: Neuron([1.0, 2.0], 0.0)(jnp.ones(3)), "(3,)"),
    "mlp sizes": (lambda: MLP((2,), key=KEY), "sizes"),
    "mlp X shape": (lambda: train_mlp(MLP_2_1, np.zeros((4, 3)), [0, 1, 0, 1], key=KEY), "(4, 3)"),
    "mlp y shape": (lambda: train_mlp(MLP_2_1, X4, [0, 1], key=KEY), "(2,)"),
    "mlp y labels": (lambda: train_mlp(MLP_2_1, X4, [0, 1, 2, 1], key=KEY), "[0, 2)"),
    "mlp batch": (lambda: train_mlp(MLP_2_1, X4, [0, 1, 0, 1], batch_size=9, key=KEY), "9"),
    "optimizer": (lambda: make_optimizer("rmsprop", 0.1), "rmsprop"),
    "xor n": (lambda: xor(0), "0"),
    "circles n": (lambda: circles(-5), "-5"),
    "spirals n": (lambda: two_spirals(0), "0"),
    "blobs n": (lambda: gaussian_blobs(0), "0"),
    "blobs classes": (lambda: gaussian_blobs(10, n_classes=1), "n_classes"),
    "noise": (lambda: circles(10, noise=-0.1), "-0.1"),
    "oja X shape": (lambda: train_oja(np.zeros(5), eta=0.1, epochs=1, key=KEY), "(5,)"),
    "oja w0 shape": (
        lambda: train_oja(np.zeros((5, 2)), eta=0.1, epochs=1, key=KEY, w0=np.ones(3)),
        "(3,)",
    ),
    "perceptron targets": (lambda: train_perceptron(X4, [0, 1, 2, 1], key=KEY), "0 or 1"),
    "perceptron t shape": (lambda: train_perceptron(X4, [0, 1], key=KEY), "(2,)"),
    "spectrum": (lambda: optimal_momentum(0.0, 10.0), "lambda_min=0.0"),
    "eigenvalues": (lambda: quadratic([1.0, -2.0]), "positive"),
    "heavy ball w0": (
        lambda: heavy_ball(np.eye(2), np.ones(3), alpha=0.1, beta=0.5, steps=5),
        "(3,)",
    ),
    "heavy ball beta": (
        lambda: heavy_ball(np.eye(2), np.ones(2), alpha=0.1, beta=1.0, steps=5),
        "beta",
    ),
    "rate start": (lambda: convergence_rate([1.0, 0.5], start=3), "start=3"),
    "boundary X": (
        lambda: plot_decision_boundary(MLP_2_1, np.zeros((4, 3)), np.zeros(4)),
        "(4, 3)",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_bad_input_raises_one_line_user_error(case):
    call, names = BAD_CALLS[case]
    with pytest.raises(UserError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message and names in message
