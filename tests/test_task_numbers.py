"""``--task numbers``: English number words into French (seq2seq), data to command line."""

import itertools
import json
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _cli import run

from rnnlab.models._seq2seq import BOS, EOS, PAD, Seq2Seq, beam_search, greedy
from rnnlab.tasks import _numbers as data
from rnnlab.tasks.numbers import seq2seq_loss

# --- data: num2words by hand, the split, vocabularies, metrics, the baseline ------------


@pytest.mark.parametrize(
    "n, en, fr",
    [
        (0, "zero", "zéro"),
        (71, "seventy-one", "soixante et onze"),
        (80, "eighty", "quatre-vingts"),
        (97, "ninety-seven", "quatre-vingt-dix-sept"),
        (1000, "one thousand", "mille"),
        (
            999999,
            "nine hundred and ninety-nine thousand, nine hundred and ninety-nine",
            "neuf cent quatre-vingt-dix-neuf mille neuf cent quatre-vingt-dix-neuf",
        ),
    ],
)
def test_pairs_by_hand(n, en, fr):
    p = data.pairs([n])
    assert (p.english, p.french) == ([en], [fr])
    src, src_len, tgt, tgt_len = p.arrays
    assert data.EN.decode(src[0]) == en and src_len[0] == len(en)
    assert data.FR.decode(tgt[0]) == fr and tgt_len[0] == len(fr) + 1  # EOS counts
    assert tgt[0, len(fr)] == EOS and np.all(tgt[0, len(fr) + 1 :] == PAD)


def test_splits_are_disjoint_and_fixed():
    train, val, test = (data.draw(s, n) for s, n in (("train", 3000), ("val", 300), ("test", 600)))
    assert len(set(train)) == 3000 and len(set(test)) == 600
    assert not set(train) & set(test) and not set(train) & set(val) and not set(val) & set(test)
    assert np.all(data.split_of(test) == "test") and np.all(data.split_of(train) == "train")
    assert train.min() >= 0 and train.max() <= data.LARGEST
    assert (train < 100).sum() > 20  # every digit count is drawn, small numbers too
    np.testing.assert_array_equal(data.draw("test", 600), test)  # the same every time
    share = {s: float(np.mean(data.split_of(np.arange(0, 10**6, 7)) == s)) for s in data.SPLITS}
    assert share == pytest.approx({"train": 0.85, "val": 0.05, "test": 0.10}, abs=0.005)


def test_vocabularies_cover_num2words():
    p = data.pairs(np.arange(0, 10**6, 4999).tolist() + [1234, 200, 80000, 300001])
    src, src_len, tgt, tgt_len = p.arrays  # encode raises on an unknown character
    assert max(src_len.max(), tgt_len.max()) < data.MAX_LEN
    assert [data.FR.decode(t) for t in tgt] == p.french


def test_metrics_and_baseline_by_hand():
    assert data.edit_distance("kitten", "sitting") == 3
    assert data.edit_distance("", "abc") == 3 and data.edit_distance("abc", "abc") == 0
    s = data.text_scores(["mille", "cen"], ["mille", "cent"])
    assert s == {"exact_match": 0.5, "cer": pytest.approx(1 / 9)}
    assert data.word_by_word("ninety-seven") == "quatre-vingt-dix sept"
    assert data.word_by_word("two hundred and thirty-four") == "deux cent trente quatre"
    assert data.word_by_word("one thousand, one") == "un mille un"


def test_prime_as_words_or_digits():
    assert data.parse_source(" Ninety-Seven ") == "ninety-seven"
    assert data.parse_source("1,234") == "one thousand, two hundred and thirty-four"
    for bad in ("1000000", "ninety-seven!", ""):
        with pytest.raises(ValueError):
            data.parse_source(bad)


# --- the model: loss, teacher forcing, greedy and beam search ---------------------------


