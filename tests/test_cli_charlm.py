"""``rnnlab train / sample / eval`` from the command line, and every bad input:
one line on stderr, exit status 2, nothing overwritten."""

import hashlib
import re

import pytest
from _cli import run

from rnnlab.cli import main

TEXT = "to be, or not to be: that is the question.\n" * 30
TINY = [
    "--hidden",
    "16",
    "--embed",
    "8",
    "--seq-len",
    "8",
    "--batch-size",
    "2",
    "--steps",
    "6",
    "--eval-every",
    "6",
    "--log-every",
    "3",
]


def snapshot(directory):
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.iterdir())
        if p.is_file()
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "hamlet.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run_dir(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    with pytest.raises(SystemExit) as done:
        main(["train", "--corpus", str(corpus), "--out", str(out), *TINY])
    assert done.value.code == 0
    return out


def test_train_sample_eval(run_dir, capsys):
    assert {"config.json", "best.eqx", "last.eqx", "metrics.jsonl", "loss.png"} <= set(
        p.name for p in run_dir.iterdir()
    )
    code, out, _ = run(
        capsys, "sample", run_dir, "--length", "40", "--seed", "3", "--prime", "to be"
    )
    assert code == 0 and out.startswith("to be") and len(out.rstrip("\n")) >= 45
    assert (
        run(capsys, "sample", run_dir, "--length", "40", "--seed", "3", "--prime", "to be")[1]
        == out
    )
    code, out, _ = run(capsys, "eval", run_dir, "--split", "val")
    model, base = out.splitlines()
    m = re.fullmatch(r"val: model: nats_per_char (\d+\.\d{4}), bits_per_char (\d+\.\d{4})", model)
    assert code == 0 and m
    assert float(m[2]) == pytest.approx(float(m[1]) / 0.6931471805599453, abs=2e-4)
    assert re.fullmatch(r"val: unigram: nats_per_char \d+\.\d{4}, bits_per_char \d+\.\d{4}", base)


def one_line_error(code, err, *words):
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rnnlab: error:"), err
    assert "Traceback" not in err
    for w in words:
        assert w in lines[0], (w, lines[0])


@pytest.mark.parametrize(
    "content, words",
    [
        (None, ["does not exist"]),
        (b"", ["empty"]),
        (b"caf\xe9 au lait\n" * 10, ["UTF-8"]),
        (b"abcdef", ["--batch-size"]),  # shorter than one batch
        ("".join(chr(0x4E00 + i) for i in range(1200)).encode(), ["1000"]),  # vocabulary
    ],
    ids=["missing", "empty", "not-utf8", "too-short", "huge-vocab"],
)
def test_bad_corpus(tmp_path, capsys, content, words):
    path = tmp_path / "corpus.txt"
    if content is not None:
        path.write_bytes(content)
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--corpus", path, "--out", out, *TINY)
    one_line_error(code, err, *words)
    assert not out.exists()


def test_out_dir_with_other_files_is_left_alone(tmp_path, corpus, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    code, _, err = run(capsys, "train", "--corpus", corpus, "--out", out, *TINY)
    one_line_error(code, err, "other files", "--resume")
    assert snapshot(out) == {"thesis.tex": hashlib.sha256(b"precious").hexdigest()}


def test_existing_run_needs_resume(run_dir, corpus, capsys):
    before = snapshot(run_dir)
    code, _, err = run(capsys, "train", "--corpus", corpus, "--out", run_dir, *TINY)
    one_line_error(code, err, "already holds a run")
    code, _, err = run(capsys, "train", "--out", run_dir, "--resume", "--cell", "gru")
    one_line_error(code, err, "--resume", "--cell differs")
    assert snapshot(run_dir) == before


def test_corrupt_and_mismatched_checkpoints(run_dir, tmp_path, capsys):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(run_dir, bad)
    data = (bad / "best.eqx").read_bytes()
    (bad / "best.eqx").write_bytes(data[: len(data) // 2])
    before = snapshot(bad)
    code, _, err = run(capsys, "sample", bad, "--length", "5")
    one_line_error(code, err, "corrupt")
    # config.json that claims another cell than the weights hold
    other = tmp_path / "other"
    shutil.copytree(run_dir, other)
    cfg = (other / "config.json").read_text().replace('"cell": "lstm"', '"cell": "gru"')
    (other / "config.json").write_text(cfg)
    code, _, err = run(capsys, "eval", other)
    one_line_error(code, err, "does not match")
    code, _, err = run(capsys, "train", "--out", other, "--resume")
    one_line_error(code, err, "does not match")
    assert snapshot(bad) == before


def test_bad_sample_and_eval_arguments(run_dir, tmp_path, capsys):
    code, _, err = run(capsys, "sample", run_dir, "--prime", "Zebra\u00e9")
    one_line_error(code, err, "Z")
    code, _, err = run(capsys, "sample", tmp_path / "nothing-here")
    one_line_error(code, err, "does not exist")
    code, _, err = run(capsys, "sample", tmp_path)
    one_line_error(code, err, "config.json")
    french = tmp_path / "fr.txt"
    french.write_text("\u00e7a va\n", encoding="utf-8")
    code, _, err = run(capsys, "eval", run_dir, "--file", french)
    one_line_error(code, err, "\u00e7")
    code, _, err = run(capsys, "train", "--out", tmp_path / "x", "--cell", "transformer")
    one_line_error(code, err, "transformer")


def test_ctrl_c_stops_cleanly_and_resume_continues(corpus, tmp_path):
    """A real SIGINT to a real `rnnlab train`: it saves, exits 0, and --resume goes on."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "run"
    argv = [
        sys.executable,
        "-c",
        "from rnnlab.cli import main; main()",
        "train",
        "--corpus",
        str(corpus),
        "--out",
        str(out),
        *TINY,
    ]
    argv[argv.index("--steps") + 1] = "100000"
    argv[argv.index("--eval-every") + 1] = "5"
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (out / "progress.json").exists() and time.time() < deadline:
        time.sleep(0.2)
    assert (out / "progress.json").exists(), proc.communicate(timeout=30)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err  # a script can tell it from a finished run
    assert "--resume" in err
    stopped = json.loads((out / "progress.json").read_text())["step"]
    assert 5 <= stopped < 100000
    resumed = subprocess.run(
        [*argv[:3], "train", "--out", str(out), "--resume", "--steps", str(stopped + 3)],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((out / "progress.json").read_text())["step"] == stopped + 3
