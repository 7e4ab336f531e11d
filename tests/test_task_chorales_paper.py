"""Chung et al. 2014's JSB recipe in --task chorales: the first frame scored, weight noise
(the gradient at the noisy weights, against a NumPy forward and finite differences)."""

import json

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from rnnlab.models import SequenceTagger
from rnnlab.tasks import chorales
from rnnlab.tasks._weight_noise import noise_key, noisy

JSB = {
    "train": [[[60, 64, 67], [62, 65], [60]], [[48, 55], [50], [52, 55, 60], [53]]],
    "valid": [[[57, 60], [59]]],
    "test": [[[43], [96], []], [[60], [62], [64], [65]]],
}


def test_first_frame_adds_exactly_one_scored_frame_per_chorale(tmp_path):
    path = tmp_path / "jsb.json"
    path.write_text(json.dumps(JSB))
    plain, first = chorales.jsb_dataset(path), chorales.jsb_dataset(path, first=True)
    for split, theirs in chorales.JSB_SPLITS.items():
        a, b = plain.splits[split], first.splits[split]
        n = len(JSB[theirs])
        assert b.valid().sum() == a.valid().sum() + n
        assert (b.lengths == [len(piece) for piece in JSB[theirs]]).all()
        assert not b.x[:, 0].any()  # a silent frame before each chorale
        for i, piece in enumerate(JSB[theirs]):  # target 0: the first frame itself
            assert np.flatnonzero(b.y[i, 0]).tolist() == [m - 21 for m in piece[0]]
        # after it, the same inputs and targets as without the first frame
        T = a.x.shape[1]
        np.testing.assert_array_equal(b.x[:, 1 : T + 1], a.x)
        np.testing.assert_array_equal(b.y[:, 1 : T + 1], a.y)
        p = np.full(b.y.shape, 0.25)
        s, s0 = chorales.roll_scores(p, b, first=True), chorales.roll_scores(p[:, 1:], a)
        assert s["frames"] - s0["frames"] == n
        assert s["frame_nll_rest"] == pytest.approx(s0["frame_nll"])
        # the mean over every frame is the frames-weighted mean of the two parts
        mix = (n * s["frame_nll_first"] + s0["frames"] * s["frame_nll_rest"]) / s["frames"]
        assert s["frame_nll"] == pytest.approx(mix)


def _numpy_loss(leaves, x, y, lengths):
    """The summed frame NLL of a 1-layer tanh tagger, written out by hand."""
    W, U, b_ih, b_hh, V, c = (np.asarray(a, np.float64) for a in leaves)
    total = 0.0
    for n in range(len(x)):
        h = np.zeros(U.shape[0])
        for t in range(lengths[n]):
            h = np.tanh(W @ x[n, t] + b_ih + U @ h + b_hh)
            p = 1 / (1 + np.exp(-(V @ h + c)))
            total -= np.sum(y[n, t] * np.log(p) + (1 - y[n, t]) * np.log(1 - p))
    return total


def _differences(leaves, i, x, y, lengths, h=1e-5):
    """Central differences of :func:`_numpy_loss` in every entry of leaf ``i``."""
    fd = np.zeros(leaves[i].shape)
    for j in np.ndindex(fd.shape):
        up, down = [a.copy() for a in leaves], [a.copy() for a in leaves]
        up[i][j] += h
        down[i][j] -= h
        fd[j] = (_numpy_loss(up, x, y, lengths) - _numpy_loss(down, x, y, lengths)) / (2 * h)
    return fd


