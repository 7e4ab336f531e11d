"""rnnlab inspect on runs of tasks that are not text: which sequences are drawn, the
units traced over them, and a classification run end to end."""

import jax
import numpy as np
from _cli import run

import rnnlab
from rnnlab.inspect._tasks import strip, trace_strip
from rnnlab.models import SequenceClassifier
from rnnlab.tasks import SeqData


def test_strip_takes_row_0_or_one_row_per_class():
    x = np.arange(5 * 6 * 2, dtype=np.float32).reshape(5, 6, 2)
    tagged = SeqData(x, np.arange(30).reshape(5, 6) % 3, np.array([4, 6, 6, 6, 6]))
    (only,) = strip(tagged, "tag")
    np.testing.assert_array_equal(only[0], x[0, :4])
    np.testing.assert_array_equal(only[1], [0, 1, 2, 0])
    labelled = SeqData(x, np.array([2, 0, 2, 1, 0]), np.array([6, 3, 5, 2, 6]))
    pieces = strip(labelled, "classify")
    # the first row of class 0 (row 1), of class 1 (row 3), of class 2 (row 0)
    assert [len(p[0]) for p in pieces] == [3, 2, 6]
    assert [p[1].tolist() for p in pieces] == [[0] * 3, [1] * 2, [2] * 6]
    np.testing.assert_array_equal(pieces[1][0], x[3, :2])


def test_trace_strip_restarts_each_piece_from_zero():
    net = SequenceClassifier(2, 3, cell="gru", hidden=4, key=jax.random.key(0))
    rng = np.random.default_rng(0)
    pieces = [(rng.normal(size=(5, 2)).astype(np.float32), np.zeros(5, int)),
              (rng.normal(size=(3, 2)).astype(np.float32), np.ones(3, int))]  # fmt: skip
    layers, x, labels, pred = trace_strip(net, pieces)
    assert labels.tolist() == [0] * 5 + [1] * 3 and x.shape == (8, 2)
    for (xs, _), rows in zip(pieces, (slice(0, 5), slice(5, 8)), strict=True):
        ys, _ = rnnlab.unroll(net.rnn.cells[0][0], xs)  # from the zero state
        np.testing.assert_allclose(layers[0]["h"][rows], ys, atol=1e-6)
        logits = net(xs[None], np.array([len(xs)]))[0]
        assert set(pred[rows].tolist()) == {int(np.argmax(logits))}


def test_classification_run(tmp_path, capsys):
    rng = np.random.default_rng(0)
    y = np.arange(30) % 2
    x = rng.normal(size=(30, 12, 2)).astype(np.float32) + y[:, None, None]
    np.savez(tmp_path / "d.npz", x=x, y=y)
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--task", "classify", "--data", tmp_path / "d.npz",
                       "--hidden", "8", "--steps", "2", "--devices", "1", "--out", out)  # fmt: skip
    assert code == 0, err
    code, stdout, err = run(capsys, "inspect", out, "--out", tmp_path / "look")
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.glob("look_*.png")) == [
        "look_saturation.png",
        "look_signal.png",
    ]
    assert "label 0:" in stdout and "label 1:" in stdout
    code, _, err = run(capsys, "inspect", out, "--text", tmp_path / "d.npz")
    assert code == 2 and "--text does not apply to rnnlab inspect of a classify run" in err
    assert "(it applies to charlm runs)" in err


def test_tasks_it_cannot_draw_are_one_line(tmp_path, capsys):
    (tmp_path / "config.json").write_text('{"task": "numbers", "config": {}}')
    code, _, err = run(capsys, "inspect", tmp_path)
    assert code == 2 and err.count("\n") == 1 and "not --task numbers" in err, err
