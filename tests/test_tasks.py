"""The task registry, its data loaders, heads, baselines and the ``--task`` command line."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _cli import run

from rnnlab.models import SequenceClassifier, last_valid
from rnnlab.tasks import TASKS, SeqData, _aeon, baseline_scores, classify_loss, get_task, tag_loss
from rnnlab.tasks._data import split_rows

TINY = ["--hidden", "8", "--steps", "4", "--eval-every", "4", "--log-every", "2"]


@pytest.fixture(scope="module", autouse=True)
def cache(tmp_path_factory):
    """aeon's parsed files are cached in a fresh directory, not the user's."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RNNLAB_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


# --- data loaders on the real files (counts checked by hand with grep and awk) ---------


def test_parse_ts_by_hand():
    text = "#comment\n@problemName X\n@classLabel true a b\n@data\n1,2,3:4,5,6:b\n7,8:9,10:a\n"
    series, labels, classes = _aeon.parse_ts(text)
    assert classes == ["a", "b"] and labels == ["b", "a"]
    np.testing.assert_array_equal(series[0], [[1, 4], [2, 5], [3, 6]])
    data = _aeon.pad(series, labels, classes)
    assert data.x.shape == (2, 3, 2) and list(data.lengths) == [3, 2] and list(data.y) == [1, 0]
    assert data.x[1, 2].tolist() == [0, 0]  # padding


def test_basic_motions_files():
    for split in ("TRAIN", "TEST"):
        data, classes = _aeon.load("BasicMotions", split)
        assert classes == ["Standing", "Running", "Walking", "Badminton"]
        assert data.x.shape == (40, 100, 6) and set(data.lengths) == {100}
        assert np.bincount(data.y).tolist() == [10, 10, 10, 10]
    again, _ = _aeon.load("BasicMotions", "TEST")  # from the cache now
    np.testing.assert_array_equal(again.x, data.x)
    # first value of the first training series, as in the file
    assert _aeon.load("BasicMotions", "TRAIN")[0].x[0, 0, 0] == pytest.approx(0.079106)


def test_japanese_vowels_files():
    train, classes = _aeon.load("JapaneseVowels", "TRAIN")
    test, _ = _aeon.load("JapaneseVowels", "TEST")
    assert classes == [str(i) for i in range(1, 10)]
    assert train.x.shape == (270, 26, 12) and test.x.shape == (370, 29, 12)
    assert np.bincount(train.y).tolist() == [30] * 9
    assert np.bincount(test.y).tolist() == [31, 35, 88, 44, 29, 24, 40, 50, 29]
    assert (train.lengths.min(), train.lengths.max()) == (7, 26)
    assert (test.lengths.min(), test.lengths.max()) == (7, 29)
    assert np.all(test.x[~test.valid()] == 0)
    task = get_task("vowels")
    splits = task.load_data(task.config()).splits
    assert {k: len(v) for k, v in splits.items()} == {"train": 243, "val": 27, "test": 370}


# --- heads and baselines against hand computations ---------------------------------------


def _logits_model(logits):
    return lambda x, lengths, key=None: jnp.asarray(logits)


def test_classify_loss_by_hand():
    logits = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]], np.float32)
    y = np.array([0, 1])
    total, count, _ = classify_loss(_logits_model(logits), (None, y, None), None, None)
    e = np.exp(logits)
    hand = -np.log(e[0, 0] / e[0].sum()) - np.log(e[1, 1] / e[1].sum())
    assert count == 2 and float(total) == pytest.approx(hand, rel=1e-6)


def test_tag_loss_masks_padding():
    logits = np.array([[[1.0, 0.0], [0.0, 2.0], [9.0, -9.0]]], np.float32)  # (1, 3, 2)
    y = np.array([[0, 1, 1]])
    total, count, _ = tag_loss(_logits_model(logits), (None, y, np.array([2])), None, None)
    hand = np.log(1 + np.exp(-1.0)) + np.log(1 + np.exp(-2.0))  # step 2 is padding
    assert int(count) == 2 and float(total) == pytest.approx(hand, rel=1e-6)


