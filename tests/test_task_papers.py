"""--task xor, adding, reber: the papers' generators, their counters, train and eval."""

import json

import jax.numpy as jnp
import numpy as np
import pytest
from _cli import run

from rnnlab.tasks import adding, reber, xor
from rnnlab.tasks._supervised import forget_biased

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
    pred[:3] = 0.05  # three wrong: still solved (the paper's "never more than 3")
    s = adding.adding_scores(pred, y)
    assert (s["wrong"], s["solved"]) == (3, True)
    pred[3] = -0.04  # |error| = 0.04 is not below 0.04
    assert adding.adding_scores(pred, y)["wrong"] == 4
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


def test_reber_masked_criterion_equals_the_set_one():
    rng = np.random.default_rng(1)
    strings = [reber.embedded_string(rng) for _ in range(40)]
    mask = reber.allowed_mask(strings)
    assert mask.shape == (40, max(len(s) for s in strings) - 1, 7)
    # outputs that are right by construction (allowed 1, others 0), then perturbed
    out = mask.astype(float) + rng.normal(0, 0.5, mask.shape)
    got = reber.top_k_right_masked(out, mask)
    for n, s in enumerate(strings):
        want = reber.top_k_right(out[n, : len(s) - 1], reber.allowed_next(s))
        assert (got[n, : len(s) - 1] == want).all()
        assert got[n, len(s) - 1 :].all()  # padding counts as right
    valid = mask.any(-1)
    assert 0.2 < got[valid].mean() < 0.95  # the noise made both kinds
    # by hand: after the first B, T and P are allowed (k = 2): both must beat the rest
    m = reber.allowed_mask(["BTBTXSETE"], 1)
    assert m[0, 0].tolist() == [False, True, True, False, False, False, False]
    one = np.array([[[0.0, 1.0, 0.5, 0.7, 0.0, 0.0, 0.0]]])  # S beats P: wrong
    assert not reber.top_k_right_masked(one, m)[0, 0]
    one[0, 0, 3] = 0.5  # a tie of P and S: wrong
    assert not reber.top_k_right_masked(one, m)[0, 0]
    one[0, 0, 3] = 0.4
    assert reber.top_k_right_masked(one, m)[0, 0]
    assert bool(reber.top_k_right_masked(jnp.asarray(one), jnp.asarray(m))[0, 0])


JSB = {
    "train": [[[60, 64, 67], [62, 65], [60]], [[48, 55], [50], [52, 55, 60], [53]]],
    "valid": [[[57, 60], [59]]],
    "test": [[[43], [96], []]],
}


def test_chorales_read_a_jsb_file_with_its_split(tmp_path):
    from rnnlab.tasks.chorales import jsb_dataset

    path = tmp_path / "jsb.json"
    path.write_text(json.dumps(JSB))
    data = jsb_dataset(path)
    assert {k: len(v) for k, v in data.splits.items()} == {"train": 2, "val": 1, "test": 1}
    first = data.splits["train"]
    assert first.x.shape == (2, 3, 88) and first.lengths.tolist() == [2, 3]
    # frame 0 of the first piece: C4 E4 G4 (MIDI 60, 64, 67) on keys 60-21 ... of A0..C8
    assert np.flatnonzero(first.x[0, 0]).tolist() == [39, 43, 46]
    assert np.flatnonzero(first.y[0, 0]).tolist() == [41, 44]  # the next frame, D4 F4
    assert not data.splits["test"].y[0, 1].any()  # an empty frame: a rest


def test_chorales_from_a_jsb_file_from_the_cli(tmp_path, capsys):
    path = tmp_path / "jsb.json"
    path.write_text(json.dumps(JSB))
    out = tmp_path / "run"
    code, _, err = run(
        capsys,
        "train",
        "--task",
        "chorales",
        "--data",
        path,
        "--out",
        out,
        "--steps",
        "2",
        "--eval-every",
        "2",
        "--hidden",
        "4",
        "--devices",
        "1",
        # Chung et al. 2014's recipe (bench/jsb_paper.py)
        "--cell",
        "peephole",
        "--optimizer",
        "rmsprop",
        "--weight-noise",
        "0.075",
        "--first-frame",
    )
    assert code == 0, err
    saved = json.loads((out / "config.json").read_text())["options"]
    assert saved["weight_noise"] == 0.075 and saved["first_frame"] is True
    code, text, err = run(capsys, "eval", out, "--json")
    assert code == 0, err
    m = json.loads(text)["metrics"]
    assert m["frame_nll"] > 0 and m["frames"] == 3  # the test chorale's 3 frames, the first too
    assert {"frame_nll_first", "frame_nll_rest"} <= set(m)
    path.write_text(json.dumps({"train": [[[200]]], "valid": [], "test": []}))
    code, _, err = run(capsys, "train", "--task", "chorales", "--data", path, "--out",
                       tmp_path / "bad")  # fmt: skip
    assert code == 2 and "is not a JSB chorales JSON file" in err and len(err.splitlines()) == 1
    code, _, err = run(capsys, "train", "--task", "chorales", "--data", path, "--out",
                       tmp_path / "bad", "--weight-noise", "-1")  # fmt: skip
    assert code == 2 and "--weight-noise must be >= 0" in err


