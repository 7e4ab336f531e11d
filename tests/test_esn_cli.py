"""``rnnlab train --model esn`` (in-process CLI, tiny reservoirs): the fit equals an
independent NumPy one, beats the trivial baseline, refuses bad input in one line and writes
nothing then; ``--search N`` keeps the trial with the best validation score."""

import json

import numpy as np
import pytest
from _cli import run

from rnnlab import reservoir as rc
from rnnlab.tasks import load_run


def _eval(capsys, out, *flags):
    code, text, err = run(capsys, "eval", out, "--json", *flags)
    assert code == 0, err
    return json.loads(text)


def _numpy_states(W, W_in, lr, x):
    """Final states of windows ``x`` (N, T, D), each from zero: x' = (1-lr) x + lr tanh(.)."""
    h = np.zeros((x.shape[0], W.shape[0]))
    for t in range(x.shape[1]):
        h = (1 - lr) * h + lr * np.tanh(x[:, t] @ W_in.T + h @ W.T)
    return h


def test_mackey_glass_esn_equals_a_numpy_fit_and_beats_persistence(capsys, tmp_path):
    out = tmp_path / "mg"
    code, _, err = run(capsys, "train", "--task", "mackey-glass", "--model", "esn", "--units", 40,
                       "--ridge", 1e-5, "--batch-size", 300, "--out", out)  # fmt: skip
    assert code == 0, err
    result = _eval(capsys, out)
    assert result["metrics"]["nrmse"] < 0.5 * result["baseline"]["nrmse"]  # persistence
    r = load_run(out)
    data = r.task.load_data(r.config)
    cell = r.model.cell
    W, W_in, lr = cell.dense_W().astype(np.float64), np.asarray(cell.W_in, np.float64), 0.3
    assert float(cell.lr) == pytest.approx(lr) and r.config.model.spectral_radius == 1.25
    # rho(lr W + (1 - lr) I) > 1 at the tutorial's settings: the echo-state warning, one line
    rho = np.max(np.abs(np.linalg.eigvals(lr * W + (1 - lr) * np.eye(40))))
    (line,) = [line for line in err.splitlines() if "warning" in line]
    assert rho > 1 and f"rho(lr*W + (1-lr)*I) = {rho:.4g} > 1" in line
    tr, te = data.splits["train"], data.splits["test"]
    X = _numpy_states(W, W_in, lr, tr.x.astype(np.float64))
    Xc, yc = X - X.mean(0), tr.y - tr.y.mean()  # ReservoirPy's centred ridge, bias unpenalised
    w = np.linalg.solve(Xc.T @ Xc + 1e-5 * np.eye(40), Xc.T @ yc)
    b = tr.y.mean() - X.mean(0) @ w
    pred = _numpy_states(W, W_in, lr, te.x.astype(np.float64)) @ w + b
    want = np.sqrt(np.mean((pred - te.y) ** 2)) / (te.y.max() - te.y.min())
    assert result["metrics"]["nrmse"] == pytest.approx(want, rel=2e-2)
    # sample: the closed loop reads its own predictions, window by window
    code, text, err = run(capsys, "sample", out, "--length", 3)
    assert code == 0, err
    got = [float(line.split()[1]) for line in text.split("\n")[:3]]
    window = te.x[0, :, 0].astype(np.float64)
    for g in got:
        h = _numpy_states(W, W_in, lr, window[None, :, None])
        want = float(h[0] @ np.asarray(r.model.readout.W_out)[:, 0] + r.model.readout.bias[0])
        assert g == pytest.approx(want, abs=1e-3)
        window = np.append(window[1:], g)
    assert (out / "sample.png").is_file()


