"""``--task recall``: the generator against its definition, what each model can see at the
query, and the command line."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _cli import run

from rnnlab.models import CausalTransformer, Conv1D, LastStep, SequenceClassifier, WindowMLP
from rnnlab.tasks import get_task
from rnnlab.tasks.recall import SIZES, SYMBOLS, recall_data

TINY = ["--hidden", "8", "--steps", "3", "--eval-every", "3", "--log-every", "3"]


def test_generator_follows_its_definition():
    lag, n = 5, 400
    data = recall_data(n, lag, np.random.default_rng(3))
    x, y = data.x, data.y
    assert x.shape == (n, lag + 2, SYMBOLS + 2) and set(data.lengths) == {lag + 2}
    for row in range(n):
        cue = np.zeros(SYMBOLS + 2)
        cue[[y[row], SYMBOLS]] = 1  # the symbol and the cue flag
        np.testing.assert_array_equal(x[row, 0], cue)
        for t in range(1, lag + 1):  # one distractor symbol, no flag
            assert x[row, t, :SYMBOLS].sum() == 1 and x[row, t, SYMBOLS:].sum() == 0
        query = np.zeros(SYMBOLS + 2)
        query[SYMBOLS + 1] = 1
        np.testing.assert_array_equal(x[row, -1], query)
    # labels and distractors cover the alphabet about uniformly (400 draws, 2000 draws)
    assert np.bincount(y, minlength=SYMBOLS).min() > 20
    assert np.bincount(x[:, 1:-1, :SYMBOLS].argmax(-1).ravel(), minlength=SYMBOLS).min() > 150
    again = recall_data(n, lag, np.random.default_rng(3))
    np.testing.assert_array_equal(again.x, x)


def test_splits_are_fixed_and_disjoint_draws():
    task = get_task("recall")
    a = task.load_data(task.config(lag=4, seed=0)).splits
    b = task.load_data(task.config(lag=4, seed=7)).splits
    assert {k: len(v) for k, v in a.items()} == SIZES
    np.testing.assert_array_equal(a["test"].x, b["test"].x)  # the same for every --seed
    assert not np.array_equal(a["train"].x[:200], a["val"].x)


def test_last_step_reads_the_last_valid_step():
    body = WindowMLP(3, 2, hidden=4, window=2, pool=False, key=jax.random.key(0))
    xs = jnp.asarray(np.random.default_rng(0).standard_normal((2, 5, 3)), jnp.float32)
    lengths = jnp.array([5, 3])
    per_step = body(xs, lengths)  # (2, 5, 2)
    got = LastStep(body)(xs, lengths)
    np.testing.assert_array_equal(got, per_step[[0, 1], [4, 2]])


LAG = 20


@pytest.mark.parametrize(
    "make,reach",
    [
        (lambda k: WindowMLP(10, 8, hidden=8, window=8, pool=False, key=k), 8),
        (lambda k: Conv1D(10, 8, hidden=8, window=8, pool=False, key=k), 15),
        (lambda k: CausalTransformer(10, 8, hidden=8, layers=2, context=8, key=k), 15),
    ],
)
def test_a_window_cannot_see_the_cue_an_rnn_can(make, reach):
    """The lecture's claim, before any training: at the query, a window model's answer
    does not depend on the cue once the cue is out of its reach (its gradient there is
    exactly zero); the RNN's does."""

    def cue_gradient(net, lag):
        data = recall_data(4, lag, np.random.default_rng(0))
        xs, lengths = jnp.asarray(data.x), jnp.asarray(data.lengths)
        grads = jax.jit(jax.grad(lambda xs: net(xs, lengths).sum()))(xs)  # (4, T, D)
        return np.abs(np.asarray(grads[:, 0])).max()

    window = LastStep(make(jax.random.key(1)))
    assert window.body.receptive == reach < LAG + 2
    assert cue_gradient(window, LAG) == 0.0
    assert cue_gradient(window, reach - 2) > 1e-4  # a short lag: the cue is in reach
    if reach == 8:  # once is enough for the RNN
        rnn = SequenceClassifier(10, 8, hidden=8, key=jax.random.key(1))
        assert cue_gradient(rnn, LAG) > 0.0


@pytest.mark.parametrize("model", ["rnn", "window-mlp", "conv1d", "transformer"])
def test_cli_trains_and_evaluates(model, tmp_path, capsys):
    out = tmp_path / "run"
    flags = ["--task", "recall", "--model", model, "--lag", "6", "--batch-size", "8"]
    code, _, err = run(capsys, "train", "--out", out, *flags, *TINY)
    assert code == 0, err
    saved = json.loads((out / "config.json").read_text())
    assert (saved["model"]["model"], saved["options"]["lag"]) == (model, 6)
    code, stdout, err = run(capsys, "eval", out, "--json")
    assert code == 0, err
    result = json.loads(stdout)
    assert set(result["metrics"]) == set(result["baseline"]) == {"loss", "accuracy"}
    # the majority class of 2,000 uniform draws over 8 symbols: about 1/8 of the test set
    assert 0.08 < result["baseline"]["accuracy"] < 0.17


def test_bad_lag_is_one_line(tmp_path, capsys):
    out = tmp_path / "run"
    for flags, words in [
        (["--task", "recall", "--lag", "-1"], "--lag must be >= 0"),
        (["--task", "motions", "--lag", "3"], "--lag does not apply to --task motions"),
    ]:
        code, _, err = run(capsys, "train", "--out", out, *flags)
        assert code == 2 and err.count("\n") == 1 and words in err, (flags, err)
        assert not out.exists()
