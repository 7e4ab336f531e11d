"""The Neuron page's training: an :class:`rnnlab.neuron.MLP` on 2-D points (worker side).

Full-batch steps through the engine; every evaluation also returns the class
probabilities on a grid over the data, which the page draws as the decision boundary.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.data import SameBatch
from rnnlab.engine import Problem
from rnnlab.neuron import MLP, circles, gaussian_blobs, summed_loss, two_spirals, xor

GRID = 41  # points per side of the decision-boundary grid
SHOWN = 16  # units of a layer drawn in the network's diagram (and their weights sent)
GENERATORS = {"xor": xor, "circles": circles, "spirals": two_spirals, "blobs": gaussian_blobs}


def points(spec: dict) -> tuple[np.ndarray, np.ndarray]:
    """X (N, 2) float32 and labels y (N,) int32 of the spec's data set (or its CSV)."""
    if spec["dataset"] == "csv":
        table = np.asarray(spec["table"], np.float64)
        return table[:, :2].astype(np.float32), table[:, 2].astype(np.int32)
    return GENERATORS[spec["dataset"]](spec["n"], noise=spec["noise"], seed=spec["seed"])


def extent(X: np.ndarray) -> list[float]:
    """[x_min, x_max, y_min, y_max] of the grid: the data's box, padded by 10%."""
    lo, hi = X.min(0), X.max(0)
    pad = 0.1 * np.maximum(hi - lo, 1e-3)
    return [float(v) for v in (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1])]


@jax.jit
def _probs(model, grid):
    z = jax.vmap(model)(grid)  # (G*G, K)
    return jax.nn.sigmoid(z[:, 0]) if z.shape[1] == 1 else jax.nn.softmax(z, -1).argmax(-1)


def build(spec: dict):
    """The engine's problem and a ``look(model) -> dict`` for the page."""
    X, y = points(spec)
    K = int(y.max()) + 1
    sizes = (2, *spec["layers"], 1 if K == 2 else K)
    model = MLP(sizes, spec["activation"], key=jax.random.key(spec["seed"]))
    box = extent(X)
    gx, gy = np.meshgrid(np.linspace(box[0], box[1], GRID), np.linspace(box[2], box[3], GRID))
    grid = jnp.asarray(np.stack([gx.ravel(), gy.ravel()], 1), jnp.float32)  # (G*G, 2)

    def look(model) -> dict:
        z = jax.vmap(model)(jnp.asarray(X))
        pred = (z[:, 0] > 0) if z.shape[1] == 1 else z.argmax(-1)
        return {
            "grid": np.round(np.asarray(_probs(model, grid), np.float64), 4)
            .reshape(GRID, GRID)
            .tolist(),
            "extent": box,
            "accuracy": float(np.mean(np.asarray(pred) == y)),
            # the network's diagram: W (out, in) of each layer, its first SHOWN x SHOWN
            "sizes": list(model.sizes),
            "weights": [
                np.round(np.asarray(lay.weight[:SHOWN, :SHOWN], np.float64), 4).tolist()
                for lay in model.layers
            ],
        }

    problem = Problem(model=model, loss=summed_loss, batches=SameBatch((X, y)), batch_size=len(X))
    return problem, look, {"points": np.round(X, 4).tolist(), "labels": y.tolist(), "classes": K}


def val_loss(spec: dict):
    """``loss(model) -> float``: the mean loss on points drawn at ``seed + 1`` (a CSV has
    no others: its own points)."""
    X, y = points({**spec, "seed": spec["seed"] + 1})
    X, y = jnp.asarray(X), jnp.asarray(y)

    @eqx.filter_jit
    def mean(model):
        total, count, _ = summed_loss(model, (X, y), None, None)
        return total / count

    return lambda model: float(mean(model))
