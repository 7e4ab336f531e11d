"""Many reservoirs at once: a hyperparameter search as one batched computation.

Every trial (spectral radius, leak rate, input scaling, ridge) is run on every seed's
reservoir. The seeds' matrices are drawn once on the host, normalised to spectral
radius 1 (one eigenvalue problem per seed); a trial's spectral radius and input
scaling are then multiplications on the device, so the whole search is one
``vmap`` of "run, fit, forecast, score" over (trial, seed) pairs, in chunks
(``lax.map``) that bound the memory.
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sp

from rnnlab.errors import UserError
from rnnlab.reservoir import _matrices as M
from rnnlab.reservoir._cell import ReservoirCell
from rnnlab.reservoir._esn import run_reservoir
from rnnlab.reservoir._readout import ridge_stats, solve_ridge, warmup_mask

HYPERPARAMETERS = ("spectral_radius", "leak_rate", "input_scaling", "ridge")
# ReservoirPy's hyperparameter tutorial (tutorial 4): log-uniform ranges for a random search.
DEFAULT_RANGES = {
    "spectral_radius": (1e-2, 10.0),
    "leak_rate": (1e-3, 1.0),
    "input_scaling": (1.0, 1.0),
    "ridge": (1e-8, 1e1),
}
MAX_TRIALS = 1_000_000


class SearchResult(NamedTuple):
    """``params``: each hyperparameter's value per trial, (n,); ``loss`` (n, seeds):
    the test NRMSE (max - min) of every trial on every seed's reservoir; ``best``:
    the trial with the lowest mean loss over seeds (its index, params and loss)."""

    params: dict
    loss: np.ndarray
    best: dict


def random_trials(n: int, *, seed: int = 0, **ranges) -> dict:
    """``n`` random trials, each hyperparameter log-uniform in its ``(low, high)`` range
    (or fixed, given one number); unnamed ones take :data:`DEFAULT_RANGES`."""
    if int(n) != n or not 0 < n <= MAX_TRIALS:
        raise UserError(f"the number of trials must be in [1, {MAX_TRIALS}], got {n!r}")
    unknown = set(ranges) - set(HYPERPARAMETERS)
    if unknown:
        raise UserError(f"unknown hyperparameters {sorted(unknown)}; known: {HYPERPARAMETERS}")
    rng = np.random.default_rng(seed)
    out = {}
    for name in HYPERPARAMETERS:
        spec = ranges.get(name, DEFAULT_RANGES[name])
        low, high = (spec, spec) if np.isscalar(spec) else spec
        if not 0 < low <= high:
            raise UserError(f"{name} range must satisfy 0 < low <= high, got {spec}")
        out[name] = np.exp(rng.uniform(np.log(low), np.log(high), int(n)))
    return out


def _unit_reservoirs(units, input_size, seeds, connectivity, input_connectivity, matmul):
    """Per seed: ``W`` with spectral radius 1, ``W_in`` of +-1, stacked on axis 0; and a
    template cell with the layout (dense or sparse) that the search uses."""
    Ws, W_ins = [], []
    for s in seeds:
        rng = np.random.default_rng(int(s))
        W, W_in, _ = M.draw(
            units,
            input_size,
            connectivity=connectivity,
            input_connectivity=input_connectivity,
            rng=rng,
        )
        Ws.append(W / M.spectral_radius(W))
        W_ins.append(W_in)
    template = ReservoirCell(
        input_size, W=Ws[0], W_in=W_ins[0], bias=0.0, matmul=matmul, esp_warning=False
    )
    if template.sparse:  # one length for every seed: pad with zeros at the last row
        coos = [M.to_coo(W) for W in Ws]
        n = max(len(v) for _, _, v in coos)
        pad = lambda a, fill: np.concatenate([a, np.full(n - len(a), fill, a.dtype)])
        rec = tuple(
            np.stack([pad(c[i], units - 1 if i == 0 else 0) for c in coos]) for i in range(3)
        )
    else:
        rec = np.stack([W.toarray() if sp.issparse(W) else W for W in Ws])
    return template, rec, np.stack(W_ins)


def _cell_for(template, rec, W_in, sr, lr, isc):
    """The template cell with one seed's matrices, scaled by one trial's values."""
    if template.sparse:
        rows, cols, vals = rec
        return eqx.tree_at(
            lambda c: (c.W_rows, c.W_cols, c.W_vals, c.W_in, c.lr),
            template,
            (rows, cols, vals * sr, W_in * isc, lr),
        )
    return eqx.tree_at(lambda c: (c.W, c.W_in, c.lr), template, (rec * sr, W_in * isc, lr))


def search(
    train,
    test,
    trials: dict,
    *,
    units: int = 100,
    seeds=5,
    connectivity: float = 0.1,
    input_connectivity: float = 0.1,
    warmup: int = 0,
    matmul: str = "auto",
    chunk: int | None = None,
) -> SearchResult:
    """Score every trial of ``trials`` on every seed: fit a ridge readout on ``train``
    ``(x (T, D), y (T, O))``, forecast ``test`` continuing from the last training state
    (as ReservoirPy's ``run`` after ``fit``) and take the NRMSE (max - min).

    ``trials`` maps hyperparameter names (:data:`HYPERPARAMETERS`) to one value per
    trial, (n,) (see :func:`random_trials`); a missing one is fixed at 1 (ridge at 0).
    ``seeds``: a number (seeds 0, 1, ...) or the seeds themselves; ReservoirPy's
    tutorials advise several per setting. ``chunk``: (trial, seed) pairs vmapped
    together (``lax.map``'s batch); by default 1 on a CPU, where batching lowered the
    throughput (16 trials x 3 seeds of 100 units: 29 pairs/s at 1, 19 at 4, 13 at 48,
    the batched matrices no longer in cache), and 64 on an accelerator.
    The readouts are solved on the device in the default float dtype: enable float64
    (``jax.config.update("jax_enable_x64", True)``) for ridges below about 1e-5.
    """
    x_tr, y_tr = (jnp.asarray(a) for a in train)
    x_te, y_te = (jnp.asarray(a) for a in test)
    if x_tr.ndim != 2 or x_te.ndim != 2 or y_tr.ndim != 2 or y_te.ndim != 2:
        raise UserError("search takes one series: train and test as (x (T, D), y (T, O))")
    unknown = set(trials) - set(HYPERPARAMETERS)
    if unknown:
        raise UserError(f"unknown hyperparameters {sorted(unknown)}; known: {HYPERPARAMETERS}")
    n = len(next(iter(trials.values()))) if trials else 1
    defaults = {"spectral_radius": 1.0, "leak_rate": 1.0, "input_scaling": 1.0, "ridge": 0.0}
    params = {
        k: np.broadcast_to(np.asarray(trials.get(k, v), np.float64), (n,))
        for k, v in defaults.items()
    }
    if np.any(params["spectral_radius"] <= 0) or np.any(params["ridge"] < 0):
        raise UserError("search needs spectral_radius > 0 and ridge >= 0 in every trial")
    if np.any(params["leak_rate"] <= 0) or np.any(params["leak_rate"] > 1):
        raise UserError("search needs leak_rate in (0, 1] in every trial")
    seeds = list(range(seeds)) if np.isscalar(seeds) else list(seeds)
    M.check_units(units)
    template, rec, W_ins = _unit_reservoirs(
        units, x_tr.shape[1], seeds, connectivity, input_connectivity, matmul
    )
    S = len(seeds)
    hp = {k: jnp.asarray(np.repeat(v, S)) for k, v in params.items()}  # (n * S,)
    seed_idx = jnp.tile(jnp.arange(S), n)  # (n * S,)
    mask = warmup_mask(x_tr.shape[0], 1, warmup)[0]
    if chunk is None:
        chunk = 1 if jax.devices()[0].platform == "cpu" else 64
    loss = _score_all(
        template, rec, jnp.asarray(W_ins), hp, seed_idx, x_tr, y_tr, x_te, y_te, mask, chunk
    )
    loss = np.asarray(loss).reshape(n, S)
    i = int(np.nanargmin(np.nanmean(loss, axis=1)))
    best = {"trial": i, "loss": float(np.mean(loss[i]))} | {
        k: float(v[i]) for k, v in params.items()
    }
    return SearchResult(params, loss, best)


@eqx.filter_jit
def _score_all(template, rec, W_ins, hp, seed_idx, x_tr, y_tr, x_te, y_te, mask, chunk):
    dtype = x_tr.dtype

    def one(args):
        s, sr, lr, isc, ridge = args
        rec_s = jax.tree_util.tree_map(lambda a: a[s], rec)
        cell = _cell_for(template, rec_s, W_ins[s], sr, lr, isc)
        states, final = run_reservoir(cell, x_tr)
        readout = solve_ridge(ridge_stats(states, y_tr, mask), ridge.astype(dtype))
        pred = readout(run_reservoir(cell, x_te, final)[0])
        rmse = jnp.sqrt(jnp.mean((pred - y_te) ** 2))
        return rmse / (jnp.max(y_te) - jnp.min(y_te))

    args = (seed_idx, hp["spectral_radius"], hp["leak_rate"], hp["input_scaling"], hp["ridge"])
    return jax.lax.map(one, args, batch_size=chunk)