def test_weight_noise_gradient_is_the_gradient_at_the_noisy_weights():
    P, H, sd = 3, 2, 0.075
    model = SequenceTagger(P, P, cell="elman", hidden=H, key=jax.random.key(1))
    rng = np.random.default_rng(0)
    x = (rng.random((2, 4, P)) < 0.5).astype(np.float32)
    y = (rng.random((2, 4, P)) < 0.5).astype(np.float32)
    lengths = np.array([4, 3], np.int32)
    batch = (jnp.asarray(x), jnp.asarray(y), jnp.asarray(lengths))
    keys = jax.random.split(jax.random.key(7), 2)
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def grad_of(loss):
        f = lambda p: loss(eqx.combine(p, static), batch, None, keys)[0]  # noqa: E731
        return jax.value_and_grad(f)(params)

    value, grads = grad_of(chorales.frame_loss_of(None, sd))
    w = jax.tree_util.tree_leaves(params)  # W, U, b_ih, b_hh, V, c
    w_noisy = jax.tree_util.tree_leaves(eqx.filter(noisy(model, noise_key(keys), sd),
                                                   eqx.is_inexact_array))  # fmt: skip
    eps = np.concatenate([np.ravel(b - a) for a, b in zip(w, w_noisy, strict=True)])
    assert 0.3 * sd < eps.std() < 2 * sd and abs(eps.mean()) < sd  # 23 draws of N(0, sd^2)
    # the loss is the hand-written one at the noisy weights ...
    leaves = [np.asarray(a, np.float64) for a in w_noisy]
    assert float(value) == pytest.approx(_numpy_loss(leaves, x, y, lengths), rel=1e-5)
    # ... and so is its gradient with respect to the clean weights (central differences),
    # which differs from the gradient at the clean weights
    clean = [np.asarray(a, np.float64) for a in w]
    gap = 0.0
    for i, g in enumerate(jax.tree_util.tree_leaves(grads)):
        fd, fd_clean = _differences(leaves, i, x, y, lengths), _differences(clean, i, x, y, lengths)
        np.testing.assert_allclose(np.asarray(g), fd, rtol=1e-3, atol=1e-4)
        gap = max(gap, float(abs(fd - fd_clean).max()))
    assert gap > 1e-3
    other = noisy(model, noise_key(jax.random.split(jax.random.key(8), 2)), sd)
    assert not np.allclose(other.readout.weight, w_noisy[4])


def _jsb_paper():
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).parents[1] / "bench" / "jsb_paper.py"
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location("jsb_paper", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_jsb_paper_sweep_step_is_the_engine_optimizer_per_learning_rate(tmp_path):
    """bench/jsb_paper.py trains one net per learning rate under vmap: each trial must be
    the engine's rmsprop + clip 1 (make_optimizer) on the task's noisy loss, run alone."""
    from rnnlab.engine.optim import make_optimizer

    jp = _jsb_paper()
    # Chung et al.'s Table 1 counts, as the checked notes fit them (recurrent layer, 100 in)
    assert [jp.chung_count(c, h) for c, h in (("peephole", 36), ("gru", 46), ("elman", 100))] == [
        19_836, 20_286, 20_100]  # fmt: skip
    rates = jp.learning_rates(1e-4, 1e-2, 10)
    assert rates == jp.learning_rates(1e-4, 1e-2, 10) and 1e-4 <= min(rates) < max(rates) <= 1e-2
    path = tmp_path / "jsb.json"
    path.write_text(json.dumps(JSB))
    train = chorales.jsb_dataset(path, first=True).splits["train"]
    batch = tuple(jnp.asarray(a) for a in (train.x, train.y, train.lengths))
    net = SequenceTagger(88, 88, cell="gru", hidden=3, key=jax.random.key(0))
    params, static = eqx.partition(net, eqx.is_inexact_array)
    lrs, sd = [0.01, 0.002], 0.075
    stacked = jax.tree_util.tree_map(lambda a: jnp.stack([a, a]), params)
    state = jax.vmap(lambda p, lr: jp.optimizer(lr).init(p))(stacked, jnp.asarray(lrs))
    step, _ = jp.sweep_fns(static, sd)
    loss = chorales.frame_loss_of(None, sd)
    alone = [(params, make_optimizer("rmsprop", lr, clip=1.0)) for lr in lrs]
    alone = [(p, opt, opt.init(p)) for p, opt in alone]

    def mean_loss(p, keys):
        total, count, _ = loss(eqx.combine(p, static), batch, None, keys)
        return total / count

    grad = jax.jit(jax.grad(mean_loss))
    for t in range(2):
        keys = jp.step_keys(0, t, 2, 2)
        stacked, state, _ = step(stacked, state, jnp.asarray(lrs), keys, batch)
        for k, (p, opt, s) in enumerate(alone):
            u, s = opt.update(grad(p, keys[k]), s, p)
            alone[k] = (optax.apply_updates(p, u), opt, s)
    for k, (p, _, _) in enumerate(alone):
        for a, b in zip(jax.tree_util.tree_leaves(stacked), jax.tree_util.tree_leaves(p),
                        strict=True):  # fmt: skip
            np.testing.assert_allclose(np.asarray(a[k]), np.asarray(b), rtol=1e-5, atol=1e-6)
    moved = [jax.tree_util.tree_leaves(p)[0] for p, _, _ in alone]
    assert not np.allclose(moved[0], moved[1])  # the two learning rates differ
