"""rnnlab: recurrent neural networks from the single neuron to the LSTM family.

Public names are re-exported here; the sub-packages ``rnnlab.neuron``,
``rnnlab.spikes``, ``rnnlab.data``, ``rnnlab.charlm``, ``rnnlab.engine``,
``rnnlab.models``, ``rnnlab.tasks``, ``rnnlab.reservoir`` and ``rnnlab.learn`` load on
first use.
"""

import importlib

from rnnlab.cells import (
    CELLS,
    SPIKING_CELLS,
    ALIFCell,
    Cell,
    CIFGLSTMCell,
    ElmanCell,
    GRUCell,
    JordanCell,
    LeakyElmanCell,
    LIFCell,
    LSTM1997Cell,
    LSTMCell,
    MTRNNCell,
    PeepholeLSTMCell,
    make_cell,
)
from rnnlab.errors import UserError
from rnnlab.interop import from_torch, to_torch
from rnnlab.layers import RNN, layer_grad_norms, trace_layers
from rnnlab.unroll import check_cell, grad_norms_through_time, unroll

__version__ = "0.1.0"

_SUBPACKAGES = (
    "neuron",
    "spikes",
    "data",
    "charlm",
    "engine",
    "models",
    "tasks",
    "inspect",
    "reservoir",
    "learn",
)


def __getattr__(name):
    if name in _SUBPACKAGES:
        return importlib.import_module(f"rnnlab.{name}")
    raise AttributeError(f"module 'rnnlab' has no attribute {name!r}")


__all__ = [
    "ALIFCell",
    "CELLS",
    "CIFGLSTMCell",
    "Cell",
    "ElmanCell",
    "GRUCell",
    "JordanCell",
    "LIFCell",
    "LSTM1997Cell",
    "LSTMCell",
    "LeakyElmanCell",
    "MTRNNCell",
    "PeepholeLSTMCell",
    "RNN",
    "SPIKING_CELLS",
    "UserError",
    "check_cell",
    "from_torch",
    "grad_norms_through_time",
    "layer_grad_norms",
    "make_cell",
    "to_torch",
    "trace_layers",
    "unroll",
]
