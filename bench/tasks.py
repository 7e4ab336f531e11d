"""Sequence tasks on real data: the RNN against the baselines, same wall-time budget.

For each task and each model the task allows (``rnn:lstm`` and ``rnn:gru`` are
``--model rnn --cell lstm|gru``; ``window-mlp``, ``conv1d``, ``transformer`` are the
task's baselines), and each seed: ``rnnlab train --task T --model M --minutes S/60
--steps <large> --seed s`` into a temporary directory, then ``rnnlab eval DIR --split
test --json``. Each run is its own subprocess (it configures its own devices, and its
time includes JAX's start-up and compilation, inside the same budget for every model).

Prints one JSON object: per task, its metric, the trivial predictor's test scores
(the same for every run: it is computed from the data) and, per model, the test
metrics as mean and sd (sample sd, ddof=1) over the seeds, plus the seconds each run
took in all (train + eval) and the steps it reached. ``--out FILE`` also writes the
object after every run, so that an interrupted benchmark keeps what it measured.

``--jobs 2`` runs two trainings at once, each on one device (``--devices 1``) and pinned
to its own core: on 2 cores this beats one run over 2 devices for the small models
here, whose steps are too short for a split batch to pay, and it overlaps the start-up,
compilation and evaluation that every run pays. The load of the machine (1-minute
average, before and after) is recorded, as other work on it slows every run.

``--table FILE`` prints the Markdown table of a saved result instead of running.

    python bench/tasks.py [--tasks motions vowels activity charlm recall ...]
                          [--models rnn:lstm rnn:gru window-mlp conv1d transformer]
                          [--seconds 180] [--seeds 3] [--hidden 64] [--window W]
                          [--jobs 2] [--devices D] [--out FILE]
                          [--baselines-on motions vowels activity charlm recall | ALL]
    python bench/tasks.py --table FILE
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The metrics each task's table reports (``eval --json``'s keys), the first one primary.
PRIMARY = {
    "motions": ["accuracy"],
    "vowels": ["accuracy"],
    "activity": ["accuracy", "boundary_error"],  # frame accuracy; steps
    "charlm": ["nats_per_char"],
    "recall": ["accuracy"],
    "codetags": ["accuracy", "span_f1"],  # per character
    "speakers": ["accuracy"],
    "numbers": ["exact_match", "cer"],
    "chorales": ["frame_nll", "accuracy"],  # nats per frame; TP / (TP + FP + FN)
    "birdsong": ["nll", "accuracy"],  # nats per syllable
}
LOWER_IS_BETTER = {"nats_per_char", "boundary_error", "cer", "frame_nll", "nll", "loss"}
# Flags that a task needs besides the shared ones (none: the task's defaults).
TASK_FLAGS: dict[str, list[str]] = {}
ALL_TASKS = list(PRIMARY)
# The tasks whose table compares the baselines (the "at least" list); the others
# run the RNNs only (--baselines-on ALL gives every task every model it allows).
BASELINE_TASKS = ["motions", "vowels", "activity", "charlm", "recall"]
BIG_STEPS = 10_000_000  # the wall-time budget stops every run, never the step count
WINDOWED: dict[str, tuple[str, ...]] = {}  # per task, the models whose window --window sets


def rnnlab(*args: str, core: int | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "rnnlab.cli", *args]
    pin = None if core is None else (lambda: os.sched_setaffinity(0, {core}))
    return subprocess.run(cmd, capture_output=True, text=True, preexec_fn=pin)


def allowed(task: str) -> tuple[str, ...]:
    """The task's models (``--model``), and among them those that ``--window`` sets."""
    code = f"from rnnlab.tasks import get_task; t = get_task({task!r}); print(*t.models)"
    code += "; print(*t.windowed)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    models, windowed = out.stdout.splitlines()
    WINDOWED[task] = tuple(windowed.split())
    return tuple(models.split())


def steps_reached(run_dir: Path) -> int | None:
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return None
    last = None
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and "step" in row:
            last = row["step"]
    return last


def one_run(task: str, model: str, seed: int, args, core: int | None = None) -> dict:
    kind, _, cell = model.partition(":")
    with tempfile.TemporaryDirectory(prefix="rnnlab-bench-") as tmp:
        out = Path(tmp) / "run"
        flags = ["train", "--task", task, "--out", str(out), "--model", kind]
        flags += ["--cell", cell] if cell else []
        flags += ["--hidden", str(args.hidden), "--seed", str(seed)]
        flags += ["--minutes", f"{args.seconds / 60:.6f}", "--steps", str(BIG_STEPS)]
        windowed = kind in WINDOWED.get(task, ())
        flags += ["--window", str(args.window)] if windowed and args.window else []
        flags += TASK_FLAGS.get(task, [])
        flags += ["--devices", str(args.devices)] if args.devices else []
        start = time.perf_counter()
        train = rnnlab(*flags, core=core)
        if train.returncode != 0:
            return {"error": (train.stderr or train.stdout).strip().splitlines()[-1:]}
        ev = rnnlab("eval", str(out), "--split", "test", "--json", core=core)
        seconds = time.perf_counter() - start
        if ev.returncode != 0:
            return {"error": (ev.stderr or ev.stdout).strip().splitlines()[-1:]}
        result = json.loads(ev.stdout.strip().splitlines()[-1])
        return {
            "metrics": result["metrics"],
            "baseline": result["baseline"],
            "seconds": round(seconds, 1),
            "steps": steps_reached(out),
        }


