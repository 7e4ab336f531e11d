"""``rnnlab spikes demo`` and ``rnnlab spikes rate`` through the real entry point."""

import numpy as np
import pytest

from rnnlab.cli import main
from rnnlab.spikes import instantaneous_rate

TRIALS = "0.1 0.25 0.4 0.9\n0.15 0.5 0.55\n\n0.05 0.3 0.35 0.8 0.95\n"


def run(args, capsys):
    """(exit status, stdout, stderr) of ``rnnlab ARGS``."""
    try:
        main(args)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def spike_file(tmp_path):
    path = tmp_path / "trials.txt"
    path.write_text(TRIALS, encoding="utf-8")
    return path


def _trains():
    return [np.array([float(x) for x in line.split()]) for line in TRIALS.splitlines()]


def test_demo_writes_pngs(tmp_path, capsys):
    out = tmp_path / "figs"
    code, stdout, _ = run(["spikes", "demo", "--out", str(out), "--seed", "1"], capsys)
    assert code == 0
    names = {"rate_estimates.png", "lif_fi_curve.png", "grasshopper_rates.png"}
    assert {p.name for p in out.iterdir()} == names  # no temporary files left
    for name in names:
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
        assert name in stdout


def test_rate_csv_equals_instantaneous_rate(spike_file, tmp_path, capsys):
    out = tmp_path / "rate.csv"
    args = ["spikes", "rate", str(spike_file), "--sigma", "0.05", "--sampling-period", "0.01"]
    code, stdout, _ = run(args + ["--out", str(out)], capsys)
    assert code == 0 and stdout == ""
    table = np.loadtxt(out, delimiter=",", skiprows=1)
    assert out.read_text().splitlines()[0] == "time,rate"
    times, rate = instantaneous_rate(_trains(), 0.01, sigma=0.05)
    np.testing.assert_array_equal(table[:, 0], times)  # exact: the CSV round-trips floats
    np.testing.assert_array_equal(table[:, 1], rate)
    # stdout gives the same table
    code, stdout, _ = run(args, capsys)
    assert code == 0 and stdout == out.read_text()


def test_rate_auto_sigma_and_other_kernel(spike_file, capsys):
    code, stdout, _ = run(["spikes", "rate", str(spike_file), "--t-stop", "1.0"], capsys)
    assert code == 0
    _, rate = instantaneous_rate(_trains(), 0.001, sigma="auto", t_stop=1.0)
    np.testing.assert_array_equal(np.loadtxt(stdout.splitlines()[1:], delimiter=",")[:, 1], rate)
    args = ["spikes", "rate", str(spike_file), "--kernel", "exponential", "--sigma", "0.02"]
    code, stdout, _ = run(args, capsys)
    assert code == 0 and len(stdout.splitlines()) == 1 + 950  # t_stop = last spike, 0.95 s


@pytest.mark.parametrize(
    "content, extra, words",
    [
        ("0.1 abc 0.3\n", [], "line 1: 'abc' is not a number"),
        ("0.1 0.2\n0.5 0.3\n", [], "line 2: spike times not sorted"),
        ("0.1 -0.2\n", [], "negative"),
        ("", [], "empty"),
        ("\n\n", [], "empty"),
        ("0.1 0.2\n", ["--kernel", "boxcar"], "unknown kernel 'boxcar'"),
        ("0.1 0.2\n", ["--sigma", "0"], "sigma"),
        ("0.1 0.2\n", ["--sigma", "wide"], "--sigma must be 'auto' or a number"),
        ("0.1 0.2\n", ["--sigma", "0.1", "--t-stop", "0.0"], "t_stop"),
        ("0.1 0.2\n", ["--sigma", "0.1", "--sampling-period", "-1"], "sampling_period"),
        ("0.1 0.2\n", ["--kernel", "alpha"], "gaussian"),
    ],
)
def test_rate_bad_input_exit_2_one_line_nothing_written(tmp_path, capsys, content, extra, words):
    path = tmp_path / "in.txt"
    path.write_text(content, encoding="utf-8")
    out = tmp_path / "out.csv"
    out.write_text("old\n")
    code, stdout, stderr = run(["spikes", "rate", str(path), "--out", str(out)] + extra, capsys)
    assert code == 2
    assert stdout == ""
    assert stderr.count("\n") == 1 and stderr.startswith("rnnlab: error:")
    assert words in stderr and "Traceback" not in stderr
    assert out.read_text() == "old\n"  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt", "out.csv"]


def test_rate_missing_and_non_utf8_file(tmp_path, capsys):
    code, _, stderr = run(["spikes", "rate", str(tmp_path / "nope.txt")], capsys)
    assert code == 2 and "no such file" in stderr and stderr.count("\n") == 1
    latin = tmp_path / "latin.txt"
    latin.write_bytes("0.1 0.2 # caf\xe9\n".encode("latin-1"))
    code, _, stderr = run(["spikes", "rate", str(latin)], capsys)
    assert code == 2 and "not UTF-8" in stderr and stderr.count("\n") == 1


def test_figures_and_csv_get_the_mode_open_would(spike_file, tmp_path, capsys):
    """Both go through rnnlab's one atomic writer: 0666 less the umask, not mkstemp's 0600."""
    import os

    from matplotlib.figure import Figure

    from rnnlab.spikes import save_figure

    old = os.umask(0o027)
    try:
        save_figure(Figure(figsize=(1, 1)), tmp_path / "f.png")
        code, _, _ = run(
            ["spikes", "rate", str(spike_file), "--out", str(tmp_path / "r.csv")], capsys
        )
    finally:
        os.umask(old)
    assert code == 0
    for name in ("f.png", "r.csv"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o640, name
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