def test_classifier_reads_the_last_valid_step():
    net = SequenceClassifier(3, 4, cell="gru", hidden=5, key=jax.random.key(0))
    x = np.random.default_rng(0).standard_normal((2, 6, 3)).astype(np.float32)
    padded = net(jnp.asarray(x), jnp.array([6, 4]))
    cut = net(jnp.asarray(x[1:, :4]), jnp.array([4]))
    np.testing.assert_allclose(padded[1], cut[0], rtol=1e-5, atol=1e-6)
    ys = jnp.arange(12.0).reshape(2, 3, 2)
    assert last_valid(ys, jnp.array([1, 3])).tolist() == [[0, 1], [10, 11]]


def test_baseline_by_hand():
    train = SeqData(np.zeros((5, 1, 1)), np.array([2, 2, 2, 0, 1]), np.ones(5, np.int32))
    test = SeqData(np.zeros((2, 1, 1)), np.array([2, 0]), np.ones(2, np.int32))
    base = baseline_scores(train, test, 3)
    prior = np.array([2, 2, 4]) / 8  # add-one smoothed counts 1+1, 1+1, 3+1
    assert base["accuracy"] == 0.5
    assert base["loss"] == pytest.approx(-(np.log(prior[2]) + np.log(prior[0])) / 2)
    rows = split_rows(20)
    assert [len(rows[s]) for s in ("train", "val", "test")] == [16, 2, 2]
    assert sorted(np.concatenate(list(rows.values()))) == list(range(20))


# --- the command line: every task trains a few steps and evaluates -------------------------


def _own_data(path, tagged, n=30, T=7, D=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, T, D)).astype(np.float32)
    lengths = rng.integers(2, T + 1, n)
    y = (x[..., 0] > 0).astype(np.int64) if tagged else (x[:, 0, 0] > 0).astype(np.int64)
    np.savez(path, x=x, y=y, lengths=lengths)
    return path


