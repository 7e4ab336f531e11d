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

    python bench/tasks.py [--tasks motions vowels activity]
                          [--models rnn:lstm rnn:gru window-mlp conv1d transformer]
                          [--seconds 180] [--seeds 3] [--hidden 64] [--window 8]
                          [--devices D] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The metric each task's table reports (``eval --json``'s key), and its label.
PRIMARY = {
    "motions": "accuracy",
    "vowels": "accuracy",
    "activity": "accuracy",
}  # activity: frame accuracy
BIG_STEPS = 10_000_000  # the wall-time budget stops every run, never the step count


def rnnlab(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "rnnlab.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True)


def allowed(task: str) -> tuple[str, ...]:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from rnnlab.tasks import get_task; print(*get_task({task!r}).models)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return tuple(out.stdout.split())


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


def one_run(task: str, model: str, seed: int, args) -> dict:
    kind, _, cell = model.partition(":")
    with tempfile.TemporaryDirectory(prefix="rnnlab-bench-") as tmp:
        out = Path(tmp) / "run"
        flags = ["train", "--task", task, "--out", str(out), "--model", kind]
        flags += ["--cell", cell] if cell else []
        flags += ["--hidden", str(args.hidden), "--seed", str(seed)]
        flags += ["--minutes", f"{args.seconds / 60:.6f}", "--steps", str(BIG_STEPS)]
        flags += ["--window", str(args.window)] if kind in ("window-mlp", "conv1d") else []
        flags += ["--devices", str(args.devices)] if args.devices else []
        start = time.perf_counter()
        train = rnnlab(*flags)
        if train.returncode != 0:
            return {"error": (train.stderr or train.stdout).strip().splitlines()[-1:]}
        ev = rnnlab("eval", str(out), "--split", "test", "--json")
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
    row["steps"] = [r["steps"] for r in good]
    row["seconds"] = [r["seconds"] for r in good]
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tasks", nargs="+", default=["motions", "vowels", "activity"])
    p.add_argument(
        "--models",
        nargs="+",
        default=["rnn:lstm", "rnn:gru", "window-mlp", "conv1d", "transformer"],
    )
    p.add_argument("--seconds", type=float, default=180.0, help="training budget per run")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--window", type=int, default=8, help="window of window-mlp and conv1d")
    p.add_argument("--devices", type=int, default=None)
    p.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = p.parse_args()

    report = {
        "budget_seconds": args.seconds,
        "seeds": args.seeds,
        "hidden": args.hidden,
        "window": args.window,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "tasks": {},
    }
    for task in args.tasks:
        can = allowed(task)
        models = [m for m in args.models if m.partition(":")[0] in can]
        entry = {"metric": PRIMARY.get(task), "baseline": None, "models": {}}
        report["tasks"][task] = entry
        for model in models:
            runs = []
            for seed in range(args.seeds):
                run = one_run(task, model, seed, args)
                runs.append(run)
                if "baseline" in run:
                    entry["baseline"] = run["baseline"]
                print(
                    f"{task} {model} seed {seed}: {run.get('metrics', run.get('error'))}",
                    file=sys.stderr,
                    flush=True,
                )
                entry["models"][model] = summary(runs)
                if args.out:
                    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
