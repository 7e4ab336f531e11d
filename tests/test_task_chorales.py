"""--task chorales: music21's Bach chorales as piano rolls, the frame NLL, MIDI out."""

import json
import math

import numpy as np
import pytest
from _cli import run

from rnnlab.tasks import chorales
from rnnlab.tasks._data import SeqData
from rnnlab.tasks._midi import midi_bytes, note_name, note_numbers, read_midi

pytest.importorskip("music21")
FEW = ["bach/bwv269", "bach/bwv347", "bach/bwv153.1", "bach/bwv86.6", "bach/bwv267", "bach/bwv281"]


def names(roll_frame):
    return [note_name(m) for m in np.flatnonzero(roll_frame)]


def test_parse_a_chorale_by_hand():
    # Riemenschneider 1 (BWV 269), 3/4: 63 quarter notes; it opens on a G major chord
    # with the bass on G2, which moves up to G3 on the second beat.
    assert chorales.chorale_names()[:2] == FEW[:2]
    roll = chorales.parse_chorale("bach/bwv269")
    assert roll.shape == (63, 128)
    assert names(roll[0]) == ["G2", "B3", "D4", "G4"]
    assert names(roll[1]) == ["G3", "B3", "D4", "G4"]
    assert roll.sum(1).max() == 4  # four voices, never more
    sixteenths = chorales.parse_chorale("bach/bwv269", 0.25)
    assert sixteenths.shape == (252, 128)
    assert (sixteenths[::4] == roll).all()  # frame starts at the quarters agree


def test_note_names():
    assert note_numbers("C4 E4 G4") == [60, 64, 67]
    assert note_numbers("F#3 B-2 Bb2 c5") == [54, 46, 46, 72]
    assert [note_name(m) for m in (21, 60, 70, 108)] == ["A0", "C4", "B-4", "C8"]


def test_frame_loss_by_hand():
    # Two rows, 2 pitches; the second row's second frame is padding and must not count.
    logits = np.array([[[0.0, 2.0], [1.0, -1.0]], [[-3.0, 0.5], [9.0, 9.0]]], np.float32)
    y = np.array([[[1, 0], [1, 1]], [[0, 1], [0, 0]]], np.float32)
    lengths = np.array([2, 1], np.int32)
    model = lambda x, lengths, key=None: logits
    total, count, _ = chorales.frame_loss(model, (y, y, lengths), None, None)
    s = lambda z: 1 / (1 + math.exp(-z))
    hand = -(
        math.log(s(0.0)) + math.log(1 - s(2.0))  # row 0, frame 0
        + math.log(s(1.0)) + math.log(s(-1.0))  # row 0, frame 1
        + math.log(1 - s(-3.0)) + math.log(s(0.5))  # row 1, frame 0
    )  # fmt: skip
    assert int(count) == 3
    assert float(total) == pytest.approx(hand, rel=1e-5)


def toy():
    # one piece of 4 frames over 3 pitches: inputs frames 0..2, targets frames 1..3
    frames = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 1, 1]], np.float32)
    return SeqData(frames[None, :-1], frames[None, 1:], np.array([3], np.int32))


def test_scores_and_baselines_by_hand():
    data = toy()
    p = np.full((1, 3, 3), 0.25)
    p[0, 0] = [0.9, 0.6, 0.1]  # target [1, 1, 0]: TP 2
    p[0, 1] = [0.7, 0.2, 0.2]  # target [0, 1, 0]: FP 1, FN 1
    p[0, 2] = [0.1, 0.9, 0.3]  # target [0, 1, 1]: TP 1, FN 1
    s = chorales.roll_scores(p, data)
    nll = -np.log([0.9, 0.6, 0.9, 0.3, 0.2, 0.8, 0.9, 0.9, 0.3]).sum() / 3
    assert s["frame_nll"] == pytest.approx(nll)
    assert s["accuracy"] == pytest.approx(3 / (3 + 1 + 2))
    base = chorales.baseline_scores(data, data)
    # training targets: pitch 0 on in 1 of 3 frames, pitch 1 in 3, pitch 2 in 1 (add one)
    freq = np.array([2 / 5, 4 / 5, 2 / 5])
    y = data.y[0]
    hand = -np.where(y > 0, np.log(freq), np.log(1 - freq)).sum() / 3
    assert base["frame_nll"] == pytest.approx(hand)
    # repeating the previous frame: predictions = inputs [1,0,0], [1,1,0], [0,1,0]
    # vs targets [1,1,0], [0,1,0], [0,1,1]: TP 1+1+1, FP 0+1+0, FN 1+0+1
    assert base["accuracy"] == pytest.approx(3 / 6)
    # pitch 1: after off (frame 0) on once in 1 -> (1+1)/(1+2); after on (2) on twice ->
    # (2+1)/(2+2); pitch 0: after on (2) on once -> 2/4, after off (1) never -> 1/3;
    # pitch 2: after off (3) on once -> 2/5, never on before -> 1/2
    p_on = np.array([[2 / 4, 2 / 3, 2 / 5], [2 / 4, 3 / 4, 2 / 5], [1 / 3, 3 / 4, 2 / 5]])
    hand = -np.where(y > 0, np.log(p_on), np.log(1 - p_on)).sum() / 3
    assert base["markov_frame_nll"] == pytest.approx(hand)


