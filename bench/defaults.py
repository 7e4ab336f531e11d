"""Every task's defaults learn: each task trained with its own defaults for a few minutes.

For each task: ``rnnlab train --task T --out DIR --minutes M`` and nothing else (the two
tasks that read your data get a small learnable file of this script's, ``--data``), then
``rnnlab eval DIR --split test --json``; the test metric is compared with the trivial
baseline's by the task's stated criterion (:attr:`rnnlab.tasks.Task.criterion`: better by a
margin, or, for a loss such as adding's MSE, at most a fraction of the baseline's). Given
without ``--steps``, ``--minutes`` lifts the step limit: each run trains for M minutes.

Prints one JSON object (per task: criterion, met, metric and baseline values, steps
reached, seconds, the load of the machine) and writes it with a Markdown table beside it
(``--out FILE.json`` -> ``FILE.md``) after every run, so that a stopped benchmark keeps
what it measured. ``--table FILE.json`` prints the table of a saved result.

    python bench/defaults.py [--tasks adding xor ...] [--minutes 4] [--out FILE.json]
    python bench/defaults.py --table FILE.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def own_data(folder: Path) -> dict[str, Path]:
    """Learnable files for ``classify`` (is the sum of channel 0 positive?) and ``tag``
    (is the sum of this step's and the previous step's channel 0 positive?)."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((400, 20, 3)).astype(np.float32)
    classify = folder / "classify.npz"
    np.savez(classify, x=x, y=(x[:, :, 0].sum(1) > 0).astype(np.int64))
    pairs = x[:, :, 0] + np.pad(x[:, :-1, 0], ((0, 0), (1, 0)))  # (N, T)
    tag = folder / "tag.npz"
    np.savez(tag, x=x, y=(pairs > 0).astype(np.int64))
    return {"classify": classify, "tag": tag}


def rnnlab(*args: str, in_process: bool = False, timeout: float = 3600) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``rnnlab ARGS``: a new process (its start-up
    outside the budget, as a user's; killed after ``timeout`` seconds, so that one run
    that hangs does not stop the benchmark), or this one (``in_process``: the smoke test)."""
    if not in_process:
        try:
            done = subprocess.run([sys.executable, "-m", "rnnlab.cli", *args],
                                  capture_output=True, text=True, timeout=timeout)  # fmt: skip
        except subprocess.TimeoutExpired:
            return 124, "", f"timed out after {timeout:.0f} s\n"
        return done.returncode, done.stdout, done.stderr
    import contextlib
    import io

    from rnnlab.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
            code = 0
        except SystemExit as exit_:
            code = exit_.code
    return code, out.getvalue(), err.getvalue()


def one_task(name: str, minutes: float, data: dict, in_process: bool = False) -> dict:
    """Train ``name`` with its defaults for ``minutes``, score the test split, judge."""
    from rnnlab.tasks import get_task

    criterion = get_task(name).criterion
    row = {"criterion": str(criterion), "load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="rnnlab-defaults-") as tmp:
        out = Path(tmp) / "run"
        flags = ["--data", str(data[name])] if name in data else []
        start = time.perf_counter()
        code, _, err = rnnlab(
            "train", "--task", name, "--out", str(out), "--minutes", f"{minutes:g}", *flags,
            in_process=in_process, timeout=60 * minutes + 900,
        )  # fmt: skip
        if code != 0:
            return {**row, "error": err.strip().splitlines()[-1:]}
        row["train_seconds"] = round(time.perf_counter() - start, 1)
        code, text, err = rnnlab("eval", str(out), "--split", "test", "--json",
                                 in_process=in_process)  # fmt: skip
        if code != 0:
            return {**row, "error": err.strip().splitlines()[-1:]}
        result = json.loads(text.strip().splitlines()[-1])
        progress = json.loads((out / "progress.json").read_text())
    metrics, baseline = result["metrics"], result["baseline"]
    return {
        **row,
        "met": bool(criterion.met(metrics, baseline)),
        "metric": criterion.metric,
        "value": metrics[criterion.metric],
        "baseline": baseline[criterion.metric],
        "steps": progress["step"],
        "metrics": metrics,
        "baselines": baseline,
        "load_after": os.getloadavg()[0],
    }


def table(result: dict) -> str:
    lines = [
        f"Each task with its defaults and `--minutes {result['minutes']:g}`, test split "
        f"({result['machine']}).",
        "",
        "| task | criterion | model | trivial | met | steps | load |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in result["tasks"].items():
        if "error" in row:
            lines.append(f"| {name} | {row['criterion']} | error: {row['error']} | | no | | |")
            continue
        load = f"{row['load_before']:.1f}-{row['load_after']:.1f}"
        lines.append(
            f"| {name} | {row['criterion']} | {row['value']:.4g} | {row['baseline']:.4g} | "
            f"{'yes' if row['met'] else '**no**'} | {row['steps']:,} | {load} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    from rnnlab.tasks import TASKS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=sorted(TASKS))
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--table", type=Path, default=None, help="print a saved result's table")
    parser.add_argument("--in-process", action="store_true", help="(the smoke test)")
    args = parser.parse_args(argv)
    if args.table is not None:
        print(table(json.loads(args.table.read_text())), end="")
        return {}
    unknown = set(args.tasks) - set(TASKS)
    if unknown:
        parser.error(f"unknown tasks {sorted(unknown)}; choose among {sorted(TASKS)}")
    result = {
        "minutes": args.minutes,
        "machine": f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}",
        "tasks": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        data = own_data(Path(tmp))
        for name in args.tasks:
            result["tasks"][name] = one_task(name, args.minutes, data, args.in_process)
            if args.out is not None:
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(json.dumps(result, indent=1))
                args.out.with_suffix(".md").write_text(table(result))
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
