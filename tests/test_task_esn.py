"""The mackey-glass forecasting task through the CLI (train, eval --json) and its data."""

import json

import numpy as np
from _cli import run

from rnnlab.reservoir import mackey_glass, rescale
from rnnlab.tasks.mackey_glass import WINDOW, mackey_glass_splits


def test_windows_match_the_series_and_persistence_by_hand():
    splits = mackey_glass_splits(17.0, 3)
    series = rescale(mackey_glass(sum(len(s) + WINDOW + 2 for s in splits.values()))[:, 0])
    tr = splits["train"]
    assert np.allclose(tr.x[5, :, 0], series[5 : 5 + WINDOW], atol=1e-6)
    assert np.isclose(tr.y[5], series[5 + WINDOW - 1 + 3], atol=1e-6)
    te = splits["test"]
    err = te.x[:, -1, 0] - te.y
    want = np.sqrt((err**2).mean()) / (te.y.max() - te.y.min())  # hand-written NRMSE
    from rnnlab.tasks.mackey_glass import forecast_scores

    assert np.isclose(forecast_scores(te.x[:, -1, 0], te.y)["nrmse"], want, rtol=1e-5)


def test_train_then_eval_json(capsys, tmp_path):
    out = tmp_path / "r"
    code, _, err = run(capsys, "train", "--task", "mackey-glass", "--steps", 10, "--hidden", 4,
                       "--eval-every", 10, "--out", out)  # fmt: skip
    assert code == 0, err
    code, text, err = run(capsys, "eval", out, "--json")
    assert code == 0, err
    assert "nrmse" in text
    json.loads(text[text.index("{") :])
