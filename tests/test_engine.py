"""The training engine: device-count independence, exact resume across device counts,
divergence, a full disk, the run-directory lock."""

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _cli import run as run_cli

from rnnlab.charlm import lm_loss
from rnnlab.charlm.model import CharLM
from rnnlab.engine import Problem, RunLock, Settings, fit, make_optimizer
from rnnlab.engine import io as engine_io
from rnnlab.tasks import get_task

TEXT = "the cat sat on the mat. the dog sat on the log. a cat and a dog met on a mat.\n" * 40


class Streams:
    """Random id batches (B, T), a pure function of the step."""

    def __init__(self, vocab, B, T):
        self.vocab, self.B, self.T = vocab, B, T

    def get(self, step):
        ids = np.random.default_rng(step).integers(0, self.vocab, (self.B, self.T + 1))
        return ids[:, :-1].astype(np.int32), ids[:, 1:].astype(np.int32)


def char_problem(dtype, *, dropout=0.0, layers=1, cell="lstm"):
    from rnnlab.config import ModelConfig

    config = ModelConfig(cell=cell, hidden=8, embed=4, layers=layers, dropout=dropout)
    with jax.enable_x64(False):
        model = CharLM(7, config, key=jax.random.key(0))
    model = jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype), model)
    return Problem(
        model=model,
        loss=lm_loss(None),
        batches=Streams(7, B=4, T=5),
        batch_size=4,
        init_carry=model.init_state,
        stochastic=dropout > 0,
    )


def params(model):
    return [np.asarray(a) for a in jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_array))]


@pytest.mark.parametrize(
    ("cell", "layers", "dropout"), [("lstm", 1, 0.0), ("gru", 2, 0.3)], ids=["lstm", "gru-dropout"]
)
def test_two_devices_equal_one(cell, layers, dropout):
    """Same steps on 1 and 2 devices (float64): gradients psum-ed, losses divided by the
    global count, dropout drawn per row of the global batch."""
    assert jax.local_device_count() >= 2
    with jax.enable_x64(True):
        results = []
        for n in (1, 2):
            problem = char_problem(jnp.float64, dropout=dropout, layers=layers, cell=cell)
            opt = make_optimizer("adam", 1e-2, clip=1.0)
            r = fit(problem, opt, Settings(steps=3, log_every=1, devices=n, seed=3))
            results.append(r)
        one, two = results
        np.testing.assert_allclose(
            [r["loss"] for r in one.history], [r["loss"] for r in two.history], rtol=1e-12
        )
        for a, b in zip(params(one.model), params(two.model), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
        # and training did move the weights
        start = params(char_problem(jnp.float64, dropout=dropout, layers=layers, cell=cell).model)
        assert (
            max(np.abs(a - b).max() for a, b in zip(start, params(one.model), strict=True)) > 1e-3
        )


def test_update_inside_the_sharded_jit_gives_the_same_step():
    runs = []
    for fuse in (False, True):
        problem = char_problem(jnp.float32)
        opt = make_optimizer("adam", 1e-2)
        runs.append(fit(problem, opt, Settings(steps=3, devices=2, fuse_update=fuse)))
    for a, b in zip(params(runs[0].model), params(runs[1].model), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


CHARLM = get_task("charlm")


def small_config(corpus, steps, devices):
    return CHARLM.config(cell="lstm", hidden=16, embed=8, corpus=str(corpus), seq_len=8,
                         batch_size=4, steps=steps, devices=devices, eval_every=4,
                         log_every=1, sample_chars=5, lr=1e-2)  # fmt: skip


def train(run_dir, config, **kw):
    return CHARLM.train(run_dir, config, **kw)


def step_losses(run_dir):
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return {r["step"]: r["loss"] for r in rows if "loss" in r}


def test_resume_on_another_device_count_continues_the_same_run(tmp_path):
    corpus = tmp_path / "cats.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    train(tmp_path / "whole", small_config(corpus, 8, 1))
    train(tmp_path / "split", small_config(corpus, 4, 2))
    saved = json.loads((tmp_path / "split" / "config.json").read_text())
    assert saved["devices"]["count"] == 2
    train(tmp_path / "split", small_config(corpus, 8, 1), resume=True)
    whole, split = step_losses(tmp_path / "whole"), step_losses(tmp_path / "split")
    assert sorted(split) == list(range(1, 9))
    np.testing.assert_allclose(
        [split[s] for s in range(1, 9)], [whole[s] for s in range(1, 9)], rtol=2e-5
    )


def snapshot(directory):
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.iterdir())
        if p.is_file() and p.name != engine_io.LOCK
    }


