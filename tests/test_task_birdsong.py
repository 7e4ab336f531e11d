"""--task birdsong: crowsetta's Bengalese finch songs, Markov baselines, continuing a song."""

import json
import math

import numpy as np
import pytest
from _cli import run

from rnnlab.tasks import birdsong
from rnnlab.tasks._data import split_rows

# No skip when crowsetta's files are missing: `make test` installs them, so their absence
# is a broken install, and the tests below fail with the one-line install command.


def test_read_the_finch_and_the_canary():
    songs = birdsong.read_songs()
    assert len(songs) == 571
    assert len({r for r, _ in songs}) == 135
    # the file's first song, read by eye from its XML
    assert songs[0] == ("0.wav", ["0", "0", "0", "1", "0", "0", "1", "0"])
    assert sum(len(s) for _, s in songs) == 7652
    labels, parts = birdsong.BirdsongTask().syllables()
    assert labels == [str(i) for i in range(9)]
    assert sum(len(v) for v in parts.values()) == 571
    canary = birdsong.read_audacity()
    assert canary[:2] == [(0.0, 0.7698181682, "SIL"), (0.7698181682, 1.1312740106, "call")]


def test_songs_split_by_recording():
    songs = birdsong.read_songs()
    recordings = list(dict.fromkeys(r for r, _ in songs))
    assert recordings[:3] == ["0.wav", "1.wav", "2.wav"]
    rows = split_rows(len(recordings))
    _, parts = birdsong.BirdsongTask().syllables()
    for k, ids in parts.items():
        chosen = {recordings[i] for i in rows[k]}
        assert [[str(i) for i in song] for song in ids] == [s for r, s in songs if r in chosen]


def test_one_hot_songs():
    data = birdsong.one_hot_songs([[1, 0], [2]], V=3)
    assert data.x.shape == (2, 3, 4) and data.lengths.tolist() == [3, 2]
    assert data.x[0].argmax(-1).tolist() == [3, 1, 0]  # <start> 1 0
    assert data.y[0].tolist() == [1, 0, 3]  # 1 0 <end>
    assert data.y[1, :2].tolist() == [2, 3] and not data.x[1, 2].any()


def test_markov_chains_by_hand():
    # V = 2 syllables (0, 1), the end is 2, the start context is 2 as well
    train = [[0, 1, 0], [0, 0]]
    test = [[0, 1]]
    # order 1, counts: start -> 0: 2; 0 -> 1: 1, 0 -> end: 2, 0 -> 0: 1; 1 -> 0: 1
    # test targets: 0 | start (2 of 2), 1 | 0 (1 of 4), end | 1 (0 of 1); add one over 3
    p = [(2 + 1) / (2 + 3), (1 + 1) / (4 + 3), (0 + 1) / (1 + 3)]
    first = birdsong.markov_scores(train, test, 1, 2)
    assert first["nll"] == pytest.approx(-np.mean(np.log(p)))
    # argmax: after start 0 (right), after 0 the end (wrong), after 1 syllable 0 (wrong)
    assert first["accuracy"] == pytest.approx(1 / 3)
    # order 2: (s, s) -> 0: 2; (s, 0) -> 1: 1, (s, 0) -> 0: 1; (0, 1) -> 0: 1; ...
    # test: 0 | (s, s) 2 of 2; 1 | (s, 0) 1 of 2; end | (0, 1) 0 of 1
    p = [(2 + 1) / (2 + 3), (1 + 1) / (2 + 3), (0 + 1) / (1 + 3)]
    second = birdsong.markov_scores(train, test, 2, 2)
    assert second["nll"] == pytest.approx(-np.mean(np.log(p)))
    assert second["accuracy"] == pytest.approx(1 / 3)  # ties at (s, 0) go to syllable 0


def test_train_eval_sample(tmp_path, capsys):
    out = tmp_path / "run"
    tiny = ["--hidden", "16", "--steps", "30", "--eval-every", "30", "--log-every", "10"]
    code, _, err = run(capsys, "train", "--task", "birdsong", "--out", out, "--lr", "0.02", *tiny)
    assert code == 0, err
    assert (out / "canary_song.png").stat().st_size > 1000
    code, stdout, err = run(capsys, "eval", out, "--json")
    assert code == 0, err
    result = json.loads(stdout)
    assert result["task"] == "birdsong" and result["split"] == "test"
    assert set(result["baseline"]) == {"nll", "accuracy", "order2_nll", "order2_accuracy"}
    assert result["metrics"]["nll"] < math.log(10)  # learnt something in 30 steps
    assert result["baseline"]["order2_nll"] < result["baseline"]["nll"] < math.log(10)
    code, stdout, err = run(capsys, "sample", out, "--prime", "0 0 1", "--seed", "3")
    assert code == 0, err
    song = stdout.split()
    assert song[:3] == ["0", "0", "1"] and set(song) <= {str(i) for i in range(9)}
    code, again, _ = run(capsys, "sample", out, "--prime", "0 0 1", "--seed", "3")
    assert again == stdout  # same seed, same song
    code, _, err = run(capsys, "sample", out, "--prime", "0 x")
    assert code == 2 and "unknown syllables ['x']" in err
