"""Weights to and from PyTorch: ``nn.RNN``, ``nn.LSTM`` and ``nn.GRU`` <-> :class:`rnnlab.RNN`.

torch is imported lazily, only here, and only when these functions are called.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from rnnlab.cells import ElmanCell, GRUCell, LSTMCell
from rnnlab.errors import UserError
from rnnlab.layers import RNN


def _suffix(layer: int, direction: int) -> str:
    return f"_l{layer}" + ("_reverse" if direction == 1 else "")


def from_torch(module) -> RNN:
    """The :class:`rnnlab.RNN` equal to a ``torch.nn.RNN``, ``nn.LSTM`` or ``nn.GRU``.

    Any ``num_layers``, ``bidirectional``, ``bias``, ``batch_first`` and (for
    ``nn.RNN``) ``nonlinearity``; the weights are copied, float32. ``dropout`` is
    kept (it applies between layers while training, as in torch).
    """
    import torch

    if isinstance(module, torch.nn.LSTM):
        if module.proj_size:
            raise UserError("from_torch: nn.LSTM with proj_size > 0 has no rnnlab twin")
        make = lambda d, h, key: LSTMCell(d, h, use_bias=module.bias, key=key)
    elif isinstance(module, torch.nn.GRU):
        make = lambda d, h, key: GRUCell(d, h, use_bias=module.bias, key=key)
    elif isinstance(module, torch.nn.RNN):
        make = lambda d, h, key: ElmanCell(
            d, h, nonlinearity=module.nonlinearity, use_bias=module.bias, key=key
        )
    else:
        raise UserError(
            f"from_torch takes torch.nn.RNN, nn.LSTM or nn.GRU, got {type(module).__name__}"
        )
    import jax

    dirs = 2 if module.bidirectional else 1
    params = {
        n: jnp.asarray(p.detach().cpu().numpy(), jnp.float32) for n, p in module.named_parameters()
    }
    stack, size, key = [], module.input_size, jax.random.key(0)
    for layer in range(module.num_layers):
        cells = []
        for d in range(dirs):
            s = _suffix(layer, d)
            cell = make(size, module.hidden_size, key)  # placeholder weights, replaced below
            cell = _with(cell, "weight_ih", params["weight_ih" + s])
            cell = _with(cell, "weight_hh", params["weight_hh" + s])
            if module.bias:
                cell = _with(cell, "bias_ih", params["bias_ih" + s])
                cell = _with(cell, "bias_hh", params["bias_hh" + s])
            cells.append(cell)
        stack.append(tuple(cells))
        size = dirs * module.hidden_size
    return RNN(
        None,
        module.input_size,
        module.hidden_size,
        cells=tuple(stack),
        dropout=module.dropout,
        batch_first=module.batch_first,
    )


def _with(cell, name, value):
    import equinox as eqx

    return eqx.tree_at(lambda c: getattr(c, name), cell, value)


def to_torch(layer: RNN):
    """The ``torch.nn.RNN``/``nn.LSTM``/``nn.GRU`` equal to ``layer`` (float32 weights).

    Only layers of :class:`ElmanCell` (tanh or relu), :class:`LSTMCell` and
    :class:`GRUCell` in its torch form (``reset_after=True``) have a torch twin.
    """
    import torch

    first = layer.cells[0][0]
    # Every cell, not only the first: torch has one nonlinearity/bias/GRU form per module.
    kinds = {
        (
            type(c),
            getattr(c, "nonlinearity", None),
            getattr(c, "reset_after", None),
            getattr(c, "bias_ih", None) is None,
        )
        for cells in layer.cells
        for c in cells
    }
    if len(kinds) != 1:
        raise UserError(
            "to_torch needs every layer to use the same cell type and settings "
            "(nonlinearity, reset_after, use_bias)"
        )
    kwargs = dict(
        input_size=first.input_size,
        hidden_size=first.hidden_size,
        num_layers=layer.num_layers,
        bias=first.bias_ih is not None if hasattr(first, "bias_ih") else True,
        batch_first=layer.batch_first,
        dropout=layer.dropout,
        bidirectional=layer.bidirectional,
    )
    if type(first) is LSTMCell:
        module = torch.nn.LSTM(**kwargs)
    elif isinstance(first, GRUCell) and first.reset_after:
        module = torch.nn.GRU(**kwargs)
    elif isinstance(first, ElmanCell) and first.nonlinearity in ("tanh", "relu"):
        module = torch.nn.RNN(nonlinearity=first.nonlinearity, **kwargs)
    else:
        raise UserError(
            f"{type(first).__name__} has no torch twin; to_torch takes layers of "
            "ElmanCell (tanh/relu), LSTMCell or GRUCell (reset_after=True)"
        )
    with torch.no_grad():
        for l, cells in enumerate(layer.cells):
            for d, cell in enumerate(cells):
                s = _suffix(l, d)
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    value = getattr(cell, name)
                    if value is not None:
                        getattr(module, name + s).copy_(torch.from_numpy(np.array(value)))
    return module
