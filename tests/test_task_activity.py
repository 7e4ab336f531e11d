"""``--task activity``: stitched streams, split disjointness, boundary error, the CLI."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _cli import run

from rnnlab.models import Conv1D, WindowMLP
from rnnlab.tasks import SeqData, get_task
from rnnlab.tasks import activity as A

TINY = ["--hidden", "8", "--steps", "3", "--eval-every", "3", "--log-every", "3"]


@pytest.fixture(scope="module", autouse=True)
def cache(tmp_path_factory):
    """aeon's parsed files are cached in a fresh directory, not the user's."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RNNLAB_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


def test_stitched_segments_are_slices_of_their_recordings():
    # recording r holds 1000 r + t at step t: a segment is a run of consecutive values
    R, T = 6, 50
    x = (1000 * np.arange(R)[:, None] + np.arange(T)[None, :]).astype(np.float32)[..., None]
    pool = SeqData(x, np.array([0, 1, 2, 0, 1, 2]), np.full(R, T, np.int32))
    data, source = A.stitch(pool, 3, 120, seed=0)
    assert data.x.shape == (3, 120, 1) and data.lengths.tolist() == [120] * 3
    for row in range(3):
        values, labels = data.x[row, :, 0], data.y[row]
        cuts = A.boundaries(labels)
        assert np.all(labels == pool.y[source[row]])  # each step labelled by its recording
        assert np.all(np.diff(cuts) >= A.MIN_SEGMENT) and cuts[0] >= A.MIN_SEGMENT
        for a, b in zip(np.r_[0, cuts], np.r_[cuts, 120], strict=True):
            seg = values[a:b]
            assert np.all(np.diff(seg) == 1)  # contiguous within one recording
            assert labels[a - 1] != labels[a] if a else True  # activities alternate
    again, _ = A.stitch(pool, 3, 120, seed=0)
    np.testing.assert_array_equal(again.x, data.x)  # a fixed seed, the same streams


def test_boundary_error_by_hand():
    assert A.boundaries([0, 0, 1, 1, 1, 2]).tolist() == [2, 5]
    # true boundaries 2, 5; predicted 1: distances 1, 4 (true) and 1 (predicted)
    assert A.boundary_error([[0, 0, 1, 1, 1, 2]], [[0, 1, 1, 1, 1, 1]]) == pytest.approx(2.0)
    assert A.boundary_error([[0, 0, 1, 1]], [[3, 3, 3, 3]]) == 4.0  # none predicted: length
    assert A.boundary_error([[1, 1]], [[1, 1]]) == 0.0
    assert A.boundary_error([[0, 0, 1, 1]], [[0, 0, 1, 1]]) == 0.0


def test_no_test_recording_in_training_streams():
    task = get_task("activity")
    pools, classes = task.pools()
    data = task.load_data(task.config())
    assert {k: v.x.shape for k, v in data.splits.items()} == {
        "train": (96, 400, 6),
        "val": (16, 400, 6),
        "test": (32, 400, 6),
    }
    frames = {s: {f.tobytes() for f in pools[s].x.reshape(-1, 6)} for s in pools}
    for split, others in (("train", ("val", "test")), ("test", ("train", "val"))):
        seen = {f.tobytes() for f in data.splits[split].x.reshape(-1, 6)}
        assert seen <= frames[split]
        for other in others:
            assert not seen & frames[other], (split, other)
    assert set(np.unique(data.splits["train"].y)) == {0, 1, 2, 3}


def test_baselines_tag_every_step_from_a_causal_window():
    x = jnp.asarray(np.random.default_rng(0).standard_normal((1, 12, 3)), jnp.float32)
    for net in (WindowMLP, Conv1D):
        model = net(3, 4, hidden=5, window=3, pool=False, key=jax.random.key(0))
        out = model(x, jnp.array([12]))
        assert out.shape == (1, 12, 4)
        changed = model(x.at[:, 8:].set(0.0), jnp.array([12]))
        np.testing.assert_allclose(out[:, :8], changed[:, :8], rtol=1e-6)  # causal
        assert not np.allclose(out[:, 8:], changed[:, 8:])


@pytest.mark.parametrize("model", ["rnn", "conv1d"])
def test_cli_trains_and_evaluates(model, tmp_path, capsys):
    out = tmp_path / "run"
    window = [] if model == "rnn" else ["--window", "4"]  # an RNN has none: refused
    code, _, err = run(
        capsys, "train", "--task", "activity", "--model", model, "--out", out, "--batch-size",
        "8", *window, *TINY,
    )  # fmt: skip
    assert code == 0, err
    assert (out / "stream_val.png").is_file() and (out / "confusion_val.png").is_file()
    code, stdout, err = run(capsys, "eval", out, "--split", "test", "--json")
    assert code == 0, err
    result = json.loads(stdout)
    assert set(result) == {"task", "split", "metrics", "baseline"}
    assert (
        set(result["metrics"])
        == set(result["baseline"])
        == {
            "loss",
            "accuracy",
            "boundary_error",
        }
    )
    assert result["baseline"]["boundary_error"] == 400.0  # a constant tag: no boundary
