"""--task xor, adding, reber: the papers' generators, their counters, train and eval."""

import json

import numpy as np
import pytest
from _cli import run

from rnnlab.tasks import adding, reber, xor

# Reber's automaton by hand (Cleeremans et al. 1989, Fig. 1), states after each symbol.
TABLE = {
    ("start", "B"): "b", ("b", "T"): "t", ("b", "P"): "p",
    ("t", "S"): "t", ("t", "X"): "tx", ("p", "T"): "p", ("p", "V"): "pv",
    ("tx", "X"): "p", ("tx", "S"): "end", ("pv", "P"): "tx", ("pv", "V"): "end",
    ("end", "E"): "done",
}  # fmt: skip


def accepts(s):
    state = "start"
    for c in s:
        if (state, c) not in TABLE:
            return False
        state = TABLE[state, c]
    return state == "done"


def embedded(s):
    return s[0] == "B" and s[1] in "TP" and s[-2:] == s[1] + "E" and accepts(s[2:-2])


def test_xor_stream_and_phase_errors():
    bits = xor.xor_stream(3000, np.random.default_rng(0))
    a, b, c = bits.reshape(-1, 3).T
    assert (c == a ^ b).all() and 0.45 < a.mean() < 0.55
    rows = xor.stream_rows(bits)
    assert (rows.y[:, :-1] == rows.x[:, 1:, 0]).all() and rows.y[0, -1] == bits[30]
    # the exact predictor of the XOR bit, 0.5 elsewhere: error 0 at phase 2 only
    p1 = np.full(rows.y.shape, 0.5)
    p1[:, 1::3] = rows.y[:, 1::3]  # targets 2, 5, ... of each row are XORs
    e = xor.error_by_phase(p1, rows.y)
    assert e.tolist() == [0.5, 0.5, 0.0]


def test_adding_targets_and_mean_predictor():
    rng = np.random.default_rng(0)
    for variant, scale in (("paper", 4), ("sum", 1)):
        d = adding.adding_data(50_000, 100, variant, rng)
        v, m = d.x[..., 0], d.x[..., 1]
        assert ((m == 1).sum(1) == 2).all() and (100 <= d.lengths).all() <= 110
        first = (m == 1).argmax(1)
        assert (first < 10).all() and (np.flatnonzero(m[0] == 1)[1] < 50)
        marked = np.where(m == 1, v, 0).sum(1)
        offset = 0.5 if variant == "paper" else 0.0
        np.testing.assert_allclose(d.y, offset + marked / scale, atol=1e-6)
        mse = ((d.y - d.y.mean()) ** 2).mean()
        if variant == "paper":
            assert (v >= -1).all() and v.min() < -0.99 and (m[:, 0] != 0).all()
            # X1 is zeroed when the first pair is marked (1 in 10), X2 when pos2 is (1 in 49)
            expected = (0.9 + (1 - 0.9 / 49)) / 3 / 16
            assert expected == pytest.approx(1 / 24, rel=0.07)
        else:
            assert (v >= 0).all() and set(np.unique(m)) == {0.0, 1.0}
            expected = 1 / 6
        assert mse == pytest.approx(expected, rel=0.02)  # ~4 standard errors


def test_adding_criterion_by_hand():
    y = np.zeros(2560)
    pred = y.copy()
    pred[0] = 0.05  # one wrong: still solved (at most 1 of 2,560)
    s = adding.adding_scores(pred, y)
    assert (s["wrong"], s["solved"]) == (1, True)
    pred[1] = -0.04  # |error| = 0.04 is not below 0.04
    assert adding.adding_scores(pred, y)["wrong"] == 2
    assert not adding.adding_scores(pred, y)["solved"]


def test_reber_strings_and_allowed_sets():
    rng = np.random.default_rng(0)
    strings = [reber.embedded_string(rng) for _ in range(500)]
    assert all(embedded(s) for s in strings) and embedded("BTBTXSETE")
    assert not embedded("BTBTXSEPE") and not embedded("BTBTXXETE")
    assert all(s[1] == s[-2] for s in strings)
    for s in strings[:200]:
        sets = reber.allowed_next(s)
        assert len(sets) == len(s) - 1
        for t, ok in enumerate(sets):
            assert s[t + 1] in ok
            # every symbol the table accepts after the prefix, the embedding's own rule aside
            if 2 <= t < len(s) - 3:
                state = "start"
                for c in s[2 : t + 1]:
                    state = TABLE[state, c]
                assert ok == {c for (q, c) in TABLE if q == state}
    assert reber.allowed_next("BPBTXSEPE")[6:] == [{"P"}, {"E"}]


def test_reber_top_k_by_hand():
    s = "BTBTXSETE"
    sets = reber.allowed_next(s)
    out = np.zeros((len(s) - 1, 7))
    for t, ok in enumerate(sets):
        out[t, [reber.SYMBOLS.index(c) for c in ok]] = 1.0
    assert reber.reber_scores(out[None], [s]) == {
        "steps_right": 1.0, "strings_right": 1, "solved": True,
    }  # fmt: skip
    out[6] = 0.0  # after the inner E: T must come, now a tie of all seven
    out[6, reber.SYMBOLS.index("P")] = 1.0
    got = reber.reber_scores(out[None], [s])
    assert (got["strings_right"], got["solved"]) == (0, False)
    assert got["steps_right"] == pytest.approx(7 / 8)


@pytest.mark.parametrize(
    "task,flags,keys",
    [
        ("xor", ["--steps", "3"], {"error_pos0", "error_pos1", "error_pos2", "rmse"}),
        ("adding", ["--steps", "2", "--length", "12", "--variant", "sum", "--hidden", "4"],
         {"mse", "wrong", "solved"}),
        ("reber", ["--steps", "2", "--hidden", "4"], {"strings_right", "solved", "strings_seen"}),
    ],
)  # fmt: skip
def test_train_and_eval_from_the_cli(tmp_path, capsys, task, flags, keys):
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--task", task, "--out", out, "--eval-every", "2", *flags)
    assert code == 0, err
    code, text, err = run(capsys, "eval", out, "--json")
    assert code == 0, err
    result = json.loads(text)
    assert result["task"] == task and result["split"] == "test"
    assert keys <= set(result["metrics"]) and set(result["metrics"]) <= set(result["baseline"]) | {
        "strings_seen"
    }
    if task == "xor":
        assert (out / "xor_error_val.png").is_file()
        assert result["baseline"]["error"] == pytest.approx(0.5, abs=0.02)


def test_task_flags_are_checked(tmp_path, capsys):
    code, _, err = run(
        capsys, "train", "--task", "xor", "--out", tmp_path / "a", "--variant", "sum"
    )
    assert code == 2 and "--variant does not apply" in err
    code, _, err = run(
        capsys, "train", "--task", "adding", "--out", tmp_path / "b", "--variant", "x"
    )
    assert code == 2 and "--variant must be one of" in err