def test_charlm_onehot_input_and_uniform_init():
    import jax

    from rnnlab.charlm.model import CharLM
    from rnnlab.config import ModelConfig

    config = ModelConfig(cell="lstm", hidden=5, onehot=True, init=0.08)
    net = CharLM(11, config, key=jax.random.key(0))
    assert net.embedding is None and net.vocab_size == 11
    weights = [a for a in jax.tree_util.tree_leaves(net)]
    assert all(float(abs(a).max()) <= 0.08 for a in weights)
    assert max(float(abs(a).max()) for a in weights) > 0.07  # drawn over the whole range
    # one-hot input: the first step's pre-activation is column `id` of weight_ih
    cell = net.rnn.cells[0][0]
    ids = jnp.array([[3, 7]])
    logits, _ = net(ids)
    a = cell.weight_ih[:, 3] + cell.bias_ih + cell.bias_hh  # (4H,), h0 = 0
    i, f, g, o = jnp.split(a, 4)
    h = jax.nn.sigmoid(o) * jnp.tanh(jax.nn.sigmoid(i) * jnp.tanh(g))
    want = net.readout_weight @ h + net.readout_bias
    np.testing.assert_allclose(logits[0, 0], want, atol=1e-5)
    # an MTRNN keeps its time constants (not weights)
    mt = CharLM(11, ModelConfig(cell="mtrnn", hidden=12, onehot=True, init=0.08),
                key=jax.random.key(0))  # fmt: skip
    assert float(mt.rnn.cells[0][0].tau.max()) > 1.0


def test_charlm_onehot_from_the_cli(tmp_path, capsys):
    out, text = tmp_path / "run", tmp_path / "text.txt"
    text.write_text("the quick brown fox jumps over the lazy dog. " * 40)
    code, _, err = run(capsys, "train", "--out", out, "--corpus", text, "--onehot", "--init",
                       "0.08", "--hidden", "4", "--steps", "2", "--batch-size", "2",
                       "--seq-len", "2", "--eval-every", "2", "--devices", "1")  # fmt: skip
    assert code == 0, err
    saved = json.loads((out / "config.json").read_text())["model"]
    assert saved["onehot"] is True and saved["init"] == 0.08
    code, _, err = run(capsys, "eval", out, "--split", "val")
    assert code == 0, err
    code, _, err = run(capsys, "train", "--task", "xor", "--out", tmp_path / "x", "--onehot")
    assert (
        code == 2
        and "--onehot does not apply to --task xor (it is an option of --task charlm)" in err
    )
    code, _, err = run(capsys, "train", "--out", tmp_path / "y", "--init", "-1")
    assert code == 2 and "--init must be >= 0" in err


def test_adding_forget_bias(tmp_path, capsys):
    import jax

    from rnnlab.models import SequenceClassifier

    for cell, block, gates in (("lstm", 1, 4), ("cifg", 0, 3)):
        net = SequenceClassifier(2, 1, cell=cell, hidden=3, key=jax.random.key(0))
        new = forget_biased(net, 3.0)
        old_c, new_c = net.rnn.cells[0][0], new.rnn.cells[0][0]
        b = np.asarray(new_c.bias_ih + new_c.bias_hh).reshape(gates, 3)
        np.testing.assert_allclose(b[block], 3.0)  # f = sigmoid(3) = 0.95 at the start
        others = [g for g in range(gates) if g != block]
        np.testing.assert_array_equal(
            b[others], np.asarray(old_c.bias_ih + old_c.bias_hh).reshape(gates, 3)[others]
        )
    out = tmp_path / "run"
    code, _, err = run(
        capsys,
        "train",
        "--task",
        "adding",
        "--out",
        out,
        "--forget-bias",
        "3",
        "--length",
        "8",
        "--hidden",
        "3",
        "--steps",
        "2",
        "--eval-every",
        "2",
    )
    assert code == 0, err
    cell = json.loads((out / "config.json").read_text())["model"]
    assert cell["forget_bias"] == 3.0
    code, _, err = run(capsys, "eval", out, "--json")
    assert code == 0, err
    code, _, err = run(capsys, "train", "--task", "adding", "--out", tmp_path / "e",
                       "--cell", "elman", "--forget-bias", "1")  # fmt: skip
    assert code == 2 and "--forget-bias applies only with --model rnn and --cell lstm" in err
    code, _, err = run(capsys, "train", "--task", "xor", "--out", tmp_path / "x",
                       "--forget-bias", "1")  # fmt: skip
    assert code == 2 and "--forget-bias applies only with --model rnn and --cell lstm" in err