def summary(runs: list[dict]) -> dict:
    good = [r for r in runs if "metrics" in r]
    row: dict = {"runs": len(runs), "failed": len(runs) - len(good)}
    if not good:
        row["errors"] = [r.get("error") for r in runs]
        return row
    for key in good[0]["metrics"]:
        values = [r["metrics"][key] for r in good]
        row[key] = {
            "mean": statistics.fmean(values),
            "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
            "values": values,
        }
    row["seeds"] = [r.get("seed") for r in good]
    row["steps"] = [r["steps"] for r in good]
    row["seconds"] = [r["seconds"] for r in good]
    return row


def load() -> float:
    return round(os.getloadavg()[0], 2)


def table(report: dict) -> str:
    """The Markdown table of a result: a row per task and metric, the best mean in bold."""
    models = ["rnn:lstm", "rnn:gru", "window-mlp", "conv1d", "transformer"]
    names = ["LSTM", "GRU", "window-mlp", "conv1d", "transformer"]
    lines = [
        "| task (metric) | " + " | ".join(names) + " | trivial |",
        "|---" * (len(names) + 2) + "|",
    ]
    for task, entry in report["tasks"].items():
        for metric in PRIMARY.get(task, ["accuracy"]):
            rows = entry["models"]
            means = {m: rows[m][metric]["mean"] for m in models if metric in rows.get(m, {})}
            if not means:
                continue
            pick = min if metric in LOWER_IS_BETTER else max
            best = pick(means.values())
            cells = []
            for m in models:
                if m not in means:
                    cells.append("—" if m not in rows else "failed")
                    continue
                v = rows[m][metric]
                text = f"{v['mean']:.3f} ± {v['sd']:.3f}"
                cells.append(f"**{text}**" if v["mean"] == best else text)
            base = (entry.get("baseline") or {}).get(metric)
            base = "—" if base is None else f"{base:.3f}"
            lines.append(f"| {task} ({metric}) | " + " | ".join(cells) + f" | {base} |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tasks", nargs="+", default=ALL_TASKS)
    p.add_argument(
        "--models",
        nargs="+",
        default=["rnn:lstm", "rnn:gru", "window-mlp", "conv1d", "transformer"],
    )
    p.add_argument("--seconds", type=float, default=180.0, help="training budget per run")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument(
        "--window", type=int, default=None, help="window of the baselines (default: the task's)"
    )
    p.add_argument("--jobs", type=int, default=1, help="runs at once, each on one core")
    p.add_argument(
        "--baselines-on", nargs="+", default=BASELINE_TASKS, help="tasks that run the baselines"
    )
    p.add_argument("--devices", type=int, default=None)
    p.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    p.add_argument("--table", type=Path, default=None, help="print the table of a saved result")
    args = p.parse_args()
    if args.table:
        print(table(json.loads(args.table.read_text())))
        return
    if args.jobs > 1:
        args.devices = 1  # one core each

    report = {
        "budget_seconds": args.seconds,
        "seeds": args.seeds,
        "hidden": args.hidden,
        "window": args.window,
        "jobs": args.jobs,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "load_before": load(),
        "tasks": {},
    }
    work = []  # (task, model, seed) in the order of the table
    runs: dict = {}
    for task in args.tasks:
        can = allowed(task)
        every = "ALL" in args.baselines_on or task in args.baselines_on
        models = [m for m in args.models if m.partition(":")[0] in can]
        models = [m for m in models if every or m.startswith("rnn")]
        report["tasks"][task] = {"metric": PRIMARY.get(task), "baseline": None, "models": {}}
        for model in models:
            runs[task, model] = []
            work += [(task, model, seed) for seed in range(args.seeds)]

    def record(task, model, seed, run):
        entry = report["tasks"][task]
        runs[task, model].append({**run, "seed": seed})
        runs[task, model].sort(key=lambda r: r["seed"])  # finished out of order with --jobs
        if "baseline" in run:
            entry["baseline"] = run["baseline"]
        print(
            f"{task} {model} seed {seed}: {run.get('metrics', run.get('error'))}",
            file=sys.stderr,
            flush=True,
        )
        entry["models"][model] = summary(runs[task, model])
        report["load_after"] = load()
        if args.out:
            args.out.write_text(json.dumps(report, indent=1) + "\n")

    # Each worker owns one core (the core is its index among the free slots).
    cores = list(range(min(args.jobs, os.cpu_count() or 1))) if args.jobs > 1 else [None]
    free = list(cores)
    with concurrent.futures.ThreadPoolExecutor(len(cores)) as pool:
        pending = {}
        for item in work:
            if not free:
                done, _ = concurrent.futures.wait(pending, return_when="FIRST_COMPLETED")
                for fut in done:
                    core, item_done = pending.pop(fut)
                    free.append(core)
                    record(*item_done, fut.result())
            core = free.pop(0)
            pending[pool.submit(one_run, *item, args, core)] = (core, item)
        for fut in concurrent.futures.as_completed(list(pending)):
            record(*pending[fut][1], fut.result())
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
