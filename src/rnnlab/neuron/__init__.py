"""From the biological to the artificial neuron: activations, one neuron, local learning
rules (perceptron, Hebb, Oja), the multilayer perceptron trained by back-propagation,
playground data sets, and momentum on a quadratic (Goh 2017).

>>> import jax.random as jr
>>> from rnnlab.neuron import MLP, train_mlp, two_spirals, plot_decision_boundary
>>> X, y = two_spirals(400, seed=0)
>>> mlp, history = train_mlp(MLP((2, 32, 32, 1), "tanh", key=jr.key(0)), X, y,
...                          optimizer="momentum", epochs=1500, key=jr.key(1))
>>> fig = plot_decision_boundary(mlp, X, y)
"""

from rnnlab.neuron._activations import (
    ACTIVATIONS,
    get_activation,
    relu,
    sigmoid,
    tanh,
    threshold,
)
from rnnlab.neuron._datasets import circles, gaussian_blobs, two_spirals, xor
from rnnlab.neuron._mlp import (
    MLP,
    TrainHistory,
    make_optimizer,
    predict,
    summed_loss,
    train_mlp,
)
from rnnlab.neuron._momentum import (
    GDParams,
    MomentumParams,
    convergence_rate,
    gradient_descent,
    heavy_ball,
    optimal_gd,
    optimal_momentum,
    quadratic,
)
from rnnlab.neuron._neuron import Neuron
from rnnlab.neuron._plots import plot_decision_boundary, plot_momentum
from rnnlab.neuron._rules import (
    hebb_update,
    oja_update,
    perceptron_update,
    train_hebb,
    train_oja,
    train_perceptron,
)

__all__ = [
    "ACTIVATIONS",
    "GDParams",
    "MLP",
    "MomentumParams",
    "Neuron",
    "TrainHistory",
    "circles",
    "convergence_rate",
    "gaussian_blobs",
    "get_activation",
    "gradient_descent",
    "heavy_ball",
    "hebb_update",
    "make_optimizer",
    "oja_update",
    "optimal_gd",
    "optimal_momentum",
    "perceptron_update",
    "plot_decision_boundary",
    "plot_momentum",
    "predict",
    "quadratic",
    "relu",
    "summed_loss",
    "sigmoid",
    "tanh",
    "threshold",
    "train_hebb",
    "train_mlp",
    "train_oja",
    "train_perceptron",
    "two_spirals",
    "xor",
]
