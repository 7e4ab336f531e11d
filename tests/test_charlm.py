"""The character-level language model end to end: training, resume, sampling, eval."""

import json
import math

import jax
import numpy as np
import pytest

from rnnlab import CELLS
from rnnlab.charlm import evaluate, sample
from rnnlab.charlm.hello import train_hello
from rnnlab.data import Vocab
from rnnlab.tasks import get_task, load_run
from rnnlab.tasks.charlm import vocab_of

TEXT = "the cat sat on the mat. the dog sat on the log. a cat and a dog met on a mat.\n" * 40
FRENCH = "Ça déjà vu — l'été à Noël, où es-tu ? 😀🎉 Très bien !\n" * 60


TASK = get_task("charlm")


def small_config(corpus, **fields):
    values = dict(cell="lstm", hidden=32, embed=16, corpus=str(corpus), seq_len=16,
                  batch_size=4, steps=120, eval_every=60, log_every=1, sample_chars=20,
                  warmup=5, lr=1e-2)  # fmt: skip
    return TASK.config(**{**values, **fields})


def train(run_dir, config=None, **kw):
    """The char model's training; with ``resume`` and no config, the run's own."""
    return TASK.train(run_dir, config or TASK.resume_config(run_dir, {}), **kw)


def model_and_vocab(run_dir):
    run = load_run(run_dir)
    return run.model, vocab_of(run)


def unigram_entropy(text):
    _, counts = np.unique(list(text), return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


def losses(run_dir):
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [(r["step"], r["loss"]) for r in rows if "loss" in r]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("charlm")
    corpus = root / "cats.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    run = root / "run"
    summary = train(run, small_config(corpus))
    return run, corpus, summary


def test_loss_falls_below_unigram_entropy(trained):
    run, corpus, summary = trained
    h_unigram = unigram_entropy(TEXT)
    steps = losses(run)
    assert steps[0][1] > h_unigram  # it starts near log(V), above the unigram entropy
    assert summary["best"] < 0.6 * h_unigram
    _, vocab = model_and_vocab(run)
    assert vocab == Vocab.from_text(TEXT)
    assert (run / "loss.png").stat().st_size > 1000


def test_resume_equals_uninterrupted_run(tmp_path):
    corpus = tmp_path / "cats.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    config = small_config(corpus, steps=24, eval_every=8)
    config.model.dropout, config.model.layers = 0.2, 2  # dropout keys must resume too
    full = tmp_path / "full"
    train(full, config)

    def interrupt_at_13(event):
        if event["event"] == "step" and event["step"] == 13:
            raise KeyboardInterrupt

    part = tmp_path / "part"
    stopped = train(part, config, report=interrupt_at_13)
    assert stopped["status"] == "interrupted" and stopped["step"] == 13
    assert len(losses(part)) == 13
    rows = [json.loads(x) for x in (part / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "val_loss" in r] == [8, 13]  # evaluated on stopping
    resumed = train(part, resume=True)
    assert resumed["step"] == 24 and resumed["status"] == "done"
    np.testing.assert_array_equal(np.array(losses(part)), np.array(losses(full)))


def test_sampling_is_deterministic_and_argmax_is_zero_temperature(trained):
    run, _, _ = trained
    model, vocab = model_and_vocab(run)
    draw = lambda seed, **kw: "".join(
        sample(model, vocab, length=60, key=jax.random.key(seed), prime="the ", **kw)
    )
    assert draw(1) == draw(1)
    assert draw(1) != draw(2)
    greedy = draw(0, argmax=True)
    assert draw(5, temperature=1e-4) == greedy == draw(7, temperature=0.0)


def test_evaluate_equals_hand_computed_cross_entropy(trained):
    run, _, _ = trained
    model, vocab = model_and_vocab(run)
    ids = vocab.encode(TEXT[:301])
    logits, _ = model(ids[None, :-1])  # one stream, full history
    logp = jax.nn.log_softmax(np.asarray(logits[0], dtype=np.float64), axis=-1)
    expected = -float(np.mean(np.asarray(logp)[np.arange(300), ids[1:]]))
    got = evaluate(model, ids, batch_size=1, seq_len=7)  # chunks carry the state
    assert got == pytest.approx(expected, rel=1e-5)


def test_utf8_corpus_round_trips(tmp_path):
    corpus = tmp_path / "fr.txt"
    corpus.write_text(FRENCH, encoding="utf-8")
    run = tmp_path / "run"
    train(run, small_config(corpus, steps=30, eval_every=30))
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    assert set("Çéàù😀🎉—") <= set(config["data"]["vocab"])
    model, vocab = model_and_vocab(run)
    assert vocab.decode(vocab.encode(FRENCH)) == FRENCH
    text = "".join(sample(model, vocab, length=5, key=jax.random.key(0), prime="😀🎉"))
    assert len(text) == 5 and set(text) <= set(FRENCH)


@pytest.mark.parametrize("cell", ["elman", "lstm", "gru"])
def test_hello_toy(cell):
    predicted, losses_ = train_hello(cell)
    assert predicted == "ello"
    assert losses_[-1] < 0.05 < math.log(4) - 0.3 < losses_[0]


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_every_cell_trains_and_samples(tmp_path, cell):
    corpus = tmp_path / "cats.txt"
    corpus.write_text(TEXT[:2000], encoding="utf-8")
    config = small_config(corpus, steps=4, eval_every=4, seq_len=8, batch_size=2, sample_chars=5)
    config.model.cell, config.model.hidden, config.model.embed = cell, 8, 4
    summary = train(tmp_path / "run", config)
    rows = losses(tmp_path / "run")
    assert len(rows) == 4 and all(math.isfinite(v) for _, v in rows)
    assert rows[0][1] == pytest.approx(math.log(len(set(TEXT[:2000]))), abs=0.3)  # ~uniform
    assert math.isfinite(summary["best"])
    loaded = load_run(tmp_path / "run")
    model, vocab = loaded.model, vocab_of(loaded)
    assert loaded.config.model.cell == cell
    text = "".join(sample(model, vocab, length=10, key=jax.random.key(0)))
    assert len(text) == 10 and set(text) <= set(TEXT)
