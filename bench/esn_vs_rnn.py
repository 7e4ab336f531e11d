"""The echo state network against the gradient-trained LSTM and GRU, at the same wall time.

For each task (vowels, motions, mackey-glass), ``rnnlab train --model esn`` is fitted
(one pass, ridge readout; the time of the whole ``Task.train`` call, data and the
reservoir's draw included), then an LSTM and a GRU (``--model rnn``, the task's defaults)
are trained for the same number of seconds (``--minutes``, checked every ``--log-every``
steps, so a run ends a little past it), and for ``--budget`` seconds as well. Every model
is first run once untimed, so that no timed run pays XLA's compilation.
Each run's test metric (accuracy; mackey-glass: NRMSE, max - min) comes from
``rnnlab eval``'s own code (:meth:`Task.evaluate`). Written to ``bench/out/esn_vs_rnn.json``
and ``.md``.

    nice -n 10 python bench/esn_vs_rnn.py [--budget 30] [--tasks vowels motions mackey-glass]

The reservoirs' settings are ReservoirPy's tutorials' (vowels, per utterance: 500 units,
spectral radius 0.9, leak 0.1, ridge 1e-6; Mackey-Glass: 100 units, leak 0.3, spectral
radius 1.25, ridge 1e-8); motions takes the vowels settings with 300 units and ridge
1e-4 (36 training series). The machine's load average is recorded: times on a shared
machine move, and the gradient runs' budgets are wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import jax  # noqa: E402

from rnnlab.tasks import TASKS  # noqa: E402

OUT = Path(__file__).parent / "out"
TUTORIAL = {"units": 500, "spectral_radius": 0.9, "leak": 0.1, "ridge": 1e-6}
ESN = {
    "vowels": TUTORIAL,
    "motions": {**TUTORIAL, "units": 300, "ridge": 1e-4},
    "mackey-glass": {"units": 100},  # the task's esn defaults: leak 0.3, sr 1.25, ridge 1e-8
}
METRIC = {"vowels": "accuracy", "motions": "accuracy", "mackey-glass": "nrmse"}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def one(task_name: str, values: dict) -> dict:
    """Train one run into a temporary directory; its wall seconds and test metric."""
    task = TASKS[task_name]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        config = task.config(**values)
        t0 = time.perf_counter()
        summary = task.train(out, config)
        seconds = time.perf_counter() - t0
        result = task.evaluate(out, "test", figures=False)
    metric = METRIC[task_name]
    row = {"task": task_name, "seconds": round(seconds, 2), "status": summary["status"],
           "step": summary["step"], metric: result["metrics"][metric],
           "baseline": result["baseline"][metric]}  # fmt: skip
    log(row)
    return row


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budget", type=float, default=30.0, help="seconds of the longer runs")
    p.add_argument("--tasks", nargs="+", default=list(ESN))
    args = p.parse_args()
    load = [os.getloadavg()[0]]
    rows = []
    for name in args.tasks:
        # Untimed first runs: XLA compiles each model once per process, and the timed runs
        # below reuse that code (otherwise the first run of a cell pays its compilation).
        one(name, {"model": "esn", **ESN[name]})
        for cell in ("lstm", "gru"):
            one(name, {"model": "rnn", "cell": cell, "steps": 2, "eval_every": 1})
        esn = one(name, {"model": "esn", **ESN[name]})
        rows.append({"model": "esn", **{k: v for k, v in ESN[name].items()}, **esn})
        for cell in ("lstm", "gru"):
            for seconds in (esn["seconds"], args.budget):
                run = one(name, {"model": "rnn", "cell": cell, "minutes": seconds / 60})
                rows.append({"model": cell, "budget_s": round(seconds, 2), **run})
    load.append(os.getloadavg()[0])
    result = {"machine": {"cores": os.cpu_count(), "jax": jax.__version__,
                          "platform": jax.devices()[0].platform, "load": load},
              "budget_s": args.budget, "rows": rows}  # fmt: skip
    OUT.mkdir(exist_ok=True)
    (OUT / "esn_vs_rnn.json").write_text(json.dumps(result, indent=2) + "\n")
    (OUT / "esn_vs_rnn.md").write_text(markdown(result))
    print(json.dumps(result))


def markdown(result) -> str:
    m = result["machine"]
    lines = [f"Machine: {m['cores']} CPU cores, jax {m['jax']}, {m['platform']}; load average "
             f"{m['load'][0]:.2f} -> {m['load'][1]:.2f}.", "",
             "| task | model | budget, s | wall s | steps | test metric | trivial baseline |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in result["rows"]:
        metric = METRIC[r["task"]]
        budget = "one pass" if r["model"] == "esn" else f"{r['budget_s']:g}"
        steps = "-" if r["model"] == "esn" else r["step"]
        lines.append(f"| {r['task']} | {r['model']} | {budget} | {r['seconds']:.1f} | {steps} | "
                     f"{metric} {r[metric]:.4f} | {r['baseline']:.4f} |")  # fmt: skip
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