@pytest.fixture(scope="module")
def data_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("own")
    return {
        "classify": _own_data(d / "seqs.npz", tagged=False),
        "tag": _own_data(d / "tags.npz", tagged=True),
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "hamlet.txt"
    path.write_text("to be, or not to be: that is the question.\n" * 30, encoding="utf-8")
    return path


def test_tasks_table_fits_the_terminal(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    code, out, _ = run(capsys, "tasks")
    assert code == 0
    for name in TASKS:
        assert f"│ {name} " in out
    assert "majority class" in out and "unigram" in out
    assert "forget_bias 3.0" in out  # adding's own defaults are listed
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run(capsys, "tasks")
    assert code == 0 and max(len(line) for line in out.splitlines()) <= 80
    for name in TASKS:
        assert name in out  # folded, never cut


@pytest.mark.parametrize("task", ["charlm", "classify", "tag", "motions", "vowels"])
def test_every_task_trains_and_evaluates(task, tmp_path, capsys, data_files, corpus):
    out = tmp_path / "run"
    extra = {
        "charlm": ["--corpus", corpus, "--embed", "4", "--seq-len", "8", "--batch-size", "2"],
        "classify": ["--data", data_files["classify"], "--batch-size", "8"],
        "tag": ["--data", data_files["tag"], "--batch-size", "8", "--cell", "gru"],
        "motions": ["--batch-size", "8"],
        "vowels": ["--batch-size", "8", "--cell", "elman"],
    }[task]
    code, _, err = run(capsys, "train", "--task", task, "--out", out, *TINY, *extra)
    assert code == 0, err
    saved = json.loads((out / "config.json").read_text())
    assert saved["task"] == task
    assert {"best.eqx", "last.eqx", "metrics.jsonl", "loss.png"} <= {p.name for p in out.iterdir()}
    code, stdout, err = run(capsys, "eval", out, "--split", "val", "--json")
    assert code == 0, err
    result = json.loads(stdout)
    assert set(result) == {"task", "split", "metrics", "baseline"}
    assert (result["task"], result["split"]) == (task, "val")
    assert set(result["metrics"]) == set(result["baseline"]) and result["metrics"]
    if task != "charlm":
        assert set(result["metrics"]) == {"loss", "accuracy"}
        assert (out / "confusion_val.png").is_file()
        code, stdout, _ = run(capsys, "eval", out)  # plain text, test split
        assert code == 0 and stdout.startswith("test: model: loss")


def test_charlm_baseline_is_the_unigram(tmp_path):
    from rnnlab.tasks.charlm import unigram_nats

    train, ids = np.array([0, 0, 1]), np.array([1, 0, 1])
    p = np.array([3, 2]) / 5  # add-one: 2+1, 1+1
    assert unigram_nats(train, ids, 2) == pytest.approx(-(np.log(p[0]) + np.log(p[1])) / 2)


# --- bad input: one line, exit 2, nothing written -------------------------------------------

N, T = 12, 5
GOOD = {
    "x": np.zeros((N, T, 2), np.float32),
    "y": np.zeros(N, np.int64),
    "lengths": np.full(N, T),
}
NAN = GOOD["x"].copy()
NAN[3, 1, 0] = np.nan
MALFORMED = {
    "missing-y": ({"x": GOOD["x"]}, "no 'y'"),
    "x-rank": ({**GOOD, "x": np.zeros((N, T))}, "(N, T, D)"),
    "y-rank": ({**GOOD, "y": np.zeros((N, T), np.int64)}, "y must have shape"),
    "n-mismatch": ({**GOOD, "y": np.zeros(N - 1, np.int64)}, "N=12"),
    "nan": ({**GOOD, "x": NAN}, "NaN"),
    "inf": ({**GOOD, "x": NAN * 0 + np.where(np.isnan(NAN), np.inf, 0)}, "NaN or infinite"),
    "negative-label": ({**GOOD, "y": np.full(N, -1)}, ">= 0"),
    "fractional-label": ({**GOOD, "y": np.full(N, 0.5)}, "integer"),
    "long-lengths": ({**GOOD, "lengths": np.full(N, T + 1)}, "1..T=5"),
    "bad-split": ({**GOOD, "split": np.array(["train"] * N)}, "split"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_file(case, tmp_path, capsys):
    arrays, words = MALFORMED[case]
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--task", "classify", "--data", path, "--out", out)
    assert code == 2 and err.count("\n") == 1 and words in err, err
    assert not out.exists()


def test_malformed_tag_file_and_bad_flags(tmp_path, capsys):
    path = tmp_path / "tags.npz"
    np.savez(path, x=GOOD["x"], y=np.zeros((N, T + 1), np.int64))
    out = tmp_path / "run"
    cases = [
        (["--task", "tag", "--data", path], "T=5"),
        (["--task", "tag", "--data", tmp_path / "none.npz"], "no such file"),
        (["--task", "tag"], "--data"),
        (["--task", "nope"], "unknown --task"),
        (["--task", "motions", "--model", "gpt"], "--model"),
        (["--task", "motions", "--corpus", "python"], "--corpus does not apply to --task motions"),
        (["--data", path], "charlm"),
    ]
    for flags, words in cases:
        code, _, err = run(capsys, "train", "--out", out, *flags)
        assert code == 2 and err.count("\n") == 1 and words in err, (flags, err)
        assert not out.exists()


# --- the non-recurrent baselines ------------------------------------------------------------


def test_windows_and_masked_mean_by_hand():
    from rnnlab.models import masked_mean, windows

    xs = jnp.arange(3.0).reshape(1, 3, 1)
    assert windows(xs, 2)[0].tolist() == [[0, 0], [0, 1], [1, 2]]  # oldest step first
    values = jnp.array([[[1.0], [3.0], [100.0]]])
    assert masked_mean(values, jnp.array([2])).tolist() == [[2.0]]


def test_window_mlp_by_hand():
    from rnnlab.models import WindowMLP

    net = WindowMLP(2, 3, hidden=4, window=2, key=jax.random.key(1))
    x = np.random.default_rng(1).standard_normal((1, 4, 2)).astype(np.float32)
    W1, b1 = np.asarray(net.hidden.weight), np.asarray(net.hidden.bias)
    W2, b2 = np.asarray(net.out.weight), np.asarray(net.out.bias)
    padded = np.concatenate([np.zeros((1, 2)), x[0]])  # (5, 2)
    per_step = [W2 @ np.tanh(W1 @ padded[t : t + 2].ravel() + b1) + b2 for t in range(3)]
    got = net(jnp.asarray(x), jnp.array([3]))  # step 3 is padding
    np.testing.assert_allclose(got[0], np.mean(per_step, 0), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("task,model", [("motions", "window-mlp"), ("vowels", "conv1d")])
def test_baseline_models_train_and_evaluate(task, model, tmp_path, capsys):
    out = tmp_path / "run"
    flags = ["--model", model, "--window", "3", "--batch-size", "8"]
    code, _, err = run(capsys, "train", "--task", task, "--out", out, *TINY, *flags)
    assert code == 0, err
    assert json.loads((out / "config.json").read_text())["model"]["model"] == model
    code, stdout, err = run(capsys, "eval", out, "--json")
    assert code == 0 and set(json.loads(stdout)["metrics"]) == {"loss", "accuracy"}, err


def test_tag_has_no_window_baseline(tmp_path, capsys, data_files):
    flags = ["--task", "tag", "--data", data_files["tag"], "--model", "conv1d"]
    code, _, err = run(capsys, "train", "--out", tmp_path / "run", *flags)
    assert code == 2 and "--model must be one of rnn, transformer, esn, got 'conv1d'" in err


def test_official_splits_hold_out_a_tenth_of_each_class():
    task = get_task("motions")
    splits = task.load_data(task.config()).splits
    assert np.bincount(splits["val"].y).tolist() == [1, 1, 1, 1]
    assert np.bincount(splits["train"].y).tolist() == [9, 9, 9, 9]


def test_missing_aeon_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(_aeon.importlib.util, "find_spec", lambda name: None)
    code, _, err = run(capsys, "train", "--task", "vowels", "--out", tmp_path / "run")
    assert code == 2 and err.count("\n") == 1
    assert "pip install 'aeon==1.6.0' --no-deps" in err and not (tmp_path / "run").exists()


def test_resume_continues_a_task_run(tmp_path, capsys, data_files):
    out = tmp_path / "run"
    flags = ["--task", "classify", "--data", data_files["classify"], "--batch-size", "8"]
    assert run(capsys, "train", "--out", out, *flags, *TINY)[0] == 0
    code, _, err = run(capsys, "train", "--out", out, "--resume", "--steps", "6")
    assert code == 0, err
    assert json.loads((out / "progress.json").read_text())["step"] == 6
    code, _, err = run(capsys, "train", "--out", out, "--resume", "--hidden", "9")
    assert code == 2 and "--hidden differs" in err
    code, _, err = run(capsys, "sample", out)
    assert code == 2 and "classify run, which does not generate" in err
    assert "charlm" in err and "chorales" in err


def test_an_unknown_split_is_one_clear_error():
    """Every task's eval reads its split through Dataset.split: a wrong name says which exist."""
    from rnnlab.errors import UserError
    from rnnlab.tasks import Dataset

    part = SeqData(np.zeros((2, 3, 1), np.float32), np.zeros(2, np.int32), np.array([3, 2]))
    data = Dataset({"train": part, "test": part}, ["a"])
    assert data.split("test") is part
    with pytest.raises(UserError, match=r"^--split must be one of train, test, got 'tset'$"):
        data.split("tset")