CLI_TINY = ["--hidden", "8", "--embed", "4", "--seq-len", "8", "--batch-size", "2"]


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "cats.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def test_nan_loss_stops_with_one_line_and_keeps_the_best_checkpoint(
    tmp_path, corpus, capsys, monkeypatch
):
    charlm_train = sys.modules["rnnlab.tasks.charlm"]  # its loss is the task's lm_loss
    good = lm_loss(None)

    def poisoned(truncate):
        def loss(model, batch, carry, keys):
            total, count, carry = good(model, batch, carry, keys)
            x, _ = batch
            return total * jnp.where(x[0, 0] >= 0, jnp.nan, 1.0), count, carry

        return loss

    out = tmp_path / "run"
    code, _, err = run_cli(
        capsys, "train", "--corpus", corpus, "--out", out, *CLI_TINY,
        "--steps", "4", "--eval-every", "2", "--log-every", "2",
    )  # fmt: skip
    assert code == 0, err
    before = snapshot(out)
    monkeypatch.setattr(charlm_train, "lm_loss", poisoned)
    code, _, err = run_cli(
        capsys, "train", "--out", out, "--resume", "--steps", "8", "--log-every", "2"
    )
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) >= 1 and lines[-1].startswith("rnnlab: error: diverged at step 5: ")
    assert "the loss became nan" in lines[-1] and "learning rate" in lines[-1]
    assert "best checkpoint" in lines[-1]
    after = snapshot(out)
    for name in ("best.eqx", "last.eqx", "progress.json"):
        assert after[name] == before[name], name


def test_full_disk_leaves_previous_checkpoints_intact(tmp_path, corpus, capsys, monkeypatch):
    out = tmp_path / "run"
    code, _, err = run_cli(
        capsys, "train", "--corpus", corpus, "--out", out, *CLI_TINY,
        "--steps", "4", "--eval-every", "2",
    )  # fmt: skip
    assert code == 0, err
    before = snapshot(out)

    def full_disk(f, tree):
        f.write(b"\0" * 100)  # a partial file, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(engine_io.eqx, "tree_serialise_leaves", full_disk)
    code, _, err = run_cli(capsys, "train", "--out", out, "--resume", "--steps", "8")
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert "No space left on device" in last and "intact" in last
    after = snapshot(out)
    for name in ("best.eqx", "last.eqx", "progress.json", "metrics.jsonl"):
        assert after[name] == before[name], name
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_second_training_on_a_run_in_use_refuses(tmp_path, corpus, capsys):
    out = tmp_path / "run"
    code, _, err = run_cli(
        capsys, "train", "--corpus", corpus, "--out", out, *CLI_TINY, "--steps", "2"
    )
    assert code == 0, err
    before = snapshot(out)
    with RunLock(out):  # another training holds the directory
        code, _, err = run_cli(capsys, "train", "--out", out, "--resume", "--steps", "4")
    assert code == 2 and "in use by another training" in err and len(err.strip().splitlines()) == 1
    assert snapshot(out) == before
    code, _, err = run_cli(capsys, "train", "--out", out, "--resume", "--steps", "4")
    assert code == 0, err


