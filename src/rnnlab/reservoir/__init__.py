"""Reservoir computing: echo state networks, whose recurrent weights stay fixed.

- :class:`ReservoirCell`: the leaky reservoir, a cell like any other, so that
  :func:`rnnlab.unroll` (masks, lengths, traces) and :class:`rnnlab.RNN` (stacked: a deep
  ESN) run it unchanged; :func:`from_reservoirpy` converts a ReservoirPy node.
- Readouts: :func:`fit` (ridge in closed form, from sums accumulated batch by batch:
  :func:`accumulate`, :class:`RidgeStats`, :func:`solve_ridge`), classification from
  the last state or every step (:func:`fit_classifier`), and online rules updated
  every step (:func:`rls_step`, :func:`lms_step`, :func:`online_fit`, :func:`force`).
- :func:`search`: many reservoirs at once, vmapped over seeds and hyperparameters.
- Data: :func:`mackey_glass` (RK4), :func:`to_forecasting`, :func:`nrmse`.
"""

from rnnlab.reservoir._cell import EchoStateWarning, ReservoirCell
from rnnlab.reservoir._classify import Classifier, fit_classifier
from rnnlab.reservoir._convert import from_reservoirpy
from rnnlab.reservoir._esn import ESN, accumulate, fit, run_reservoir
from rnnlab.reservoir._mackey_glass import mackey_glass, nrmse, rescale, to_forecasting
from rnnlab.reservoir._matrices import effective_spectral_radius, spectral_radius
from rnnlab.reservoir._online import (
    OnlineReadout,
    force,
    lms_init,
    lms_step,
    online_fit,
    rls_init,
    rls_step,
)
from rnnlab.reservoir._readout import (
    Readout,
    RidgeStats,
    host_stats,
    ridge_stats,
    solve_ridge,
    solve_ridge_host,
)
from rnnlab.reservoir._readout import warmup_mask as warmup_mask  # (for --model esn)
from rnnlab.reservoir._search import SearchResult, random_trials, search

__all__ = [
    "ESN",
    "Classifier",
    "EchoStateWarning",
    "OnlineReadout",
    "Readout",
    "ReservoirCell",
    "RidgeStats",
    "SearchResult",
    "accumulate",
    "effective_spectral_radius",
    "fit",
    "fit_classifier",
    "force",
    "from_reservoirpy",
    "host_stats",
    "lms_init",
    "lms_step",
    "mackey_glass",
    "nrmse",
    "online_fit",
    "random_trials",
    "rescale",
    "ridge_stats",
    "rls_init",
    "rls_step",
    "run_reservoir",
    "search",
    "solve_ridge",
    "solve_ridge_host",
    "spectral_radius",
    "to_forecasting",
]