def test_midi_round_trip():
    roll = np.zeros((6, 128), bool)
    roll[0:2, 60] = True  # C4 held two frames
    roll[3, 60] = True  # and struck again
    roll[1:6, 43] = True  # G2 from frame 1 to the end
    data = midi_bytes(roll, quarters_per_frame=0.5, bpm=120)
    assert data[:4] == b"MThd" and data[8:14] == bytes([0, 0, 0, 1, 1, 224])  # fmt 0, 480
    assert data[14:18] == b"MTrk"
    assert int.from_bytes(data[18:22], "big") == len(data) - 22
    assert data[-4:] == b"\x00\xff\x2f\x00"  # end of track
    back = read_midi(data)
    assert back["tempo"] == 500_000
    assert back["notes"] == [(60, 0, 480), (43, 240, 1440), (60, 720, 960)]
    # music21, an independent reader, sees the same notes
    from music21 import midi

    mf = midi.MidiFile()
    mf.readstr(data)
    events = [(e.type.name, e.pitch) for e in mf.tracks[0].events if e.isNoteOn() or e.isNoteOff()]
    assert events == [
        ("NOTE_ON", 60), ("NOTE_ON", 43), ("NOTE_OFF", 60), ("NOTE_ON", 60),
        ("NOTE_OFF", 60), ("NOTE_OFF", 43),
    ]  # fmt: skip


def test_train_eval_sample(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(chorales, "chorale_names", lambda: FEW)  # 6 of the 371: quick
    out = tmp_path / "run"
    tiny = ["--hidden", "8", "--steps", "4", "--eval-every", "4", "--log-every", "2"]
    code, _, err = run(
        capsys, "train", "--task", "chorales", "--out", out, "--batch-size", "2", *tiny
    )
    assert code == 0, err
    assert "train 4, val 1, test 1" in err
    assert list((tmp_path / "cache").glob("chorales-quarter-*.npz"))  # parsed once, cached
    code, stdout, err = run(capsys, "eval", out, "--json")
    assert code == 0, err
    result = json.loads(stdout)
    assert result["task"] == "chorales" and result["split"] == "test"
    assert set(result["metrics"]) == {"frame_nll", "accuracy", "frames"}
    assert result["metrics"]["frames"] > 0  # the count of scored frames
    assert 0 < result["metrics"]["frame_nll"] < 60 * math.log(2)  # below chance after 4 steps
    assert 0 < result["baseline"]["accuracy"] < 0.5  # voices move on most beats
    song = tmp_path / "song.mid"
    argv = ["sample", out, "--prime", "C4 E4 G4", "--out", song, "--length", "8"]
    code, stdout, err = run(capsys, *argv)
    assert code == 0, err
    assert stdout.splitlines()[0] == "C4 E4 G4" and len(stdout.splitlines()) == 8
    notes = read_midi(song.read_bytes())["notes"]
    assert [n[0] for n in notes if n[1] == 0] == [60, 64, 67]
    assert song.with_suffix(".png").stat().st_size > 1000
    code, _, err = run(capsys, "train", "--out", out, "--resume", "--resolution", "sixteenth")
    assert code == 2 and "--resolution differs" in err
    code, _, err = run(capsys, "sample", out, "--prime", "C9")
    assert code == 2 and "outside" in err
    code, _, err = run(
        capsys, "train", "--task", "motions", "--out", tmp_path / "m", "--resolution", "sixteenth"
    )
    assert code == 2 and "--resolution does not apply" in err
