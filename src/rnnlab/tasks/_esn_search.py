"""``--model esn --search N``: a random search over the reservoir's hyperparameters.

N trials of spectral radius, leak rate, input scaling and ridge, each log-uniform in the
ranges of ReservoirPy's hyperparameter tutorial (:func:`rnnlab.reservoir.random_trials`),
every trial fitted on the reservoirs of :data:`SEEDS` seeds (``--seed``, ``--seed`` + 1,
...), as ReservoirPy's tutorials advise: one draw per seed, normalised to spectral radius
1, then scaled by each trial (the eigenvalue problem is solved once per seed). The trial
with the best mean validation score is the run, on the reservoir of ``--seed``; the table
of every trial lands in ``trials.json``.
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from rnnlab.reservoir import random_trials
from rnnlab.tasks._esn import (
    PROBABILITIES,
    fit_readout,
    reservoir_of,
    score_of,
    training_rows,
    with_cell,
)

SEEDS = 3
RANGES = {"spectral_radius": (1e-2, 10.0), "leak_rate": (1e-3, 1.0),
          "input_scaling": (1e-1, 10.0), "ridge": (1e-8, 1e1)}  # fmt: skip
FIELDS = {"spectral_radius": "spectral_radius", "leak_rate": "leak",
          "input_scaling": "input_scaling", "ridge": "ridge"}  # fmt: skip


def scaled(cell, spectral_radius: float, leak: float, input_scaling: float):
    """A reservoir of spectral radius 1 and input scaling 1, rescaled to a trial's values."""
    sr = jnp.asarray(spectral_radius, cell.W_in.dtype)
    W_in, lr = cell.W_in * input_scaling, jnp.asarray(leak, cell.lr.dtype)
    if cell.sparse:
        return eqx.tree_at(lambda c: (c.W_vals, c.W_in, c.lr), cell, (cell.W_vals * sr, W_in, lr))
    return eqx.tree_at(lambda c: (c.W, c.W_in, c.lr), cell, (cell.W * sr, W_in, lr))


def search_run(task, data, info, config, report):
    """``(model, config, validation, table)``: the best of ``--search`` trials, the run's
    config with its values, its validation metrics and the table of every trial."""
    m, seed = config.model, config.train.seed
    trials = random_trials(m.search, seed=seed, **RANGES)
    unit = dataclasses.replace(m, spectral_radius=1.0, leak=1.0, input_scaling=1.0)
    D, C, pool = info["features"], info["classes"], task.head == "classify"
    cells = [reservoir_of(unit, D, seed + k) for k in range(SEEDS)]
    prob = task.name in PROBABILITIES  # the readout's kind, as the run's model has it
    problem = task.problem(with_cell(cells[0], C, pool, probabilities=prob), data, config)
    rows = training_rows(problem)
    table, best, kept = [], None, None
    for i in range(m.search):
        values = {FIELDS[k]: float(v[i]) for k, v in trials.items()}
        scores, first = [], None
        for cell in cells:
            trial = scaled(cell, values["spectral_radius"], values["leak"],
                           values["input_scaling"])  # fmt: skip
            model = fit_readout(
                with_cell(trial, C, pool, probabilities=prob),
                rows,
                ridge=values["ridge"],
                batch_size=config.train.batch_size,
            )
            val = problem.evaluate(model)
            metric, score = score_of(val)
            scores.append(score if np.isfinite(score) else np.inf)
            first = (model, val) if first is None else first
        mean = float(np.mean(scores))
        table.append({"trial": i, **values, "scores": scores, "mean": mean})
        if best is None or mean < table[best]["mean"]:
            best, kept = i, first
    config = config.replace(**{k: table[best][k] for k in FIELDS.values()})
    report({"event": "text", "text": format_table(table, best, metric)})
    model, val = kept
    out = {"metric": metric, "lower_is_better": True, "seeds": [seed + k for k in range(SEEDS)],
           "best": best, "trials": table}  # fmt: skip
    return model, config, val, out


def format_table(table: list[dict], best: int, metric: str) -> str:
    """The trials as text, one line each, the best marked."""
    name = "error rate" if metric == "val_accuracy" else metric.removeprefix("val_")
    lines = [f"{'trial':>5} {'sr':>9} {'leak':>9} {'input':>9} {'ridge':>9}  "
             f"mean val {name} over {SEEDS} seeds"]  # fmt: skip
    for r in table:
        shown = 1 + r["mean"] if metric == "val_accuracy" else r["mean"]
        lines.append(f"{r['trial']:>5} {r['spectral_radius']:9.3g} {r['leak']:9.3g} "
                     f"{r['input_scaling']:9.3g} {r['ridge']:9.3g}  {shown:.4f}"
                     + ("  <- best" if r["trial"] == best else ""))  # fmt: skip
    return "\n".join(lines)
