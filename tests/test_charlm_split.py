"""``--split`` of the char model (issue 18: Karpathy et al.'s 80/10/10) and its dropout on a
single recurrent layer (before the readout, as char-rnn)."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rnnlab.charlm.model import CharLM
from rnnlab.config import ModelConfig
from rnnlab.data import split_fractions
from rnnlab.errors import UserError
from rnnlab.tasks import get_task


def test_split_fractions_reads_percentages_and_refuses_the_rest():
    assert split_fractions("80/10/10") == (0.8, 0.1, 0.1)
    assert split_fractions("90/5/5") == (0.9, 0.05, 0.05)
    assert split_fractions("99.5/0.5/0") == (0.995, 0.005, 0.0)
    for bad in ("80/10", "80/10/20", "a/b/c", "100/0/0", "0/50/50", "110/-5/-5", "nan/50/50"):
        with pytest.raises(UserError, match="--split must be train/val/test percentages"):
            split_fractions(bad)


def test_charlm_split_80_10_10_cuts_where_a_hand_count_says(tmp_path):
    # 1,003 characters: train round(802.4) = 802, val round(100.3) = 100, test the other 101
    text = "".join(np.random.default_rng(0).choice(list("abcdef \n"), size=1003))
    path = tmp_path / "text.txt"
    path.write_text(text)
    task = get_task("charlm")
    config = task.config(corpus=str(path), split="80/10/10", devices=1)
    task.check(config)
    data = task.load_data(config)
    ids = data.vocab.encode(text)
    assert {k: len(v) for k, v in data.splits.items()} == {"train": 802, "val": 100, "test": 101}
    np.testing.assert_array_equal(data.splits["val"], ids[802:902])
    np.testing.assert_array_equal(data.splits["test"], ids[902:])
    default = task.load_data(task.config(corpus=str(path), devices=1))  # 90/5/5: 903, 50, 50
    assert [len(default.splits[k]) for k in ("train", "val", "test")] == [903, 50, 50]
    with pytest.raises(UserError, match="--split must be"):
        task.check(task.config(corpus=str(path), split="80/20", devices=1))


def test_split_is_fixed_at_resume(tmp_path):
    task = get_task("charlm")
    config = task.config(split="80/10/10", devices=1)
    (tmp_path / "config.json").write_text(json.dumps({**config.to_dict(), "data": {}}))
    with pytest.raises(UserError, match="--split differs"):
        task.resume_config(tmp_path, {"split": "90/5/5"})
    assert task.resume_config(tmp_path, {"steps": 2}).options.split == "80/10/10"


def test_one_layer_dropout_drops_whole_units_before_the_readout():
    """The readout is linear: from the logits with dropout, least squares recovers the
    dropped-out outputs, each either 0 or the undropped one scaled by 1 / (1 - p)."""
    V, H, B, T, p = 12, 5, 4, 60, 0.4
    model = CharLM(V, ModelConfig(cell="elman", hidden=H, onehot=True, dropout=p),
                   key=jax.random.key(0))  # fmt: skip
    ids = jax.random.randint(jax.random.key(1), (B, T), 0, V)
    keys = jax.random.split(jax.random.key(2), B)  # one key per row, as the engine passes
    plain, _ = model(ids)
    dropped, _ = model(ids, key=keys)
    hs, _ = model.rnn(jax.nn.one_hot(ids, V))  # (B, T, H), no dropout
    W, b = np.asarray(model.readout_weight, np.float64), np.asarray(model.readout_bias)
    np.testing.assert_allclose(np.asarray(plain), np.asarray(hs) @ W.T + b, atol=1e-5)
    rhs = (np.asarray(dropped, np.float64) - b).reshape(-1, V).T  # (V, B*T)
    got = np.linalg.lstsq(W, rhs, rcond=None)[0].T.reshape(B, T, H)
    ratio = got / np.asarray(hs)
    zero, kept = np.isclose(ratio, 0, atol=1e-3), np.isclose(ratio, 1 / (1 - p), atol=1e-3)
    assert (zero | kept).all()
    assert abs(zero.mean() - p) < 0.07  # 1,200 units, sd of the fraction 0.014
    # a row's mask comes from its own key alone
    first, _ = model(ids[:1], key=keys[:1])
    np.testing.assert_allclose(np.asarray(first[0]), np.asarray(dropped[0]), atol=1e-5)
    assert jnp.allclose(model(ids)[0], plain)  # no key: no dropout


def test_one_layer_dropout_is_taken_by_charlm_only():
    task = get_task("charlm")
    task.check(task.config(dropout=0.25, devices=1))
    with pytest.raises(UserError, match="--dropout applies only with"):
        get_task("recall").check(get_task("recall").config(dropout=0.25, devices=1))
