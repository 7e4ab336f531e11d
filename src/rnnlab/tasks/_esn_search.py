"""``--model esn --search N``: a random search over the reservoir's hyperparameters.

N trials of spectral radius, leak rate, input scaling and ridge, each log-uniform in the
ranges of ReservoirPy's hyperparameter tutorial (:func:`rnnlab.reservoir.random_trials`),
every trial fitted on the reservoirs of :data:`SEEDS` seeds (``--seed``, ``--seed`` + 1,
...), as ReservoirPy's tutorials advise: one draw per seed, normalised to spectral radius
1, then scaled by each trial (the eigenvalue problem is solved once per seed). The trial
with the best mean validation score is the run, on the reservoir of ``--seed``; the table
of every trial lands in ``trials.json``.

The (trial, seed) pairs run as batched computations: a group of G pairs is one ``vmap``
of the reservoir run over each batch of ``--batch-size`` training rows (the seeds'
matrices stacked; each pair's ``W``, ``W_in`` and leak scaled by its trial), the group's
float64 ridge sums ``X^T X``, ``X^T Y`` taken at once on the host (a stacked matmul),
then one small solve per pair; the validation rows run the same way through the G fitted
readouts. G is the largest group whose states (G x batch x T x units) fit in
:data:`GROUP_BYTES`. On a dense reservoir a group holds whole trials, which share each
seed's ``W`` and ``W_in`` (:func:`_shared_features`: one matmul per seed a step over all
their rows, 1.8x faster here than G small batched ones). A pair scores what fitting and
validating it alone gives (``tests/test_esn_cli.py``).
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.cells import activation
from rnnlab.errors import UserError
from rnnlab.reservoir import Readout, RidgeStats, random_trials, solve_ridge_host, warmup_mask
from rnnlab.tasks._data import scaled as standardised
from rnnlab.tasks._esn import (
    PROBABILITIES,
    ClippedReadout,
    _targets,
    reservoir_of,
    score_of,
    training_rows,
    with_cell,
    with_readout,
)
from rnnlab.tasks._supervised import SupervisedTask, scores

SEEDS = 3
RANGES = {"spectral_radius": (1e-2, 10.0), "leak_rate": (1e-3, 1.0),
          "input_scaling": (1e-1, 10.0), "ridge": (1e-8, 1e1)}  # fmt: skip
FIELDS = {"spectral_radius": "spectral_radius", "leak_rate": "leak",
          "input_scaling": "input_scaling", "ridge": "ridge"}  # fmt: skip
# One group's memory bound: the reservoir states of its G pairs over a batch of rows
# (G x batch x T x units in float32, and for a per-step readout their float64 copy on
# the host) and its G recurrent matrices.
GROUP_BYTES = 256 * 2**20


def scaled(cell, spectral_radius, leak, input_scaling):
    """A reservoir of spectral radius 1 and input scaling 1, rescaled to a trial's values
    (numbers, or traced values under ``vmap``)."""
    sr = jnp.asarray(spectral_radius, cell.W_in.dtype)
    W_in, lr = cell.W_in * input_scaling, jnp.asarray(leak, cell.lr.dtype)
    if cell.sparse:
        return eqx.tree_at(lambda c: (c.W_vals, c.W_in, c.lr), cell, (cell.W_vals * sr, W_in, lr))
    return eqx.tree_at(lambda c: (c.W, c.W_in, c.lr), cell, (cell.W * sr, W_in, lr))


def group_size(pairs: int, batch: int, T: int, H: int, per_step: bool) -> int:
    """The most (trial, seed) pairs whose states over a batch fit in :data:`GROUP_BYTES`."""
    per_pair = batch * T * H * (4 + 8 * per_step) + H * H * 4  # bytes
    return int(max(1, min(pairs, GROUP_BYTES // per_pair)))


def search_run(task, data, info, config, report):
    """``(model, config, validation, table)``: the best of ``--search`` trials, the run's
    config with its values, its validation metrics and the table of every trial."""
    m, seed, batch = config.model, config.train.seed, config.train.batch_size
    trials = random_trials(m.search, seed=seed, **RANGES)
    unit = dataclasses.replace(m, spectral_radius=1.0, leak=1.0, input_scaling=1.0)
    D, C, pool = info["features"], info["classes"], task.head == "classify"
    prob = task.name in PROBABILITIES  # the readout's kind, as the run's model has it
    cells = [reservoir_of(unit, D, seed + k) for k in range(SEEDS)]
    problem = task.problem(with_cell(cells[0], C, pool, probabilities=prob), data, config)
    rows = training_rows(problem)
    values = [{FIELDS[k]: float(v[i]) for k, v in trials.items()} for i in range(m.search)]
    pairs = [(i, k) for i in range(m.search) for k in range(SEEDS)]  # trial-major
    G = group_size(len(pairs), batch, rows[0].shape[1], m.units, not pool)
    shared = not cells[0].sparse and G >= SEEDS  # whole trials: the seeds' W shared by them
    G, kind = G - G % SEEDS if shared else G, (C, pool, prob, shared)
    stacked, val = _stacked(cells), _validation(task, data)
    table_scores, firsts, metric = np.full((m.search, SEEDS), np.inf), {}, None
    for start in range(0, len(pairs), G):
        group = pairs[start : start + G]
        hp = [np.asarray([values[i][f] for i, _ in group]) for f in list(FIELDS.values())[:3]]
        hp = tuple(jnp.asarray(a) for a in ([k for _, k in group], *hp))  # seed, sr, leak, input
        ridges = [values[i]["ridge"] for i, _ in group]
        fits = _group_fit(stacked, hp, rows, batch, m.washout, ridges, kind)
        checked = _validate(stacked, hp, fits, val, problem, batch, kind)
        for (i, k), fit, metrics in zip(group, fits, checked, strict=True):
            if metrics is None:  # states not finite: the pair scores inf
                continue
            metric, s = score_of(metrics)
            table_scores[i, k] = s if np.isfinite(s) else np.inf
            if k == 0:
                firsts[i] = fit
    table = [{"trial": i, **values[i], "scores": [float(s) for s in table_scores[i]],
              "mean": float(np.mean(table_scores[i]))} for i in range(m.search)]  # fmt: skip
    best = min(range(m.search), key=lambda i: (table[i]["mean"], i))  # the first of the lowest
    if best not in firsts:
        raise UserError("every trial's reservoir states overflowed; check the inputs")
    config = config.replace(**{k: table[best][k] for k in FIELDS.values()})
    b = values[best]
    cell = scaled(cells[0], b["spectral_radius"], b["leak"], b["input_scaling"])
    model = with_readout(with_cell(cell, C, pool, probabilities=prob), *firsts[best])
    report({"event": "text", "text": format_table(table, best, metric)})
    out = {"metric": metric, "lower_is_better": True, "seeds": [seed + k for k in range(SEEDS)],
           "best": best, "trials": table}  # fmt: skip
    return model, config, problem.evaluate(model), out


def _stacked(cells):
    """The seeds' cells as one cell whose arrays have a leading seed axis (stacked by
    NumPy: no eager device op to compile); a sparse ``W`` padded with zeros on its last
    row to one length."""
    if cells[0].sparse:
        n, H = max(c.W_vals.shape[0] for c in cells), cells[0].hidden_size
        pad = lambda a, fill: np.concatenate([a, np.full(n - a.shape[0], fill, a.dtype)])
        cells = [eqx.tree_at(lambda c: (c.W_rows, c.W_cols, c.W_vals), c,
                             tuple(pad(np.asarray(a), f) for a, f in
                                   ((c.W_rows, H - 1), (c.W_cols, 0), (c.W_vals, 0))))
                 for c in cells]  # fmt: skip
    stack = lambda *a: jnp.asarray(np.stack([np.asarray(x) for x in a]))
    return jax.tree_util.tree_map(stack, *cells)


def _pair_model(stacked, s, sr, lr, isc, kind):
    """Seed ``s``'s reservoir scaled by one trial, as a zero-readout model (traced)."""
    C, pool, prob, _ = kind
    cell = scaled(jax.tree_util.tree_map(lambda a: a[s], stacked), sr, lr, isc)
    return with_cell(cell, C, pool, probabilities=prob)


