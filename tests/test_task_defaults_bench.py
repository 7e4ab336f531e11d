"""bench/defaults.py (every task's defaults, a few minutes each) on a budget of seconds:
the command it runs, the criterion it applies and the files it writes."""

import importlib.util
import json
from pathlib import Path

import numpy as np

from rnnlab.tasks import get_task


def _bench():
    path = Path(__file__).parents[1] / "bench" / "defaults.py"
    spec = importlib.util.spec_from_file_location("defaults_bench", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_the_defaults_bench_trains_a_task_and_judges_it(tmp_path, capsys):
    bench = _bench()
    out = tmp_path / "defaults.json"
    got = bench.main(["--tasks", "xor", "--minutes", "0.02", "--out", str(out), "--in-process"])
    row = got["tasks"]["xor"]
    assert "error" not in row, row
    assert row["criterion"] == "error_pos2 <= baseline - 0.1" == str(get_task("xor").criterion)
    assert row["met"] == (row["metrics"]["error_pos2"] <= row["baselines"]["error_pos2"] - 0.1)
    assert row["steps"] >= 1 and row["value"] == row["metrics"]["error_pos2"]
    assert json.loads(out.read_text()) == json.loads(json.dumps(got))
    assert "| xor | error_pos2 <= baseline - 0.1 |" in out.with_suffix(".md").read_text()
    files = bench.own_data(tmp_path)  # the two tasks that read files get learnable ones
    with np.load(files["tag"]) as f:
        x, y = f["x"], f["y"]
    assert y.shape == x.shape[:2] and y[0, 1] == int(x[0, 0, 0] + x[0, 1, 0] > 0)
