"""Trials per second of ``rnnlab train --task mackey-glass --model esn --search N``.

Runs the CLI in this process (``--search N``, 3 seeds a trial, the task's defaults: 100
units, 1,000 training windows of 32 steps) and prints JSON: the search's own seconds
(``fit_s`` from ``metrics.jsonl``: the trials' fits and validation, compilation
included), the whole command's wall and CPU seconds (start-up, data, writing the run),
and trials per second of each. Run it through the session's quiet wrapper (one
benchmark at a time, background runs paused); ReservoirPy's ``parallel_research`` on
the same kind of search is in ``bench/out/reservoir.md`` (``bench/reservoir.py``).

Later rows (``--group-mib``) reuse the first one's compiled functions except the
group's own (its shapes change with G), so they carry less compilation.

    python bench/esn_search.py --trials 40 [--label after] [--group-mib 8 2]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--trials", type=int, default=40)
    p.add_argument("--label", default="")
    p.add_argument("--group-mib", type=float, nargs="*", default=[],
                   help="also run with these memory bounds of one group of (trial, seed) "
                        "pairs (MiB; the default is GROUP_BYTES)")  # fmt: skip
    args = p.parse_args()
    from rnnlab.tasks import _esn_search

    rows = [run(args.trials, args.label, None)]
    default = getattr(_esn_search, "GROUP_BYTES", None)
    for mib in args.group_mib:
        _esn_search.GROUP_BYTES = int(mib * 2**20)
        rows.append(run(args.trials, args.label, mib))
    if default is not None:
        _esn_search.GROUP_BYTES = default
    for r in rows:
        print(json.dumps(r))


def run(trials: int, label: str, group_mib: float | None) -> dict:
    """One ``--search`` command in this process, timed."""
    from rnnlab.cli import main as cli

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            cli(["train", "--task", "mackey-glass", "--model", "esn", "--search",
                 str(trials), "--out", str(out)])  # fmt: skip
        except SystemExit as e:
            if e.code:
                raise
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        fit_s = json.loads((out / "metrics.jsonl").read_text().splitlines()[0])["fit_s"]
    return {
        "label": label, "group_mib": group_mib, "trials": trials, "seeds": 3, "units": 100,
        "search_s": fit_s, "trials_per_s": round(trials / fit_s, 2),
        "command_wall_s": round(wall, 2), "command_cpu_s": round(cpu, 2),
        "trials_per_command_s": round(trials / wall, 2),
        "load_1min": os.getloadavg()[0],
    }  # fmt: skip


if __name__ == "__main__":
    main()
