"""The window baselines of ``--task charlm``: each head against a NumPy reference,
causality and the window's reach, streams read in chunks, and the command line."""

import json

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _cli import run

from rnnlab.charlm import lm_loss
from rnnlab.models import WINDOW_MODELS, WindowLM

V, E, H, K = 7, 4, 8, 3  # vocabulary, embedding, hidden, window
TINY = ["--hidden", "8", "--embed", "4", "--seq-len", "8", "--batch-size", "2", "--window", "3"]
TINY += ["--steps", "3", "--eval-every", "3", "--log-every", "3"]


def _lm(kind, layers=1, seed=0):
    lm = WindowLM(V, kind, embed=E, hidden=H, layers=layers, window=K, key=jax.random.key(seed))
    if kind == "transformer":  # the relative biases start at 0: give them values to check
        rel = np.random.default_rng(seed).standard_normal(lm.body.rel.shape)
        lm = eqx.tree_at(lambda m: m.body.rel, lm, jnp.asarray(rel, jnp.float32))
    return lm


def _ids(B, T, seed=0):
    return np.random.default_rng(seed).integers(0, V, size=(B, T)).astype(np.int32)


def _np(a):
    return np.asarray(a, np.float64)


def _lin(layer, x):
    return x @ _np(layer.weight).T + _np(layer.bias)


def _windows(x, k):
    """(T, D) -> (T, k * D): the last k rows up to each row, zeros before the start."""
    padded = np.concatenate([np.zeros((k - 1, x.shape[1])), x])
    return np.stack([padded[t : t + k].ravel() for t in range(len(x))])


def _ln(layer, x):
    mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + layer.eps) * _np(layer.weight) + _np(layer.bias)


def _gelu(x):  # the tanh form, jax.nn.gelu's default
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def _attention(attn, rel, x):
    """Sliding-window causal self-attention of one sequence, written from its definition."""
    T, d = x.shape
    heads = attn.heads
    q, k, v = np.split(_lin(attn.qkv, x), 3, axis=1)
    out = np.zeros((T, d))
    dh = d // heads
    for h in range(heads):
        s = slice(h * dh, (h + 1) * dh)
        for i in range(T):
            js = [j for j in range(T) if 0 <= i - j < K]  # the keys in query i's window
            scores = np.array([q[i, s] @ k[j, s] / np.sqrt(dh) + rel[h, i - j] for j in js])
            w = np.exp(scores - scores.max())
            out[i, s] = (w / w.sum()) @ v[js, s]
    return _lin(attn.out, out)


def reference_logits(lm, ids):
    """Logits (T, V) of one stream ``ids`` (T,) read from its start, in NumPy."""
    x = _np(lm.embedding)[ids]  # (T, E)
    body = lm.body
    kind = type(body).__name__
    if kind == "WindowMLP":
        return _lin(body.out, np.tanh(_lin(body.hidden, _windows(x, K))))
    if kind == "Conv1D":
        # The chunk is read after receptive - 1 = 2K - 2 zero vectors, as a stream start.
        x = np.concatenate([np.zeros((2 * K - 2, E)), x])
        h = np.maximum(_lin(body.conv1, _windows(x, K)), 0)
        h = np.maximum(_lin(body.conv2, _windows(h, K)), 0)
        return _lin(body.out, h)[2 * K - 2 :]
    r = body.receptive - 1
    h = _lin(body.embed, np.concatenate([np.zeros((r, E)), x]))  # no absolute positions
    for block in body.blocks:
        h = h + _attention(block.attn, _np(body.rel), _ln(block.ln1, h))
        h = h + _lin(block.down, _gelu(_lin(block.up, _ln(block.ln2, h))))
    return _lin(body.readout, _ln(body.ln, h))[r:]