def test_vowels_esn_summed_over_batches_equals_one_fit_and_beats_the_baseline(capsys, tmp_path):
    """Batches of 32 rows: the ridge sums add up in float64 (a float32 sum at ridge 1e-6
    once dropped the accuracy to 0.25)."""
    out = tmp_path / "v"
    flags = ["--units", 80, "--spectral-radius", 0.9, "--leak", 0.1, "--ridge", 1e-6]
    code, _, err = run(capsys, "train", "--task", "vowels", "--model", "esn", *flags, "--out", out)
    assert code == 0, err
    result = _eval(capsys, out)
    assert result["metrics"]["accuracy"] >= result["baseline"]["accuracy"] + 0.5
    from rnnlab.tasks._data import scaled

    r = load_run(out)
    data = r.task.load_data(r.config)
    tr, te = (scaled(data.splits[s], r.info) for s in ("train", "test"))
    clf = rc.fit_classifier(r.model.cell, tr.x, tr.y, lengths=tr.lengths, ridge=1e-6)
    assert result["metrics"]["accuracy"] == pytest.approx(
        clf.accuracy(te.x, te.y, lengths=te.lengths), abs=1.5 / len(te)
    )


BAD = [
    (("--task", "vowels", "--model", "esn", "--spectral-radius", 0), "--spectral-radius must"),
    (("--task", "vowels", "--model", "esn", "--leak", 1.5), "--leak must be > 0 and <= 1"),
    (("--task", "vowels", "--model", "esn", "--leak", 0), "--leak must be > 0"),
    (("--task", "vowels", "--model", "esn", "--connectivity", 0), "--connectivity must"),
    (("--task", "vowels", "--model", "esn", "--connectivity", 2), "--connectivity must"),
    (("--task", "vowels", "--model", "esn", "--units", 20000), "--units must be >= 1 and <="),
    (("--task", "numbers", "--model", "esn"), "--model esn needs a task whose output"),
    (("--task", "vowels", "--units", 50), "--units applies only with --model esn"),
    (("--task", "vowels", "--model", "esn", "--lr", 0.1), "--lr does not apply to --model esn"),
    (("--task", "vowels", "--model", "esn", "--washout", 2), "--washout applies to a per-step"),
    (("--task", "motions", "--model", "esn", "--ridge", 0), "use ridge > 0"),
    (("--task", "charlm", "--model", "esn", "--readout", "rls"), "--readout rls and --search"),
]


@pytest.mark.parametrize("flags, words", BAD, ids=[w for _, w in BAD])
def test_bad_input_is_one_line_and_writes_nothing(flags, words, capsys, tmp_path):
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", *flags, "--out", out)
    assert code == 2 and err.count("\n") == 1 and words in err, err
    assert not out.exists()


