"""Recurrent cells: each does one time step for one sample; ``rnnlab.unroll`` owns time."""

from rnnlab.cells._base import Cell
from rnnlab.cells._base import Step as Step  # (for cell-like steps elsewhere in rnnlab)
from rnnlab.cells._base import activation as activation
from rnnlab.cells._base import project as project
from rnnlab.cells.elman import ElmanCell, JordanCell
from rnnlab.cells.gru import GRUCell
from rnnlab.cells.leaky import LeakyElmanCell
from rnnlab.cells.lstm import CIFGLSTMCell, LSTM1997Cell, LSTMCell, PeepholeLSTMCell
from rnnlab.cells.mtrnn import MTRNNCell
from rnnlab.cells.spiking import ALIFCell, LIFCell
from rnnlab.errors import UserError

CELLS = {
    "elman": ElmanCell,
    "jordan": JordanCell,
    "lstm": LSTMCell,
    "lstm1997": LSTM1997Cell,
    "peephole": PeepholeLSTMCell,
    "cifg": CIFGLSTMCell,
    "gru": GRUCell,
    "mtrnn": MTRNNCell,
}

# The spiking cells, by name, kept apart from CELLS: the loops over CELLS compare each cell
# with a torch twin or a trained reference, which a spiking cell has not. make_cell and
# --cell take these names too.
SPIKING_CELLS = {"lif": LIFCell, "alif": ALIFCell}


def make_cell(name: str, input_size: int, hidden_size: int, *, key, **kwargs):
    """The cell called ``name`` (a key of :data:`CELLS` or :data:`SPIKING_CELLS`) with the
    given sizes."""
    known = {**CELLS, **SPIKING_CELLS}
    try:
        cls = known[name]
    except KeyError:
        raise UserError(f"unknown cell {name!r}; choose one of {', '.join(known)}") from None
    return cls(input_size, hidden_size, key=key, **kwargs)


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
    "SPIKING_CELLS",
    "make_cell",
]