def test_loss_by_hand():
    logits = np.zeros((2, 3, 4), np.float32)
    logits[0, 0] = np.log([1, 2, 3, 4])  # p(3) = 4/10
    tgt = np.array([[3, EOS, PAD], [EOS, PAD, PAD]])
    tgt_len = np.array([2, 1])
    model = lambda *args: jnp.asarray(logits)  # noqa: E731
    total, count, _ = seq2seq_loss(model, (None, None, tgt, tgt_len), None, None)
    assert int(count) == 3  # the padding does not count
    assert float(total) == pytest.approx(-math.log(0.4) + 2 * math.log(4), rel=1e-6)


_forward = eqx.filter_jit(lambda net, *args: net(*args[:4], return_attention=args[4:] == (True,)))


def _model(attention, cell="lstm", tgt_vocab=9, seed=0, scale=1.0):
    net = Seq2Seq(7, tgt_vocab, cell=cell, hidden=6, embed=5, attention=attention,
                  key=jax.random.key(seed))  # fmt: skip
    # larger weights than at initialisation: peaked, different distributions per step
    return jax.tree_util.tree_map(lambda a: a * scale if a.dtype == jnp.float32 else a, net)


SRC = jnp.array([[3, 4, 5, 6, 3], [6, 5, 0, 0, 0]])
SRC_LEN = jnp.array([5, 2])