def test_fidelity_bench_runs_every_row_on_tiny_budgets(tmp_path):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "bench" / "fidelity.py"
    spec = importlib.util.spec_from_file_location("fidelity", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    jsb, text = tmp_path / "jsb.json", tmp_path / "text.txt"
    jsb.write_text(json.dumps(JSB))
    rng = np.random.default_rng(0)
    text.write_text("".join(rng.choice(list("abcde fgh\n"), size=30_000)))
    out = tmp_path / "fidelity.json"
    got = bench.main([str(a) for a in [
        "--runs", tmp_path / "runs", "--out", out, "--seeds", "1", "--xor-passes", "2",
        "--trials", "2", "--reber-cells", "lstm", "--reber-lrs", "0.1", "--reber-strings",
        "20", "--reber-check", "10", "--adding-seqs", "64", "--adding-seeds", "1",
        "--jsb", jsb, "--chorales-steps", "2", "--chorales-seeds", "1", "--chorales-cells",
        "gru", "--corpus", text, "--warpeace-epochs", "1", "--warpeace-sizes", "64",
        "--warpeace-models", "lstm", "gru", "--rows", *bench.ROWS, "chorales-paper",
        "--jsb-paper-cells", "elman", "--jsb-paper-lrs", "2", "--jsb-paper-steps", "2",
        "--jsb-paper-eval", "1",
    ]])  # fmt: skip
    assert json.loads(out.read_text()) == json.loads(json.dumps(got, default=str))
    assert set(got) == {"budgets", *bench.ROWS, "chorales-paper"}
    assert got["xor"]["nets"]["elman-2"]["converged"] in {"0/1", "1/1"}
    lstm = got["reber"]["cells"]["lstm"]["lr 0.1"]
    assert lstm["solved"] == f"{sum(s is not None for s in lstm['strings_to_solve'])}/2"
    adding = got["adding"]["models"]
    assert adding.keys() == {"lstm", "lstm-forget-bias-3", "lstm1997"}
    assert adding["lstm"]["baseline_mse"] == pytest.approx(1 / 24, rel=0.1)  # the mean's MSE
    assert got["chorales"]["models"]["gru"]["paper"] == 8.54
    elman = got["chorales-paper"]["models"]["elman"]
    assert elman["paper"] == 9.10 and elman["learning_rates"] == len(elman["runs"]) == 2
    assert elman["best_of_n"]["val"] == min(r["best_val"] for r in elman["runs"])
    assert elman["recurrent_params"] == 100 * (88 + 100) + 2 * 100  # two bias vectors
    for r in elman["runs"]:  # the first frames are scored: their NLL and the rest's mix
        f, rest = r["test_frame_nll_first"], r["test_frame_nll_rest"]
        assert min(f, rest) - 1e-3 <= r["test_frame_nll"] <= max(f, rest) + 1e-3
    # a rerun skips the finished rows and the finished sweep (its JSON line)
    lines = (tmp_path / "runs" / "jsb-paper.jsonl").read_text().splitlines()
    again = bench.main(["--runs", str(tmp_path / "runs"), "--out", str(out), "--jsb", str(jsb),
                        "--rows", "xor", "chorales-paper", "--jsb-paper-cells", "elman",
                        "--jsb-paper-lrs", "2", "--jsb-paper-steps", "2"])  # fmt: skip
    assert again["xor"] == got["xor"] and again["chorales-paper"]["models"] == got[
        "chorales-paper"]["models"]  # fmt: skip
    assert (tmp_path / "runs" / "jsb-paper.jsonl").read_text().splitlines() == lines
    wp = got["warpeace"]["models"]
    assert set(wp) == {"lstm-64", "gru-64"} and wp["lstm-64"]["hidden"] == 64
    # the other cells are sized to the LSTM's parameter count
    assert abs(wp["gru-64"]["params"] - wp["lstm-64"]["params"]) < 0.05 * wp["lstm-64"]["params"]


def test_charlm_forget_bias_after_the_uniform_draw(tmp_path, capsys):
    import jax

    from rnnlab.charlm.model import CharLM
    from rnnlab.config import ModelConfig

    config = ModelConfig(cell="lstm", hidden=5, onehot=True, init=0.08, forget_bias=1.0)
    cell = CharLM(11, config, key=jax.random.key(0)).rnn.cells[0][0]
    b_ih, b_hh = np.asarray(cell.bias_ih).reshape(4, 5), np.asarray(cell.bias_hh).reshape(4, 5)
    assert (b_ih[1] == 1.0).all() and (b_hh[1] == 0.0).all()  # gates i, f, g, o
    assert abs(b_ih[[0, 2, 3]]).max() <= 0.08 and abs(b_hh[[0, 2, 3]]).max() <= 0.08
    code, _, err = run(capsys, "train", "--out", tmp_path / "g", "--cell", "gru",
                       "--forget-bias", "1")  # fmt: skip
    assert code == 2 and "--forget-bias applies only with --model rnn and --cell lstm" in err