@pytest.mark.parametrize("task", ["mackey-glass", "tag"])
def test_search_scores_each_trial_as_its_own_fit_and_keeps_the_best(capsys, tmp_path, task,
                                                                     monkeypatch):  # fmt: skip
    """The search runs its (trial, seed) pairs vmapped in groups; each score equals a
    plain ``--model esn`` fit of that trial's values on that seed's reservoir, validated
    alone (mackey-glass: one state per window, all 9 pairs in one group; tag: every step
    after the washout, groups of 4, 4 and 1 pairs under a memory bound of 4 pairs)."""
    import dataclasses

    from rnnlab.tasks import _esn_search, get_task
    from rnnlab.tasks._esn import build_esn, fit_readout, score_of, training_rows

    if task == "tag":  # the bytes of 4 pairs' states (12 rows x 10 steps x 12 units) and W
        monkeypatch.setattr(_esn_search, "GROUP_BYTES", 4 * (12 * 10 * 12 * 12 + 12 * 12 * 4))
        assert _esn_search.group_size(9, 12, 10, 12, per_step=True) == 4

    flags = ["--task", task, "--model", "esn", "--units", 12, "--search", 3, "--seed", 5]
    if task == "tag":  # variable lengths; a batch size that leaves a short last batch
        rng = np.random.default_rng(1)
        x = rng.standard_normal((40, 10, 2)).astype(np.float32)
        y = (np.cumsum(x[:, :, 0], axis=1) > 0).astype(np.int64)
        np.savez(tmp_path / "d.npz", x=x, y=y, lengths=rng.integers(4, 11, 40))
        flags += ["--data", tmp_path / "d.npz", "--washout", 2, "--batch-size", 12]
    else:
        flags += ["--batch-size", 300]
    out = tmp_path / "s"
    code, _, err = run(capsys, "train", *flags, "--out", out)
    assert code == 0, err
    table = json.loads((out / "trials.json").read_text())
    r = load_run(out)
    data, m = r.task.load_data(r.config), r.config.model
    info, pool = r.info, task != "tag"
    for t in table["trials"]:
        trial = dataclasses.replace(m, **{k: t[k] for k in ("spectral_radius", "leak",
                                                           "input_scaling", "ridge")})  # fmt: skip
        for k, want in zip(table["seeds"], t["scores"], strict=True):
            model = build_esn(trial, info["features"], info["classes"], pool=pool, seed=k)
            problem = get_task(task).problem(model, data, r.config)
            model = fit_readout(model, training_rows(problem), batch_size=r.config.train.batch_size,
                                ridge=trial.ridge, washout=m.washout)  # fmt: skip
            assert score_of(problem.evaluate(model))[1] == pytest.approx(want, rel=1e-3, abs=1e-6)
    # the best mean is the run: its values in config.json, on the first seed's reservoir
    assert "<- best" in err
    best = min(table["trials"], key=lambda t: t["mean"])
    assert table["best"] == best["trial"]
    saved = json.loads((out / "config.json").read_text())["model"]
    for name in ("spectral_radius", "leak", "input_scaling", "ridge"):
        assert saved[name] == best[name]
    assert np.asarray(r.model.cell.lr) == pytest.approx(best["leak"])
    val = _eval(capsys, out, "--split", "val")["metrics"]
    got = val["mse"] if pool else -val["accuracy"]
    assert got == pytest.approx(best["scores"][0], rel=1e-4)
    if task == "tag":  # the three ways a group runs: W shared by whole trials, W per pair
        import jax.numpy as jnp  # (vmapped), and per pair on a sparse layout

        cells = [build_esn(m, 2, 2, pool=False, seed=k).cell for k in table["seeds"]]
        sparse = [rc.ReservoirCell(2, W=c.dense_W(), W_in=c.W_in, bias=c.bias, leak_rate=c.lr,
                                   matmul="sparse") for c in cells]  # fmt: skip
        two = lambda a, b: [a] * 3 + [b] * 3  # two trials on the 3 seeds, trial-major
        hp = tuple(jnp.asarray(a) for a in ([0, 1, 2] * 2, two(0.5, 1.7), two(0.3, 1.0),
                                             two(2.0, 0.4)))  # fmt: skip
        x, lengths = jnp.asarray(data.splits["train"].x[:5]), jnp.asarray([10, 7, 4, 10, 1])
        runs = [np.asarray(_esn_search._group_features(_esn_search._stacked(c), hp, x, lengths,
                                                       (2, False, False, shared)))
                for c, shared in ((cells, True), (cells, False), (sparse, False))]  # fmt: skip
        np.testing.assert_allclose(runs[0], runs[1], atol=1e-5)
        np.testing.assert_allclose(runs[2], runs[1], atol=1e-5)
        assert np.abs(runs[0][:, 4, 1:]).max() == 0 < np.abs(runs[0][:, 4, 0]).max()  # length 1


def test_rls_readout_learns_online(capsys, tmp_path):
    out = tmp_path / "rls"
    code, _, err = run(capsys, "train", "--task", "mackey-glass", "--model", "esn", "--units", 30,
                       "--readout", "rls", "--ridge", 1e-3, "--out", out)  # fmt: skip
    assert code == 0, err
    result = _eval(capsys, out)
    assert result["metrics"]["nrmse"] < result["baseline"]["nrmse"]