@pytest.mark.parametrize(
    "attention, cell", [("luong", "lstm"), ("bahdanau", "lstm"), ("none", "gru")]
)
def test_teacher_forcing_equals_stepping_by_hand(attention, cell):
    net = _model(attention, cell)
    tgt = jnp.array([[3, 4, 5, EOS], [8, EOS, PAD, PAD]])
    tgt_len = jnp.array([4, 2])
    logits, a = _forward(net, SRC, SRC_LEN, tgt, tgt_len, True)
    enc, state = eqx.filter_jit(type(net).encode)(net, SRC, SRC_LEN)
    masks = jnp.arange(5)[None, :] < SRC_LEN[:, None]
    state = net.start(state, enc, masks)  # Bahdanau: the encoder outputs ride along
    step = eqx.filter_jit(net.step)
    for r in range(2):
        s = jax.tree_util.tree_map(lambda x, r=r: x[r], state)
        mask = masks[r]
        prev = BOS
        for t in range(int(tgt_len[r])):
            s, logp, a_t = step(s, prev, enc[r], mask)
            np.testing.assert_allclose(logp, jax.nn.log_softmax(logits[r, t]), atol=1e-5)
            np.testing.assert_allclose(a_t, a[r, t], atol=1e-6)
            prev = tgt[r, t]
        if attention != "none":  # padding of the source gets no attention
            assert float(a[r, :, int(SRC_LEN[r]) :].sum()) == 0.0
            np.testing.assert_allclose(a[r, : int(tgt_len[r])].sum(-1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("attention", ["luong", "bahdanau", "none"])
def test_greedy_equals_beam_of_one(attention):
    net = _model(attention, scale=3.0)
    tokens, score, _ = greedy(net, SRC, SRC_LEN, 8)
    beam_tokens, beam_score = beam_search(net, SRC, SRC_LEN, 8, 1)
    np.testing.assert_array_equal(tokens, beam_tokens)
    np.testing.assert_allclose(score, beam_score, rtol=1e-5)


def _scores(net, r, hyps):
    """log p(h | source r) of every hypothesis ``h`` (a tuple of ids): the sum of its
    symbols' log-probabilities under teacher forcing (which equals stepping, above)."""
    n = len(hyps)
    tgt = jnp.array([list(h) + [PAD] * (3 - len(h)) for h in hyps])  # (n, L)
    tgt_len = jnp.array([len(h) for h in hyps])
    src, src_len = jnp.repeat(SRC[r : r + 1], n, 0), jnp.repeat(SRC_LEN[r : r + 1], n, 0)
    logp = jax.nn.log_softmax(_forward(net, src, src_len, tgt, tgt_len))  # (n, L, V)
    picked = jnp.take_along_axis(logp, tgt[:, :, None], axis=2)[:, :, 0]
    return np.asarray(jnp.where(jnp.arange(3) < tgt_len[:, None], picked, 0).sum(1))


def test_beam_search_finds_the_best_hypothesis_by_brute_force():
    L, V = 3, 5  # symbols 0, 1, 3, 4 and EOS (2); hypotheses end at EOS or after L symbols
    others = [v for v in range(V) if v != EOS]
    hyps = [h + (EOS,) for n in range(L) for h in itertools.product(others, repeat=n)]
    hyps += list(itertools.product(others, repeat=L))  # 85 in all
    found_better_than_greedy = False
    for seed in range(2):  # seed 1: the exact search beats greedy on both rows
        net = _model("luong", tgt_vocab=V, seed=seed, scale=2.0)
        tokens, score = beam_search(net, SRC, SRC_LEN, L, len(hyps))
        _, greedy_score, _ = greedy(net, SRC, SRC_LEN, L)
        for r in range(2):
            scores = _scores(net, r, hyps)
            best = hyps[int(np.argmax(scores))]
            got = tuple(int(t) for t in tokens[r][: len(best)])
            assert got == best and float(score[r]) == pytest.approx(max(scores), abs=1e-4)
            assert np.all(np.asarray(tokens[r][len(best) :]) == PAD)
            found_better_than_greedy |= max(scores) > float(greedy_score[r]) + 1e-4
        narrow, narrow_score = beam_search(net, SRC, SRC_LEN, L, 2)
        for r in range(2):  # a narrow beam's score is its hypothesis's log-probability
            seq = [int(t) for t in narrow[r]]
            seq = seq[: seq.index(EOS) + 1] if EOS in seq else seq
            assert float(narrow_score[r]) == pytest.approx(_scores(net, r, [seq])[0], abs=1e-4)
    assert found_better_than_greedy  # the search is not greedy in disguise


# --- the command line -------------------------------------------------------------------


def test_train_eval_sample(tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--task", "numbers", "--out", out, "--size", "40",
                       "--hidden", "8", "--steps", "4", "--eval-every", "2", "--log-every", "2",
                       "--batch-size", "8")  # fmt: skip
    assert code == 0, err
    assert "exact match" in err
    saved = json.loads((out / "config.json").read_text())
    assert saved["task"] == "numbers" and saved["options"]["attention"] == "luong"
    assert (out / "attention_val.png").is_file() and (out / "best.eqx").is_file()
    code, stdout, err = run(capsys, "eval", out, "--json")
    assert code == 0, err
    result = json.loads(stdout)
    assert set(result) == {"task", "split", "metrics", "baseline"}
    assert (result["task"], result["split"]) == ("numbers", "test")
    assert set(result["metrics"]) == {"exact_match", "cer", "loss"}
    assert set(result["baseline"]) == {"exact_match", "cer"}
    assert (out / "attention_test.png").is_file()
    code, stdout, err = run(capsys, "eval", out, "--split", "val")
    assert code == 0 and stdout.startswith("val: model: exact_match"), err
    code, stdout, err = run(capsys, "sample", out, "--prime", "ninety-seven", "--beam", "2")
    assert code == 0, err
    assert set(stdout.strip()) <= set(data.FR_CHARS)
    code, _, err = run(capsys, "sample", out, "--prime", "ninety-seven?")
    assert code == 2 and err.count("\n") == 1
    code, _, err = run(capsys, "train", "--task", "numbers", "--out", tmp_path / "b",
                       "--attention", "dot")  # fmt: skip
    assert code == 2 and "--attention" in err
    code, _, err = run(capsys, "train", "--task", "numbers", "--out", tmp_path / "c",
                       "--dropout", "0.1")  # fmt: skip
    assert code == 2 and "--dropout" in err and not (tmp_path / "c").exists()
