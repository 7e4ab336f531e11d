"""--task primitives: the streams against their definition, and a tiny MTRNN run that
rnnlab inspect draws (fast and slow context units, units over the signal)."""

import numpy as np
from _cli import run

from rnnlab.tasks import get_task
from rnnlab.tasks.primitives import CYCLES, NOISE, SHAPES, make_split, stream


def test_shapes_by_hand():
    quarter = np.pi / 2  # a quarter cycle
    want = {
        "circle": (1.0, 1.0),
        "figure-eight": (1.0, 0.0),
        "up-down": (0.1, 1.0),
        "zigzag": (1.0, -0.3),
    }
    for name, (shape, _) in SHAPES.items():
        np.testing.assert_allclose(shape(np.array([0.0, quarter])), [[0, want[name][0]],
                                   [0, want[name][1]]], atol=1e-12)  # fmt: skip


def test_segments_are_whole_cycles_of_a_new_shape():
    x, y = stream(2000, np.random.default_rng(0))
    names = list(SHAPES)
    edges = np.flatnonzero(np.diff(y)) + 1
    starts, ends = np.r_[0, edges], np.r_[edges, len(y)]
    assert len(starts) > 10
    for a, b in zip(starts[:-1], ends[:-1], strict=True):  # the last one may be cut
        shape, period = SHAPES[names[y[a]]]
        assert (b - a) % period == 0 and CYCLES[0] <= (b - a) // period <= CYCLES[1]
        clean = np.column_stack(shape(2 * np.pi * np.arange(b - a) / period))
        assert np.abs(x[a:b] - clean).max() < 6 * NOISE  # the shape plus the noise only
    assert np.all(y[starts[1:]] != y[starts[1:] - 1])
    assert set(np.unique(y)) == set(range(len(SHAPES)))


def test_a_fixed_order_cycles_through_its_primitives_in_whole_cycles():
    order = (3, 0, 2)
    x, y = stream(600, np.random.default_rng(1), order=order)
    names = list(SHAPES)
    edges = np.flatnonzero(np.diff(y)) + 1
    starts, ends = np.r_[0, edges], np.r_[edges, len(y)]
    assert [int(y[a]) for a in starts] == [order[i % 3] for i in range(len(starts))]
    for a, b in zip(starts[:-1], ends[:-1], strict=True):
        period = SHAPES[names[y[a]]][1]
        assert (b - a) % period == 0 and CYCLES[0] <= (b - a) // period <= CYCLES[1]


def test_splits_are_fixed_and_distinct():
    a, b = make_split(3, 5), make_split(3, 5)
    np.testing.assert_array_equal(a.x, b.x)
    data = get_task("primitives").load_data(get_task("primitives").config())
    assert {k: len(v) for k, v in data.splits.items()} == {"train": 128, "val": 16, "test": 32}
    assert not np.allclose(data.splits["train"].x[0], data.splits["test"].x[0])


def test_train_then_inspect(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "--task", "primitives", "--cell", "mtrnn", "--hidden", "8", "--steps", "3"]
    code, _, err = run(capsys, *argv, "--out", out, "--eval-every", "3", "--devices", "1")
    assert code == 0, err
    code, stdout, err = run(capsys, "inspect", out)
    assert code == 0, err
    # an MTRNN has no gates: the signal and its fast and slow context units
    assert {p.name for p in out.glob("inspect_*.png")} == {
        "inspect_signal.png",
        "inspect_context.png",
    }
    assert "label circle:" in stdout