@eqx.filter_jit
def _group_features(stacked, hp, x, lengths, kind):
    """What each pair's readout reads over the rows ``x``: (G, B, H) or (G, B, T, H)."""
    if kind[3]:
        return _shared_features(stacked, hp, x, lengths, kind[1])

    def one(s, sr, lr, isc):
        model = _pair_model(stacked, s, sr, lr, isc, kind)
        ys, finals = model.rnn(x, lengths=lengths)  # (B, T, H), [(B, H)]
        return finals[0] if model.pool else ys

    return jax.vmap(one)(*hp)


def _shared_features(stacked, hp, x, lengths, pool: bool):
    r""":func:`_group_features` of whole trials on dense reservoirs: the pairs (trial-major,
    G = n x S) share each seed's ``W`` and ``W_in``, scaled by the trial (``\rho`` spectral
    radius, ``a`` leak, ``s`` input scaling), so each step is S matmuls over all n trials'
    rows instead of G small ones: ``x' = (1 - a) x + a f(s (W_in u) + b + \rho (W x))``,
    the cell's step (:class:`rnnlab.reservoir.ReservoirCell`) with its products regrouped.
    As :func:`rnnlab.unroll`: the state holds after a row's length, outputs there are 0."""
    S, H = stacked.W.shape[0], stacked.hidden_size
    sr, lr, isc = (a.reshape(-1, S)[..., None, None] for a in hp[1:])  # (n, S, 1, 1)
    f = activation(stacked.nonlinearity)
    drive = jnp.einsum("btd,shd->tsbh", x, stacked.W_in)  # (T, S, B, H): W_in u per seed
    valid = (jnp.arange(x.shape[1])[None, :] < lengths[:, None]).T[..., None]  # (T, B, 1)

    def step(h, inputs):  # h (n, S, B, H)
        d, v = inputs  # (S, B, H), (B, 1)
        pre = isc * d + stacked.bias[:, None, :] + sr * jnp.einsum("sij,nsbj->nsbi", stacked.W, h)
        new = (1 - lr) * h + lr * f(pre)
        return jnp.where(v, new, h), None if pool else jnp.where(v, new, 0)

    h0 = jnp.zeros((sr.shape[0], S, x.shape[0], H), x.dtype)
    final, ys = jax.lax.scan(step, h0, (drive, valid))  # (n, S, B, H), (T, n, S, B, H)/None
    out = final if pool else jnp.moveaxis(ys, 0, 3)  # (n, S, B, H) or (n, S, B, T, H)
    return out.reshape(-1, *out.shape[2:])  # (G, B, ...)


