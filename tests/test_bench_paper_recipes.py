"""The papers' own recipes in bench/ (issue 18): Elman's one-step training of the XOR net
against a hand-written NumPy loop, his error measure, and the War and Peace run summary."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

BENCH = Path(__file__).parents[1] / "bench"


def _bench(name):
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sig(a):
    return 1 / (1 + np.exp(-a))


def test_xor_paper_pass_is_elman_online_one_step_backprop():
    """Every bit: forward with the current weights, the squared error's gradient with the
    context as a plain input (nothing flows to earlier steps), an SGD step; the context
    is the hidden state computed before the update. Checked against NumPy by hand."""
    xp = _bench("xor_paper")
    K, lr = 2, 0.7
    nets = jax.vmap(xp._net)(jax.random.split(jax.random.key(3), K))
    bits = np.array([[1, 0, 1, 1, 1, 0, 0, 1], [0, 1, 1, 0, 0, 0, 1, 0]])
    got, mse = xp.train_pass(nets, jnp.asarray(bits), lr)
    for k in range(K):
        cell, out = jax.tree_util.tree_map(lambda a, k=k: np.asarray(a[k], np.float64), nets)
        W, U = cell.weight_ih.copy(), cell.weight_hh.copy()  # (2, 1), (2, 2)
        bi, bh, o = cell.bias_ih.copy(), cell.bias_hh.copy(), out.copy()  # o: w (2,), b
        c, errs = np.full(2, 0.5), []
        for x, t in zip(bits[k, :-1], bits[k, 1:], strict=True):
            h = _sig(W[:, 0] * x + bi + U @ c + bh)
            y = _sig(o[:2] @ h + o[2])
            errs.append((y - t) ** 2)
            d_o = (y - t) * y * (1 - y)
            d_h = d_o * o[:2] * h * (1 - h)
            o = o - lr * np.array([*(d_o * h), d_o])
            W, U = W - lr * d_h[:, None] * x, U - lr * np.outer(d_h, c)
            bi, bh = bi - lr * d_h, bh - lr * d_h
            c = h
        g_cell, g_out = jax.tree_util.tree_map(lambda a, k=k: np.asarray(a[k]), got)
        for mine, ref in ((g_cell.weight_ih, W), (g_cell.weight_hh, U), (g_cell.bias_ih, bi),
                          (g_cell.bias_hh, bh), (g_out, o)):  # fmt: skip
            np.testing.assert_allclose(mine, ref, rtol=1e-5, atol=1e-6)
        assert float(mse[k]) == pytest.approx(np.mean(errs), rel=1e-5)


def test_elman_rms_is_per_position_of_12_over_the_cycles():
    xp = _bench("xor_paper")
    t = np.zeros(24)
    y = np.zeros(24)
    y[1], y[13] = 0.6, 0.8  # position 2 of both cycles: sqrt((0.36 + 0.64) / 2)
    y[5] = 0.4  # position 6 of the first cycle only: sqrt(0.16 / 2)
    rms = xp.elman_rms(y, t)
    assert rms.shape == (12,)
    np.testing.assert_allclose(rms[[1, 5]], [np.sqrt(0.5), np.sqrt(0.08)])
    assert np.delete(rms, [1, 5]).max() == 0


def test_warpeace_summary_reads_epochs_from_the_run_files(tmp_path):
    wp = _bench("warpeace_paper")
    run = tmp_path / "wp-paper-lstm-128-dropout0.25"
    run.mkdir()
    # 10,150 training chars in 100 streams of 101: an epoch is (101 - 1) // 10 = 10 steps
    config = {"train": {"steps": 50, "batch_size": 100, "eval_every": 10},
              "options": {"seq_len": 10, "split": "80/10/10"},
              "model": {"cell": "lstm", "hidden": 128, "dropout": 0.25},
              "data": {"sizes": {"train": 10_150, "val": 1000, "test": 1000}}}  # fmt: skip
    (run / "config.json").write_text(json.dumps(config))
    rows = [{"step": 10, "loss": 3.0, "time": 60.0}, {"step": 10, "val_loss": 2.5},
            {"step": 20, "val_loss": 2.2}, {"step": 30, "loss": 2.0, "time": 150.0},
            {"step": 30, "val_loss": 2.3}]  # fmt: skip
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (run / "progress.json").write_text(json.dumps({"step": 30, "best": 2.2}))
    got = wp.summarize(tmp_path, test=False, book_end="")
    assert got == {"lstm-128-dropout0.25": {
        "dropout": 0.25, "hidden": 128, "cell": "lstm", "split": "80/10/10",
        "epochs_done": 3.0, "epochs": 5.0, "finished": False, "val_by_epoch": [2.5, 2.2, 2.3],
        "best_val": 2.2, "best_epoch": 2.0, "minutes": 2.5}}  # fmt: skip
    assert "| lstm-128-dropout0.25 | 80/10/10 | 0.25 | 3 of 5 | 2.2 (2.0) |" in wp.markdown(got)


def test_lstm1997_paper_net_has_the_papers_93_weights_for_the_adding_problem():
    lp = _bench("lstm1997_paper")
    p = lp.init(jax.random.key(0), 2, 2, 2, 1, 0.1, in_bias=[-3.0, -6.0])
    assert lp.n_weights(p) == 93  # H&S 1997 sec. 5.4
    np.testing.assert_array_equal(np.asarray(p["b"][4:6]), [-3.0, -6.0])  # the input gates
    assert float(jnp.abs(p["W"]).max()) <= 0.1


def test_reber_online_rtrl_gradient_equals_truncated_bptt(x64):
    """With a tiny learning rate the online updates of a string add up to the gradient of
    its summed squared error; the RTRL derivatives carried forward must equal
    back-propagation through the cell states alone (the recurrent inputs cut)."""
    lp, rp = _bench("lstm1997_paper"), _bench("reber_paper")
    # float64 (the x64 fixture): the updates of lr 1e-4 are far above rounding
    p = lp.init(jax.random.key(1), 7, 3, 2, 7, 0.2, out_bias=[-1.0, -2.0, -3.0])
    p = jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), p)
    ids = np.array([0, 3, 1, 4, 2, 5, 6, 2])
    x = jnp.asarray(np.eye(7)[ids[:-1]])
    target = jnp.asarray(np.eye(7)[ids[1:]])
    n = 6  # the last step is padding

    def bptt(p):
        outs = lp.run(p, 3, 2, x)  # (7, 7)
        return 0.5 * (((outs - target) ** 2).sum(1) * (jnp.arange(7) < n)).sum()

    ref = jax.grad(bptt)(p)
    lr = 1e-4
    new = rp.online_string(p, 3, 2, lr, x, target, n)
    for k in p:
        got = (np.asarray(p[k]) - np.asarray(new[k])) / lr
        np.testing.assert_allclose(got, np.asarray(ref[k]), rtol=2e-3, atol=1e-6)
    assert float(jnp.abs(ref["W"]).max()) > 1e-2  # not vacuous
