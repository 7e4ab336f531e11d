"""A multilayer perceptron trained by back-propagation (Rumelhart, Hinton & Williams 1986).

Layer l = 1 .. L maps the previous activity h^(l-1) (h^(0) = x) to

    h^(l) = phi(W^(l) h^(l-1) + b^(l))       for hidden layers,
    z     =     W^(L) h^(L-1) + b^(L)        the output logits (no activation).

With one output the model is a binary classifier, p(y=1|x) = sigma(z), trained on the
binary cross-entropy; with K >= 2 outputs it is a softmax classifier trained on the
cross-entropy. ``jax.grad`` of the loss is back-propagation: the chain rule applied
layer by layer from the output back to the input, delta^(l-1) = W^(l)T delta^(l) * phi'.
"""

from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax

from rnnlab.data.batching import ShuffledBatches
from rnnlab.engine import Problem, Settings, fit
from rnnlab.engine import make_optimizer as engine_optimizer
from rnnlab.errors import UserError
from rnnlab.neuron._activations import get_activation

__all__ = ["MLP", "TrainHistory", "make_optimizer", "predict", "summed_loss", "train_mlp"]


class MLP(eqx.Module):
    """Fully connected layers ``sizes = (D, H_1, ..., H_{L-1}, K)``, hidden activation by name.

    Call it on one input x of shape (D,) to get the logits z of shape (K,).

    >>> import jax.random as jr
    >>> mlp = MLP((2, 8, 1), activation="tanh", key=jr.key(0))
    >>> mlp(jnp.zeros(2)).shape
    (1,)
    """

    layers: tuple[eqx.nn.Linear, ...]
    activation: str = eqx.field(static=True)

    def __init__(self, sizes, activation: str = "tanh", *, key: jax.Array):
        sizes = tuple(sizes)
        if len(sizes) < 2 or not all(isinstance(s, int | np.integer) and s > 0 for s in sizes):
            raise UserError(f"sizes must be >= 2 positive integers (D, ..., K), got {sizes!r}")
        sizes = tuple(int(s) for s in sizes)
        get_activation(activation)  # fail early on an unknown name
        keys = jr.split(key, len(sizes) - 1)
        # eqx.nn.Linear draws W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as torch.nn.Linear.
        self.layers = tuple(
            eqx.nn.Linear(n_in, n_out, key=k)
            for n_in, n_out, k in zip(sizes[:-1], sizes[1:], keys, strict=True)
        )
        self.activation = activation

    @property
    def sizes(self) -> tuple[int, ...]:
        return (self.layers[0].in_features,) + tuple(lay.out_features for lay in self.layers)

    def __call__(self, x: jax.Array) -> jax.Array:
        phi = get_activation(self.activation)
        h = x  # (D,)
        for layer in self.layers[:-1]:
            h = phi(layer(h))  # h^(l) = phi(W^(l) h^(l-1) + b^(l)), (H_l,)
        return self.layers[-1](h)  # z, (K,)


def _loss_and_accuracy(model: MLP, X: jax.Array, y: jax.Array):
    z = jax.vmap(model)(X)  # (N, K)
    if z.shape[1] == 1:
        loss = optax.sigmoid_binary_cross_entropy(z[:, 0], y.astype(z.dtype)).mean()
        y_hat = (z[:, 0] > 0).astype(y.dtype)
    else:
        loss = optax.softmax_cross_entropy_with_integer_labels(z, y).mean()
        y_hat = jnp.argmax(z, axis=1).astype(y.dtype)
    return loss, jnp.mean(y_hat == y)


def predict(model: MLP, X) -> np.ndarray:
    """Class labels (N,) for inputs X (N, D): ``z > 0`` with one output, else argmax z."""
    z = np.asarray(jax.vmap(model)(jnp.asarray(X, dtype=jnp.float32)))  # (N, K)
    return (z[:, 0] > 0).astype(np.int32) if z.shape[1] == 1 else z.argmax(1).astype(np.int32)


_OPTIMIZERS = ("adam", "momentum", "sgd")


def make_optimizer(
    name: str, learning_rate: float, momentum: float = 0.9
) -> optax.GradientTransformation:
    """``"sgd"``: w -= alpha g. ``"momentum"``: heavy ball (Polyak 1964) in Goh's form,
    z = beta z + g, w -= alpha z (``beta = momentum``). ``"adam"``: Kingma & Ba 2015."""
    if name not in _OPTIMIZERS:
        raise UserError(f"unknown optimizer {name!r}; expected one of: {', '.join(_OPTIMIZERS)}")
    if not learning_rate > 0:
        raise UserError(f"learning_rate must be > 0, got {learning_rate!r}")
    if not 0 <= momentum < 1:
        raise UserError(f"momentum must be in [0, 1), got {momentum!r}")
    return engine_optimizer(
        name, float(learning_rate), momentum=float(momentum) if name == "momentum" else 0.0
    )