def test_a_killed_training_does_not_leave_the_lock_stuck(tmp_path):
    (tmp_path / "run").mkdir()
    holder = textwrap.dedent(
        f"""
        import fcntl, os, sys, time
        fd = os.open({str(tmp_path / "run" / engine_io.LOCK)!r}, os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)
        print("locked", flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    with pytest.raises(Exception, match="in use"), RunLock(tmp_path / "run"):
        pass
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with RunLock(tmp_path / "run"):  # the kernel released it with the process
        pass


def test_atomic_write_gives_the_mode_open_would(tmp_path):
    """mkstemp's private 0600 is not kept: the file gets 0666 less the umask, like open()."""
    from rnnlab.engine import io

    old = os.umask(0o027)
    try:
        io.write_text(tmp_path / "a.txt", "x")
        (tmp_path / "b.txt").write_text("x")
    finally:
        os.umask(old)
    mode = (tmp_path / "a.txt").stat().st_mode & 0o777
    assert mode == (tmp_path / "b.txt").stat().st_mode & 0o777 == 0o640


class Weight(eqx.Module):
    w: jax.Array  # (1,)


def square_loss(model, batch, carry, keys):
    """L = w^2 per row: SGD multiplies w by (1 - 2 lr) a step, so lr 10 blows it up."""
    (x,) = batch  # (B, 1) ones
    return jnp.sum((model.w * x) ** 2), x.shape[0], None


def blowup_reference(lr, steps):
    """The same SGD by hand in float32: the loss of every step until it is not finite."""
    w, losses = np.float32(1.0), []
    for _ in range(steps):
        with np.errstate(over="ignore", invalid="ignore"):
            losses.append(np.float32(w * w))
            w = np.float32(w - np.float32(lr) * np.float32(2 * w))
    return np.array(losses)


def weight_problem(**kw):
    from rnnlab.data import SameBatch

    batch = SameBatch((np.ones((1, 1), np.float32),))
    model = Weight(jnp.ones(1, jnp.float32))
    return Problem(model=model, loss=square_loss, batches=batch, batch_size=1, **kw)


def test_a_diverging_run_stops_at_its_first_non_finite_step_with_the_metrics_before(tmp_path):
    ref = blowup_reference(10.0, 40)
    first_bad = int(np.flatnonzero(~np.isfinite(ref))[0]) + 1  # 1-based step: 17
    assert 10 < first_bad < 25
    evaluations = []

    def evaluate(model):  # only reports: no metric picks a checkpoint
        evaluations.append(float(model.w[0]))
        return {"w": float(model.w[0])}

    problem = weight_problem(evaluate=evaluate, metric=None)
    settings = Settings(steps=40, log_every=5, eval_every=5, devices=1)
    run = tmp_path / "run"
    r = fit(problem, make_optimizer("sgd", 10.0, momentum=0.0), settings, run_dir=run)
    s = r.summary
    assert s["status"] == "diverged" and s["diverged_at"] == first_bad
    message = s["message"]
    assert message.startswith(f"diverged at step {first_bad}: the loss became ")
    assert "learning rate" in message and "clip" in message and "\n" not in message
    # the rows before the divergence: each the mean of its 5 steps, as the reference says
    logged = [row for row in r.history if "loss" in row]
    assert [row["step"] for row in logged] == [5, 10, 15]
    for row in logged:
        want = ref[row["step"] - 5 : row["step"]].mean()
        np.testing.assert_allclose(row["loss"], want, rtol=1e-5)
    assert [row["w"] for row in r.history if "w" in row] == evaluations
    assert len(evaluations) == 3  # no look at the blown-up model
    # metrics.jsonl has the finite rows; no best.eqx without a metric; the last save is kept
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert rows == r.history and all(np.isfinite(row["loss"]) for row in logged)
    assert not (run / "best.eqx").exists() and (run / "loss.png").is_file()
    assert json.loads((run / "progress.json").read_text())["step"] == 15
    assert f"{run / 'last.eqx'} is kept" in message


def test_fit_without_an_evaluation_and_without_a_run_directory_reports_the_divergence():
    events = []
    problem = weight_problem()
    r = fit(
        problem,
        make_optimizer("sgd", 10.0, momentum=0.0),
        Settings(steps=40, log_every=40, devices=1),
        report=events.append,
    )
    first_bad = int(np.flatnonzero(~np.isfinite(blowup_reference(10.0, 40)))[0]) + 1
    assert r.summary["diverged_at"] == first_bad and r.history == []
    assert [e["event"] for e in events] == ["start", "diverged", "stop"]
    assert events[1]["step"] == first_bad and events[-1]["message"] == r.summary["message"]


def test_an_evaluation_without_the_named_metric_is_refused():
    problem = weight_problem(evaluate=lambda m: {"other": 1.0})
    with pytest.raises(ValueError, match="'val_loss'.*Problem.metric"):
        fit(problem, make_optimizer("sgd", 0.01), Settings(steps=2, eval_every=1, devices=1))


def test_cli_training_that_diverges_ends_in_one_line(tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = run_cli(
        capsys, "train", "--task", "adding", "--out", out, "--length", "10", "--hidden", "4",
        "--optimizer", "sgd", "--lr", "1000", "--clip", "0", "--steps", "40", "--eval-every", "10",
        "--log-every", "5", "--batch-size", "8",
    )  # fmt: skip
    lines = err.strip().splitlines()
    assert code == 2 and lines[-1].startswith("rnnlab: error: diverged at step "), err
    assert "learning rate" in lines[-1] and "Traceback" not in err


def slow_square_loss(model, batch, carry, keys):
    """square_loss plus ~10 ms of matmuls whose result is multiplied by 0: a device that
    is slower than the loop's dispatch, so steps would pile up if nothing waited."""
    total, count, _ = square_loss(model, batch, carry, keys)
    m = jnp.full((200, 200), 1e-3, jnp.float32) + model.w[0] * 1e-6
    for _ in range(8):
        m = m @ m
    return total + 0.0 * jnp.sum(m), count, None


def test_at_most_two_steps_are_in_flight_on_two_devices(monkeypatch):
    """XLA's CPU client admits 32 computations per device; beyond, a sharded step's
    launches on two devices could interleave with the next one's and hang (seen in
    `adding`). At each dispatch, every earlier step's loss must already be computed."""
    from rnnlab.data import SameBatch
    from rnnlab.engine import loop

    seen = []

    class Spec(loop._StepSpec):
        def run(self, *args):
            seen.append(all(loss.is_ready() for loss in returned))
            out = super().run(*args)
            returned.append(out[0])
            return out

    returned = []
    monkeypatch.setattr(loop, "_StepSpec", Spec)
    batch = SameBatch((np.ones((2, 1), np.float32),))
    problem = Problem(
        model=Weight(jnp.ones(1, jnp.float32)), loss=slow_square_loss, batches=batch, batch_size=2
    )
    opt = make_optimizer("sgd", 0.01, momentum=0.0)
    r = fit(problem, opt, Settings(steps=60, log_every=60, devices=2))
    assert r.summary["status"] == "done" and len(seen) == 60 and all(seen)
    np.testing.assert_allclose(
        r.history[0]["loss"], np.mean((1 - 0.02) ** (2 * np.arange(60))), rtol=1e-4
    )
