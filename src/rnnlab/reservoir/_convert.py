"""A ReservoirPy ``Reservoir`` node as an rnnlab reservoir cell."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from rnnlab.errors import UserError
from rnnlab.reservoir._cell import ReservoirCell

_ACTIVATIONS = ("tanh", "relu", "sigmoid", "identity")


def from_reservoirpy(node, *, matmul: str = "auto") -> ReservoirCell:
    """The :class:`ReservoirCell` with the arrays of ReservoirPy's ``node`` (a
    ``reservoirpy.nodes.Reservoir``, 0.4.x): its ``W`` (dense or sparse), ``Win``,
    ``bias`` and leak rate ``lr`` (a number or one per unit), and its activation, so that
    ``rnnlab.unroll(cell, xs)[0]`` equals ``node.run(xs)`` from the zero state (to
    rounding, in float64). The node must be initialised (run once, or
    ``node.initialize(x)``) so that its arrays exist. ReservoirPy is not imported here.

    >>> from reservoirpy.nodes import Reservoir  # doctest: +SKIP
    >>> node = Reservoir(100, lr=0.3, sr=1.25, seed=0); node.initialize(x)  # doctest: +SKIP
    >>> cell = rnnlab.reservoir.from_reservoirpy(node)  # doctest: +SKIP
    """
    W, W_in = getattr(node, "W", None), getattr(node, "Win", None)
    if callable(W) or callable(W_in) or W is None or W_in is None:
        raise UserError(
            "the ReservoirPy node has no arrays yet: initialise it first (node.run(x) or "
            "node.initialize(x))"
        )
    if not (sp.issparse(W) or isinstance(W, np.ndarray)):
        W = np.asarray(W)  # a JAX-backend node's arrays
    W_in = W_in.toarray() if sp.issparse(W_in) else np.asarray(W_in)
    bias = node.bias.toarray() if sp.issparse(node.bias) else np.asarray(node.bias)
    return ReservoirCell(
        W_in.shape[1],
        W=W,
        W_in=W_in,
        bias=bias.ravel() if bias.size > 1 else float(bias.ravel()[0]),
        leak_rate=np.asarray(node.lr, np.float64),
        nonlinearity=_activation_name(node.activation),
        matmul=matmul,
        esp_warning=False,
    )


def _activation_name(fn) -> str:
    """The name of ReservoirPy's activation ``fn``, checked on a few values."""
    x = np.linspace(-3, 3, 13)
    reference = {
        "tanh": np.tanh(x),
        "relu": np.maximum(x, 0),
        "sigmoid": 1 / (1 + np.exp(-x)),
        "identity": x,
    }
    y = np.asarray(fn(x), np.float64)
    for name in _ACTIVATIONS:
        if y.shape == x.shape and np.allclose(y, reference[name], rtol=1e-12, atol=1e-12):
            return name
    raise UserError(
        f"the node's activation {getattr(fn, '__name__', fn)!r} has no rnnlab twin; "
        f"rnnlab has {', '.join(_ACTIVATIONS)}"
    )