@eqx.filter_jit
def _group_readout(W, b, feats, prob):
    """Each pair's readout (``W`` (G, H, C), ``b`` (G, C)) of its features (G, ..., H)."""
    kind = ClippedReadout if prob else Readout  # as the run's model reads its outputs
    return jax.vmap(lambda W, b, f: kind(W, b)(f))(W, b, feats)


def _padded(a, batch: int):
    """Rows ``a`` padded with zeros to ``batch`` rows (one compiled shape for every batch)."""
    return np.concatenate([a, np.zeros((batch - len(a), *a.shape[1:]), a.dtype)])


def _group_fit(stacked, hp, rows, batch, washout, ridges, kind):
    """Each pair's ridge readout ``(W_out, b)`` (None where its states are not finite):
    float64 sums over the rows, accumulated batch by batch for the whole group."""
    C, pool = kind[:2]
    sums = None
    for i in range(0, len(rows[0]), batch):
        x, y, lengths = (a[i : i + batch] for a in rows)
        xs, ls = (jnp.asarray(_padded(a, batch)) for a in (x, lengths))
        feats = np.asarray(_group_features(stacked, hp, xs, ls, kind))[:, : len(x)]
        X = feats.astype(np.float64).reshape(feats.shape[0], -1, feats.shape[-1])  # (G, N, H)
        Y = _targets(y, C).reshape(-1, C)  # (N, C) float64
        if not pool:  # the fitted steps: from the washout on, before each row's length
            keep = np.asarray(warmup_mask(x.shape[1], x.shape[0], washout, lengths)).reshape(-1)
            X, Y = X[:, keep], Y[keep]
        Xt = X.transpose(0, 2, 1)  # (G, H, N)
        part = [Xt @ X, Xt @ Y, X.sum(1), Y.sum(0), np.float64(len(Y))]
        sums = part if sums is None else [a + b for a, b in zip(sums, part, strict=True)]
    XtX, XtY, x_sum, y_sum, count = sums
    fits = []
    for g, ridge in enumerate(ridges):
        if not (np.isfinite(XtX[g]).all() and np.isfinite(XtY[g]).all()):
            fits.append(None)
            continue
        r = solve_ridge_host(RidgeStats(XtX[g], XtY[g], x_sum[g], y_sum, count), ridge)
        fits.append((np.asarray(r.W_out), np.asarray(r.bias)))
    return fits


