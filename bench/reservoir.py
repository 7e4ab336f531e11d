"""Echo state networks: rnnlab against ReservoirPy 0.4.2 (NumPy and JAX backends), same run.

Three sections, each written to ``bench/out/reservoir.json`` and ``.md``:

- ``matmul``: microseconds per reservoir step (one sequence, float32, one ``lax.scan``) of
  the dense recurrent matmul against the sparse one (a gather and a segment sum), by units
  and connectivity: the measurements behind ``ReservoirCell(matmul="auto")``.
- ``fit_run``: ReservoirPy's tutorial 7 on this machine: ``ESN.fit(X, X).run(X)`` over
  a 50,000-step series (Mackey-Glass), input and recurrent connectivity 5/N and 0.1,
  ridge 10, at 100, 1,000 and 10,000 units; rnnlab's ``reservoir.fit`` then the ESN
  forward from the last state. A row too slow for ``--budget`` seconds runs fewer
  steps and is scaled to 50,000 (``steps`` says how many ran; the time is linear in
  the steps). JAX rows give the first call (``cold``, compilation included) and the
  second (``warm``). rnnlab and ReservoirPy-JAX run in float32, ReservoirPy-NumPy in
  float64 (each library's default). rnnlab's ridge sums: ``X^T X`` in float32 like
  ReservoirPy-JAX's (``fit(sums="float32")``, row ``rnnlab``) and in float64, its default
  (row ``rnnlab-float64``); both on the host's BLAS, block by block while the device
  runs the reservoir over the next block. One series: nothing to split over devices.
- ``search``: trials per second of one random search (spectral radius, leak rate,
  ridge; 100 units, Mackey-Glass 10 steps ahead, train 2,000, test 500, several seeds
  per trial) by ``rnnlab.reservoir.search`` (float64, one vmapped computation) and by
  ReservoirPy's ``hyper.parallel_research`` (joblib processes, every core).

    python bench/reservoir.py [--budget 60] [--sizes 100 1000 10000] [--quick] [--keep]

``--keep`` re-measures only the rows asked for and keeps the others of the last run (each
row says the load average it ran under).

Targets (issue 17): rnnlab >= 5x faster than ReservoirPy's JAX backend at 1,000 units,
and >= 10x the trials per second of ``parallel_research``. The machine's load average
is recorded: on a shared machine absolute times move, the same-run ratios less.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from functools import partial
from pathlib import Path

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")
# One BLAS thread for both libraries' host-side sums and solves: on a loaded 2-core
# machine OpenBLAS's threads fought (a 500-unit eig took 12 s instead of 0.7 s).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from rnnlab import reservoir as rc  # noqa: E402

STEPS = 50_000
OUT = Path(__file__).parent / "out"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def clock(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


# --- matmul ----------------------------------------------------------------------------


def matmul_table(sizes, steps=300):
    rows = []
    rng = np.random.default_rng(0)
    run = jax.jit(lambda c, x: rc.run_reservoir(c, x)[1])  # the last state: one scan
    for H in sizes:
        # above 3,000 units only 5/N: the gathered product at 10,000 units and
        # connectivity 0.1 (1,000 entries a row) would take minutes for a row
        for density in (5 / H, 0.02, 0.05, 0.1) if H <= 3000 else (5 / H,):
            W = sp.random_array((H, H), density=density, rng=rng, data_sampler=rng.standard_normal)
            xs = jnp.asarray(rng.standard_normal((steps, 1)), jnp.float32)
            row = {"units": H, "connectivity": round(density, 5)}
            for kind in ("dense", "sparse"):
                if kind == "dense" and H > 5000:
                    continue
                cell = rc.ReservoirCell(1, W=W, W_in=np.ones((H, 1)), leak_rate=0.3, matmul=kind)
                go = partial(lambda c, x: run(c, x).block_until_ready(), cell, xs)
                go()
                t = min(clock(go) for _ in range(3))
                row[f"{kind}_us"] = round(t / steps * 1e6, 2)
            row["load"] = round(os.getloadavg()[0], 1)
            row["auto"] = (
                "sparse" if rc.ReservoirCell(1, W=W, W_in=np.ones((H, 1))).sparse else "dense"
            )
            log("matmul", row)
            rows.append(row)
    return rows


# --- fit + run ---------------------------------------------------------------------------


def rnnlab_fit_run(X, N, conn, sums="float32"):
    def go():  # the draw and the spectral radius are timed too, as in ReservoirPy's fit
        cell = rc.ReservoirCell(
            1, N, connectivity=conn, input_connectivity=conn, esp_warning=False, key=1
        )
        esn, final = rc.fit(cell, X, X, ridge=10.0, return_state=True, sums=sums)
        esn(jnp.asarray(X), final)[0].block_until_ready()

    return go


def rpy_fit_run(X, N, conn, backend):
    import reservoirpy

    if backend == "jax":
        import reservoirpy.jax as mod

        Reservoir, Ridge, ESN = mod.nodes.Reservoir, mod.nodes.Ridge, mod.ESN
    else:
        from reservoirpy.nodes import Reservoir, Ridge

        ESN = reservoirpy.ESN

    def go():
        res = Reservoir(N, rc_connectivity=conn, input_connectivity=conn, seed=1)
        y = ESN(reservoir=res, readout=Ridge(ridge=10.0)).fit(X, X).run(X)
        np.asarray(y)

    return go


def fit_run_row(engine, make, X, N, conn, budget):
    """Seconds of ``make(X[:T])()`` (a fresh model's fit + run) for T = 50,000, measured
    when the estimate fits ``budget``; otherwise ``a + b T`` from two shorter runs (a:
    the fixed cost, compilation included; b: the cost of a step), ``steps`` the longer
    of the two. Each length is run twice and the second time kept: a JAX library may
    reuse its compiled code for a fresh model of the same shapes (rnnlab does;
    ReservoirPy's ``jit`` with a static node compiles every new model again)."""

    def seconds(T):
        go = make(X[:T])
        clock(go)
        return clock(go)

    T1, T2 = 500, 2000
    t1, t2 = seconds(T1), seconds(T2)
    b = max((t2 - t1) / (T2 - T1), 1e-9)
    a = max(t1 - b * T1, 0.0)
    estimate = a + b * STEPS
    if 2 * estimate <= budget:
        T, total = STEPS, seconds(STEPS)
    else:
        T, total = T2, estimate
    row = {
        "engine": engine,
        "units": N,
        "connectivity": conn,
        "steps": T,
        "seconds": round(total, 3),
        "fixed_s": round(a, 3),
        "us_per_step": round(b / 2 * 1e6, 2),  # two passes over the series: fit, then run
        "load": round(os.getloadavg()[0], 1),
    }
    log("fit_run", row)
    return row


def fit_run_table(sizes, budget, connectivities, only=None):
    X = rc.rescale(rc.mackey_glass(STEPS)).astype(np.float32)
    X64 = X.astype(np.float64)
    rows = []
    for N in sizes:
        for conn in connectivities:
            conn = round(5 / N if conn == "5/N" else float(conn), 6)
            engines = (
                ("rnnlab", partial(rnnlab_fit_run, N=N, conn=conn), X),
                ("rnnlab-float64", partial(rnnlab_fit_run, N=N, conn=conn, sums="float64"), X),
                ("reservoirpy-jax", partial(rpy_fit_run, N=N, conn=conn, backend="jax"), X),
                ("reservoirpy-numpy", partial(rpy_fit_run, N=N, conn=conn, backend="numpy"), X64),
            )
            for engine, make, data in engines:
                if only and engine not in only:
                    continue
                rows.append(fit_run_row(engine, make, data, N, conn, budget))
    return rows


# --- search ------------------------------------------------------------------------------


def _rpy_objective(dataset, config, *, sr, lr, ridge):
    """ReservoirPy's tutorial-4 objective: one ESN per instance (seed), NRMSE on test."""
    from reservoirpy.nodes import Reservoir, Ridge
    from reservoirpy.observables import nrmse

    x_tr, y_tr, x_te, y_te = dataset
    losses = []
    for seed in range(config["instances_per_trial"]):
        res = Reservoir(100, sr=sr, lr=lr, input_connectivity=0.2, rc_connectivity=0.1, seed=seed)
        readout = Ridge(ridge=ridge)
        states = res.run(x_tr)
        readout.fit(states, y_tr)
        losses.append(nrmse(y_te, readout.run(res.run(x_te))))
    return {"loss": float(np.mean(losses))}


def search_table(trials, seeds):
    x, y = rc.to_forecasting(rc.rescale(rc.mackey_glass(2510)), 10)
    data = (x[:2000], y[:2000], x[2000:], y[2000:])
    ranges = {"spectral_radius": (1e-2, 10.0), "leak_rate": (1e-3, 1.0), "ridge": (1e-8, 1e1)}
    params = rc.random_trials(trials, seed=0, **ranges)
    rows = []
    with jax.enable_x64(True):
        train = (jnp.asarray(data[0]), jnp.asarray(data[1]))
        test = (jnp.asarray(data[2]), jnp.asarray(data[3]))
        search = lambda: rc.search(
            train, test, params, units=100, seeds=seeds, input_connectivity=0.2, connectivity=0.1
        )
        cold = clock(search)
        res = None

        def warm_run():
            nonlocal res
            res = search()

        warm = clock(warm_run)
    rows.append(
        {
            "engine": "rnnlab search (float64)",
            "trials": trials,
            "seeds": seeds,
            "warm_s": round(warm, 3),
            "cold_s": round(cold, 3),
            "trials_per_s": round(trials / warm, 2),
            "best_loss": round(res.best["loss"], 5),
        }
    )
    log("search", rows[-1])
    from reservoirpy.hyper import parallel_research

    with tempfile.TemporaryDirectory() as tmp:
        config = {
            "exp": "bench",
            "hp_max_evals": trials,
            "hp_method": "random",
            "seed": 0,
            "instances_per_trial": seeds,
            "hp_space": {
                "sr": ["loguniform", *ranges["spectral_radius"]],
                "lr": ["loguniform", *ranges["leak_rate"]],
                "ridge": ["loguniform", *ranges["ridge"]],
            },
        }
        path = Path(tmp) / "config.json"
        path.write_text(json.dumps(config))
        t = clock(lambda: parallel_research(_rpy_objective, data, str(path), tmp))
    rows.append(
        {
            "engine": f"reservoirpy parallel_research ({os.cpu_count()} processes)",
            "trials": trials,
            "seeds": seeds,
            "warm_s": round(t, 3),
            "cold_s": round(t, 3),
            "trials_per_s": round(trials / t, 2),
            "best_loss": None,
        }
    )
    log("search", rows[-1])
    return rows


# --- report -------------------------------------------------------------------------------


def markdown(result):
    """The three tables and the ratios, as Markdown."""
    load = f"load average {result['load_before']} -> {result['load_after']}"
    out = [f"Machine: {result['machine']}; {load}.\n"]
    out += [
        "| units | connectivity | dense us/step | sparse us/step | auto |",
        "|---|---|---|---|---|",
    ]
    for r in result["matmul"]:
        cells = [r["units"], r["connectivity"], r.get("dense_us", "-"), r["sparse_us"], r["auto"]]
        out.append("| " + " | ".join(map(str, cells)) + " |")
    out += [
        "",
        "| units | connectivity | engine | steps run | fit+run 50k steps, s | fixed s | load |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in result["fit_run"]:
        cells = [r["units"], r["connectivity"], r["engine"], r["steps"], r["seconds"]]
        cells += [r["fixed_s"], r.get("load", "-")]
        out.append("| " + " | ".join(map(str, cells)) + " |")
    out += ["", "| search | trials x seeds | seconds | trials/s |", "|---|---|---|---|"]
    for r in result["search"]:
        cells = [r["engine"], f"{r['trials']} x {r['seeds']}", r["warm_s"], r["trials_per_s"]]
        out.append("| " + " | ".join(map(str, cells)) + " |")
    out += ["", "Load `-`: a row kept (`--keep`) from a run that did not record it per row."]
    out += ["", "Ratios (ReservoirPy / rnnlab, rows of the same run):", ""]
    out += [f"- {k}: {v}" for k, v in result["ratios"].items()]
    return "\n".join(out) + "\n"


def ratios(result):
    out = {}
    by = {(r["engine"], r["units"], r["connectivity"]): r for r in result["fit_run"]}
    for (engine, N, conn), r in by.items():
        if engine.startswith("rnnlab"):
            for other in ("reservoirpy-jax", "reservoirpy-numpy"):
                if (other, N, conn) in by:
                    key = f"{other} / {engine} time, {N} units, connectivity {conn}"
                    out[key] = round(by[(other, N, conn)]["seconds"] / r["seconds"], 2)
    s = result["search"]
    if len(s) == 2:
        key = "search trials/s, rnnlab / parallel_research"
        out[key] = round(s[0]["trials_per_s"] / s[1]["trials_per_s"], 2)
    return out


def kept(old, new):
    """``new``'s rows, and those of ``old`` that ``new`` did not measure again."""
    keys = {
        "matmul": lambda r: (r["units"], r["connectivity"]),
        "fit_run": lambda r: (r["engine"], r["units"], r["connectivity"]),
        "search": lambda r: r["engine"].split(" (")[0],
    }
    out = dict(new)
    for section, key in keys.items():
        fresh = {key(r) for r in new[section]}
        out[section] = [r for r in old.get(section, []) if key(r) not in fresh] + new[section]
    out["load_before"] = f"{old['load_before']}, then {new['load_before']}"
    out["load_after"] = f"{old['load_after']}, then {new['load_after']}"
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budget", type=float, default=60.0, help="seconds per fit+run row at most")
    p.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    p.add_argument("--connectivity", nargs="+", default=["5/N", "0.1"])
    p.add_argument("--matmul-sizes", type=int, nargs="*", default=[100, 1000, 3000, 10000])
    p.add_argument("--engines", nargs="*", help="fit+run rows of these engines only")
    p.add_argument("--trials", type=int, default=40)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="a smoke run: small sizes, short budget")
    p.add_argument("--out", type=Path, default=OUT / "reservoir.json")
    p.add_argument("--keep", action="store_true", help="keep the last run's other rows")
    a = p.parse_args()
    if a.quick:
        a.budget, a.sizes, a.matmul_sizes, a.trials, a.seeds = 2.0, [100], [100], 4, 2
    warnings.simplefilter("ignore")  # ReservoirPy's and the echo-state warnings
    platform = jax.devices()[0].platform
    result = {
        "machine": f"{os.cpu_count()} CPU cores, jax {jax.__version__}, {platform}",
        "load_before": round(os.getloadavg()[0], 2),
    }
    result["matmul"] = matmul_table(a.matmul_sizes)
    result["fit_run"] = fit_run_table(a.sizes, a.budget, a.connectivity, a.engines)
    result["search"] = search_table(a.trials, a.seeds) if a.trials else []
    result["load_after"] = round(os.getloadavg()[0], 2)
    if a.keep and a.out.exists():
        result = kept(json.loads(a.out.read_text()), result)
    result["ratios"] = ratios(result)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=1))
    a.out.with_suffix(".md").write_text(markdown(result))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
