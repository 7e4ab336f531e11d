"""Interpretable cells in trained char models: the best unit per detector, per run.

For each run directory given, reads the first ``--chars`` characters of the run's own
test split, traces the model (``c`` and ``h`` of every layer) and reports, for every
detector of :mod:`rnnlab.inspect`, the unit whose activation correlates most with it
(Pearson r). As a control, the same search over the untrained twin of the model (same
config, initial weights): a correlation is only worth naming well above that one.
Prints one JSON object.

    python bench/inspect_cells.py runs/demo runs/inspect-python --chars 20000
"""

from __future__ import annotations

import argparse
import json
import time

from rnnlab.inspect import detect, find_cells, run_text, trace_charlm
from rnnlab.tasks import load_run
from rnnlab.tasks.charlm import vocab_of


def best(model, vocab, text, detectors) -> dict:
    trace = trace_charlm(model, vocab.encode(text))
    found = find_cells(trace.layers, detectors, top=1)
    return {
        det: (
            {
                "layer": rows[0].layer,
                "name": rows[0].name,
                "unit": rows[0].unit,
                "r": round(rows[0].r, 3),
            }
            if rows
            else None
        )  # fmt: skip
        for det, rows in found.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--chars", type=int, default=20000)
    parser.add_argument("--split", default="test")
    args = parser.parse_args()
    out = {"chars": args.chars, "split": args.split, "runs": {}}
    for run_dir in args.runs:
        start = time.perf_counter()
        run = load_run(run_dir)
        config, model, vocab = run.config, run.model, vocab_of(run)
        text = run_text(run_dir, split=args.split, chars=args.chars)
        detectors = detect(text)
        out["runs"][run_dir] = {
            "corpus": config.options.corpus,
            "cell": config.model.cell,
            "hidden": config.model.hidden,
            "layers": config.model.layers,
            "chars": len(text),
            "trained": best(model, vocab, text, detectors),
            "untrained": best(run.task.build_model(config, run.info), vocab, text, detectors),
            "seconds": round(time.perf_counter() - start, 1),
        }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