def test_tag_esn_reads_every_step_after_the_washout_as_numpy_does(capsys, tmp_path):
    """Your own tagged file: one label per step (is the input's running sum positive?),
    variable lengths; the fit leaves the first 2 steps of each row out."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 20, 2)).astype(np.float32)
    y = (np.cumsum(x[:, :, 0], axis=1) > 0).astype(np.int64)
    lengths = rng.integers(8, 21, 60)
    np.savez(tmp_path / "d.npz", x=x, y=y, lengths=lengths)
    out = tmp_path / "t"
    code, _, err = run(capsys, "train", "--task", "tag", "--data", tmp_path / "d.npz", "--model",
                       "esn", "--units", 30, "--leak", 0.5, "--washout", 2, "--ridge", 1e-3,
                       "--batch-size", 16, "--out", out)  # fmt: skip
    assert code == 0, err
    result = _eval(capsys, out)
    assert result["metrics"]["accuracy"] > result["baseline"]["accuracy"] + 0.15
    from rnnlab.tasks._data import scaled

    r = load_run(out)
    data = r.task.load_data(r.config)
    tr, te = (scaled(data.splits[s], r.info) for s in ("train", "test"))
    cell = r.model.cell
    W, W_in = cell.dense_W().astype(np.float64), np.asarray(cell.W_in, np.float64)

    def states(part):  # (N, T, H), every step, each row from zero
        h, out = np.zeros((len(part), 30)), []
        for t in range(part.x.shape[1]):
            h = 0.5 * h + 0.5 * np.tanh(part.x[:, t].astype(np.float64) @ W_in.T + h @ W.T)
            out.append(h)
        return np.stack(out, 1)

    t = np.arange(tr.x.shape[1])[None]
    keep = (t >= 2) & (t < tr.lengths[:, None])
    X, Y = states(tr)[keep], np.eye(2)[tr.y[keep]]
    Xm, Ym = X.mean(0), Y.mean(0)
    w = np.linalg.solve((X - Xm).T @ (X - Xm) + 1e-3 * np.eye(30), (X - Xm).T @ (Y - Ym))
    pred = (states(te) @ w + (Ym - Xm @ w)).argmax(-1)[te.valid()]
    want = float((pred == te.y[te.valid()]).mean())
    assert result["metrics"]["accuracy"] == pytest.approx(want, abs=1.5 / te.valid().sum())
    # --devices 2: each batch of 15 rows split over two devices (one padded row), the
    # float64 sums added by a psum: the same readout as the host's sums
    code, _, err = run(capsys, "train", "--task", "tag", "--data", tmp_path / "d.npz", "--model",
                       "esn", "--units", 30, "--leak", 0.5, "--washout", 2, "--ridge", 1e-3,
                       "--batch-size", 15, "--devices", 2, "--out", tmp_path / "t2")  # fmt: skip
    assert code == 0, err
    W_out = np.asarray(r.model.readout.W_out)
    split = np.asarray(load_run(tmp_path / "t2").model.readout.W_out)
    np.testing.assert_allclose(split, W_out, atol=1e-5 * np.abs(W_out).max())
    np.testing.assert_allclose(W_out, w, atol=1e-4 * np.abs(w).max())  # and NumPy's


def test_charlm_esn_equals_the_library_fit_and_samples_in_closed_loop(capsys, tmp_path):
    """Next character: one-hot input, a ridge readout of one-hot targets over 4 streams
    (rnnlab.reservoir.fit on the same streams), probabilities clipped at 1e-3; the NLL
    and an argmax sample against NumPy."""
    verse = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak.\n\n"
    (tmp_path / "t.txt").write_text(verse * 30)
    out = tmp_path / "lm"
    code, _, err = run(capsys, "train", "--task", "charlm", "--corpus", tmp_path / "t.txt",
                       "--model", "esn", "--units", 30, "--ridge", 1e-2, "--seq-len", 20,
                       "--batch-size", 4, "--sample-chars", 0, "--out", out)  # fmt: skip
    assert code == 0, err
    result = _eval(capsys, out)
    r = load_run(out)
    ids, V = r.task.load_data(r.config).splits, len(r.info["vocab"])
    cell = r.model.cell
    eye = np.eye(V)

    def streams(a):  # B streams as rnnlab.charlm.evaluate reads them
        B = max(1, min(4, (len(a) - 1) // 21))
        L = (len(a) - 1) // B
        return a[: B * L].reshape(B, L), a[1 : B * L + 1].reshape(B, L)

    x, y = streams(ids["train"])
    esn = rc.fit(cell, eye[x], eye[y], ridge=1e-2)
    W_out = np.asarray(r.model.readout.W_out)
    np.testing.assert_allclose(W_out, esn.readout.W_out, atol=2e-3 * np.abs(W_out).max())
    # the test split's NLL by hand: NumPy states, outputs clipped at 1e-3, renormalised
    W, W_in, lr = cell.dense_W().astype(np.float64), np.asarray(cell.W_in, np.float64), 1.0
    x, y = streams(ids["test"])
    h, nll = np.zeros((len(x), 30)), []
    b = np.asarray(esn.readout.bias)
    for t in range(x.shape[1]):
        h = (1 - lr) * h + lr * np.tanh(eye[x[:, t]] @ W_in.T + h @ W.T)
        p = np.maximum(h @ np.asarray(esn.readout.W_out) + b, 1e-3)
        nll.append(-np.log(p[np.arange(len(x)), y[:, t]] / p.sum(1)))
    got = result["metrics"]["nats_per_char"]
    assert got == pytest.approx(np.mean(nll), rel=1e-3)
    assert got < result["baseline"]["nats_per_char"] - 1.0  # unigram
    # sample --argmax: from "\n", each character the readout's largest, read next
    code, text, err = run(capsys, "sample", out, "--length", 8, "--argmax")
    assert code == 0, err
    vocab, h, c, want = r.info["vocab"], np.zeros(30), "\n", ""
    for _ in range(8):
        h = np.tanh(W_in @ eye[vocab.index(c)] + W @ h)
        c = vocab[int(np.argmax(h @ W_out + np.asarray(r.model.readout.bias)))]  # the run's
        want += c
    assert text.startswith("\n" + want) or text.startswith(want), (text, want)


def test_birdsong_esn_reads_probabilities_as_the_library_fit_gives_them(capsys, tmp_path):
    """Next syllable: the readout of one-hot targets equals rnnlab.reservoir.fit on the
    same songs (every step before each song's end), its outputs clipped at 1e-3 and
    renormalised score the NLL; beats the first-order Markov chain."""
    out = tmp_path / "b"
    code, _, err = run(capsys, "train", "--task", "birdsong", "--model", "esn", "--units", 30,
                       "--ridge", 1e-2, "--out", out)  # fmt: skip
    assert code == 0, err
    result = _eval(capsys, out)
    r = load_run(out)
    data = r.task.load_data(r.config)
    tr, te = data.splits["train"], data.splits["test"]
    C = tr.x.shape[-1]
    esn = rc.fit(r.model.cell, tr.x, np.eye(C)[tr.y], lengths=tr.lengths, ridge=1e-2)
    W_out = np.asarray(r.model.readout.W_out)
    np.testing.assert_allclose(W_out, esn.readout.W_out, atol=1e-4 * np.abs(W_out).max())
    y, _ = esn(te.x, lengths=te.lengths)  # (N, T, C)
    p = np.maximum(np.asarray(y, np.float64), 1e-3)
    p = np.take_along_axis(p / p.sum(-1, keepdims=True), te.y[..., None], -1)[..., 0]
    valid = np.arange(te.x.shape[1])[None] < te.lengths[:, None]
    assert result["metrics"]["nll"] == pytest.approx(-np.log(p[valid]).mean(), rel=1e-3)
    assert result["metrics"]["nll"] < result["baseline"]["nll"]
