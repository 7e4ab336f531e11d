"""The small transformers: attention by hand, the padding mask, causality, the CLI."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _cli import run

from rnnlab.models import CausalTransformer, TransformerEncoder
from rnnlab.models._transformer import SelfAttention, sinusoids

TINY = ["--hidden", "8", "--steps", "3", "--eval-every", "3", "--log-every", "3"]


@pytest.fixture(scope="module", autouse=True)
def cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RNNLAB_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


def _x(B, T, D, seed=0):
    return jnp.asarray(np.random.default_rng(seed).standard_normal((B, T, D)), jnp.float32)


def test_attention_by_hand():
    attn = SelfAttention(4, 2, key=jax.random.key(0))
    x = np.asarray(_x(1, 3, 4)[0], np.float64)
    mask = np.array([[1, 1, 0], [1, 1, 0], [1, 1, 1]], bool)
    W, b = np.asarray(attn.qkv.weight, np.float64), np.asarray(attn.qkv.bias, np.float64)
    q, k, v = np.split(x @ W.T + b, 3, axis=1)
    heads = []
    for h in range(2):
        s = slice(2 * h, 2 * h + 2)
        scores = q[:, s] @ k[:, s].T / np.sqrt(2)
        scores = np.where(mask, scores, -np.inf)
        w = np.exp(scores - scores.max(1, keepdims=True))
        heads.append((w / w.sum(1, keepdims=True)) @ v[:, s])
    y = np.concatenate(heads, 1) @ np.asarray(attn.out.weight).T + np.asarray(attn.out.bias)
    np.testing.assert_allclose(attn(jnp.asarray(x, jnp.float32), jnp.asarray(mask)), y, atol=1e-5)
    pe = sinusoids(3, 4)
    np.testing.assert_allclose(pe[1], [np.sin(1), np.cos(1), np.sin(1e-2), np.cos(1e-2)], rtol=1e-6)


@pytest.mark.parametrize("pool", [True, False])
def test_padding_does_not_change_valid_outputs(pool):
    net = TransformerEncoder(3, 4, hidden=8, layers=2, pool=pool, key=jax.random.key(0))
    x = _x(2, 7, 3)
    lengths = jnp.array([7, 4])
    out = net(x, lengths)
    noisy = net(x.at[1, 4:].set(100.0), lengths)  # garbage in row 1's padding
    cut = net(x[1:, :4], jnp.array([4]))  # row 1 without its padding at all
    if pool:
        np.testing.assert_allclose(out, noisy, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(out[1], cut[0], rtol=1e-5, atol=1e-5)
    else:
        np.testing.assert_allclose(out[:, :4], noisy[:, :4], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(out[1, :4], cut[0], rtol=1e-5, atol=1e-5)
        assert not np.allclose(out[0, :4], net(x.at[0, 6].set(9.0), lengths)[0, :4])  # sees ahead


def test_the_decoder_is_causal_within_its_context():
    net = CausalTransformer(3, 5, hidden=8, layers=2, context=3, key=jax.random.key(1))
    x, lengths = _x(1, 9, 3), jnp.array([9])
    out = net(x, lengths)
    assert out.shape == (1, 9, 5)
    future = net(x.at[0, 6:].set(5.0), lengths)
    np.testing.assert_allclose(out[0, :6], future[0, :6], rtol=1e-5, atol=1e-6)
    assert not np.allclose(out[0, 6], future[0, 6])
    # with two layers, step 8 reads steps 8-4 .. 8 (two windows of 3); step 3 is out of reach
    past = net(x.at[0, 3].set(5.0), lengths)
    np.testing.assert_allclose(out[0, 8], past[0, 8], rtol=1e-5, atol=1e-6)
    assert not np.allclose(out[0, 5], past[0, 5])


@pytest.mark.parametrize("task", ["motions", "activity"])
def test_cli_transformer(task, tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = run(
        capsys, "train", "--task", task, "--model", "transformer", "--out", out,
        "--batch-size", "8", *TINY,
    )  # fmt: skip
    assert code == 0, err
    code, stdout, err = run(capsys, "eval", out, "--split", "val", "--json")
    assert code == 0, err
    result = json.loads(stdout)
    assert set(result) == {"task", "split", "metrics", "baseline"}
    assert set(result["metrics"]) == set(result["baseline"])