def _validation(task, data):
    """The validation rows and the task's validation metrics of their logits, as its
    ``problem(...).evaluate`` computes them; None for a task that validates otherwise."""
    if task.name == "mackey-glass":
        from rnnlab.tasks.mackey_glass import forecast_scores

        part = data.splits["val"]

        def metrics(logits):
            s = forecast_scores(logits[:, 0], part.y)
            return {"val_loss": s["mse"], "val_nrmse": s["nrmse"]}

        return part, metrics
    own = type(task)
    if own.problem is SupervisedTask.problem and own.validate is SupervisedTask.validate:
        part = standardised(data.splits["val"], data.info())

        def metrics(logits):
            s, _ = scores(logits, part)
            return {"val_loss": s["loss"], "val_accuracy": s["accuracy"]}

        return part, metrics
    return None


def _validate(stacked, hp, fits, val, problem, batch, kind):
    """Each pair's validation metrics (None where its fit is): its logits over the
    validation rows, run for the whole group batch by batch; a task without
    :func:`_validation` evaluates pair by pair."""
    C = kind[0]
    H = stacked.hidden_size
    W = np.stack([np.zeros((H, C)) if f is None else f[0] for f in fits])  # (G, H, C)
    b = np.stack([np.zeros(C) if f is None else f[1] for f in fits])  # (G, C)
    W, b = jnp.asarray(W, stacked.W_in.dtype), jnp.asarray(b, stacked.W_in.dtype)
    if val is None:  # pair by pair, through the task's own evaluation
        return [None if f is None else problem.evaluate(with_readout(
            _pair_model(stacked, s, sr, lr, isc, kind), *f))
            for f, s, sr, lr, isc in zip(fits, *hp, strict=True)]  # fmt: skip
    part, metrics = val
    logits = []
    for i in range(0, len(part), batch):
        x, lengths = (jnp.asarray(_padded(a[i : i + batch], batch)) for a in (part.x, part.lengths))
        n = min(batch, len(part) - i)
        feats = _group_features(stacked, hp, x, lengths, kind)  # (G, batch, ...)
        logits.append(np.asarray(_group_readout(W, b, feats, kind[2]))[:, :n])
    logits = np.concatenate(logits, axis=1)  # (G, N, ...)
    return [None if f is None else metrics(lg) for f, lg in zip(fits, logits, strict=True)]


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