@dataclass(frozen=True)
class TrainHistory:
    """Training-set loss and accuracy after each epoch, both NumPy arrays (epochs,)."""

    loss: np.ndarray
    accuracy: np.ndarray


def _check_xy(model: MLP, X, y):
    X, y = np.asarray(X), np.asarray(y)
    D, K = model.sizes[0], model.sizes[-1]
    if X.ndim != 2 or X.shape[1] != D or X.shape[0] == 0:
        raise UserError(f"X must have shape (N, {D}) with N >= 1 for this MLP, got {X.shape}")
    if y.shape != (X.shape[0],):
        raise UserError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}")
    n_classes = max(K, 2)
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= n_classes:
        raise UserError(f"y must hold integer labels in [0, {n_classes}) for {K} output(s)")
    return jnp.asarray(X, dtype=jnp.float32), jnp.asarray(y, dtype=jnp.int32)


def train_mlp(
    model: MLP,
    X,
    y,
    *,
    optimizer: str = "momentum",
    learning_rate: float = 0.1,
    momentum: float = 0.9,
    epochs: int = 1000,
    batch_size: int | None = None,
    key: jax.Array,
    report=lambda event: None,
) -> tuple[MLP, TrainHistory]:
    """Train ``model`` on X (N, D), labels y (N,) by back-propagation and an optax optimizer.

    Each epoch shuffles the data in an order drawn from ``key`` and the epoch
    (:class:`rnnlab.data.ShuffledBatches`) and takes one step per
    minibatch of ``batch_size`` (default: the full batch; a last partial batch is
    dropped). Training runs through :func:`rnnlab.engine.fit`; ``report`` receives its
    events (one ``eval`` per epoch with the training loss and accuracy). Returns the
    trained model and a :class:`TrainHistory`.

    >>> import jax.random as jr
    >>> from rnnlab.neuron import xor
    >>> X, y = xor(100, seed=0)
    >>> mlp, hist = train_mlp(MLP((2, 8, 1), key=jr.key(0)), X, y, epochs=300, key=jr.key(1))
    >>> float(hist.accuracy[-1])
    1.0
    """
    X, y = _check_xy(model, X, y)
    if not isinstance(epochs, int) or epochs < 1:
        raise UserError(f"epochs must be a positive integer, got {epochs!r}")
    N = X.shape[0]
    B = N if batch_size is None else batch_size
    if not isinstance(B, int) or not 1 <= B <= N:
        raise UserError(f"batch_size must be an integer in [1, {N}], got {batch_size!r}")
    opt = make_optimizer(optimizer, learning_rate, momentum)
    # Each epoch's order from the key's bits and the epoch: a pure function of the step.
    typed = jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)
    seed = np.asarray(jr.key_data(key) if typed else key).ravel()
    batches = ShuffledBatches((np.asarray(X), np.asarray(y)), B, seed)
    per_epoch = batches.per_epoch

    def evaluate(model):
        loss, accuracy = _metrics(model, X, y)
        return {"train_loss": float(loss), "accuracy": float(accuracy)}

    problem = Problem(
        model=model,
        loss=summed_loss,
        batches=batches,
        batch_size=B,
        evaluate=evaluate,
        metric="train_loss",
    )
    # One device: an MLP this small is dispatch-bound, splitting it only adds collectives.
    settings = Settings(
        steps=epochs * per_epoch, eval_every=per_epoch, log_every=epochs * per_epoch, devices=1
    )
    result = fit(problem, opt, settings, report=report)
    rows = [r for r in result.history if "accuracy" in r]
    return result.model, TrainHistory(
        np.array([r["train_loss"] for r in rows]), np.array([r["accuracy"] for r in rows])
    )


def summed_loss(model: MLP, batch, carry, keys):
    """The engine's loss: summed over the rows of ``batch``, with their count."""
    X, y = batch
    z = jax.vmap(model)(X)  # (b, K)
    if z.shape[1] == 1:
        loss = optax.sigmoid_binary_cross_entropy(z[:, 0], y.astype(z.dtype))
    else:
        loss = optax.softmax_cross_entropy_with_integer_labels(z, y)
    return loss.sum(), y.shape[0], None


@eqx.filter_jit
def _metrics(model: MLP, X, y):
    return _loss_and_accuracy(model, X, y)