@pytest.mark.parametrize("kind", WINDOW_MODELS)
def test_loss_against_a_numpy_reference(kind):
    lm = _lm(kind, layers=2 if kind == "transformer" else 1)
    ids = _ids(2, 6)
    x, y = jnp.asarray(ids[:, :-1]), jnp.asarray(ids[:, 1:])
    total, count, _ = lm_loss(None)(lm, (x, y), lm.init_state(2), None)
    want = 0.0
    for row in ids:
        logits = reference_logits(lm, row[:-1])  # (5, V)
        logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
        want -= logp[np.arange(5), row[1:]].sum()
    assert int(count) == 10
    np.testing.assert_allclose(float(total), want, rtol=1e-5)


@pytest.mark.parametrize("kind", WINDOW_MODELS)
def test_causal_and_bounded_by_the_window(kind):
    lm = _lm(kind, layers=2)
    R = lm.receptive
    assert R == {"window-mlp": K, "conv1d": 2 * K - 1, "transformer": 2 * (K - 1) + 1}[kind]
    ids = _ids(1, 12)
    out, _ = lm(jnp.asarray(ids))
    changed = ids.copy()
    changed[0, 7] = (ids[0, 7] + 1) % V  # a future character for the steps before 7
    new, _ = lm(jnp.asarray(changed))
    np.testing.assert_array_equal(out[0, :7], new[0, :7])
    assert not np.allclose(out[0, 7], new[0, 7])  # step 7 reads itself
    assert not np.allclose(out[0, 7 + R - 1], new[0, 7 + R - 1])  # the oldest in reach
    np.testing.assert_allclose(out[0, 7 + R :], new[0, 7 + R :], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", WINDOW_MODELS)
def test_a_stream_read_in_chunks_equals_one_read(kind):
    """The carried ids make chunked training, evaluation and sampling see one stream."""
    lm = _lm(kind, layers=2)
    ids = jnp.asarray(_ids(2, 11))
    whole, end = lm(ids)
    state = lm.init_state(2)
    parts = []
    for a, b in ((0, 4), (4, 5), (5, 11)):  # a chunk of one, as sampling reads
        logits, state = lm(ids[:, a:b], state)
        parts.append(logits)
    np.testing.assert_allclose(jnp.concatenate(parts, 1), whole, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(state, end)
    np.testing.assert_array_equal(end, ids[:, 11 - (lm.receptive - 1) :])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "hamlet.txt"
    path.write_text("to be, or not to be: that is the question.\n" * 30, encoding="utf-8")
    return path


@pytest.mark.parametrize("kind", WINDOW_MODELS)
def test_cli_trains_evaluates_and_samples(kind, corpus, tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--corpus", corpus, "--model", kind, "--out", out, *TINY)
    assert code == 0, err
    saved = json.loads((out / "config.json").read_text())
    assert (saved["model"]["model"], saved["model"]["window"]) == (kind, 3)
    code, stdout, err = run(capsys, "eval", out, "--json")
    assert code == 0, err
    result = json.loads(stdout)
    assert result["task"] == "charlm"
    assert set(result["metrics"]) == {"nats_per_char", "bits_per_char"}
    # three steps from a uniform start: near log(V) nats, not below what a model can reach
    assert 0.5 < result["metrics"]["nats_per_char"] < 1.5 * np.log(17)
    flags = ["--length", "20", "--prime", "to be", "--seed", "1"]
    code, text, err = run(capsys, "sample", out, *flags)
    assert code == 0, err
    assert text.startswith("to be") and len(text) == 5 + 20 + 1  # prime, sample, newline
    assert run(capsys, "sample", out, *flags)[1] == text  # same seed, same text


def test_bad_flags_are_one_line(corpus, tmp_path, capsys):
    out = tmp_path / "run"
    cases = [
        (["--model", "gpt"], "--model must be one of rnn, window-mlp"),
        (["--model", "conv1d", "--dropout", "0.2"], "--dropout applies only with --model rnn"),
        (["--model", "window-mlp", "--window", "0"], "--window must be >= 1"),
        (["--lag", "5"], "--lag does not apply"),
    ]
    for flags, words in cases:
        code, _, err = run(capsys, "train", "--corpus", corpus, "--out", out, *flags)
        assert code == 2 and err.count("\n") == 1 and words in err, (flags, err)
        assert not out.exists()
