"""Echo state networks reach ReservoirPy's tutorial scores on fresh seeds (issue 17, item 6).

Settings from ReservoirPy 0.4's tutorials 3 and 5 (committed notebook outputs: Mackey-Glass
10-step NRMSE 0.006855, 100-step 0.054411; Japanese vowels 92.8 % per step, 87.3 % per
utterance); rnnlab's own draws, seeds 0-4. Closed-form fits: a few seconds each.
"""

import warnings

import jax.numpy as jnp
import numpy as np
import pytest

from rnnlab import reservoir as rc

SEEDS = range(5)


@pytest.mark.parametrize("horizon, bound", [(10, 0.02), (100, 0.1)])
def test_mackey_glass_forecast(x64, horizon, bound):
    """Tutorial 3: 2,510 steps rescaled to [-1, 1], train 2,000, 100 units, leak 0.3,
    spectral radius 1.25, input connectivity 0.2, ridge 1e-8, no warm-up. The bound is on
    the mean over the seeds; single draws spread widely (10-step: 0.005 to 0.03)."""
    x, y = rc.to_forecasting(rc.rescale(rc.mackey_glass(2510)), horizon)
    scores = []
    for seed in SEEDS:
        with warnings.catch_warnings():  # rho(0.3 W + 0.7 I) is about 1.003 here
            warnings.simplefilter("ignore", rc.EchoStateWarning)
            cell = rc.ReservoirCell(
                1, 100, leak_rate=0.3, spectral_radius=1.25, input_connectivity=0.2, key=seed
            )
        esn, final = rc.fit(cell, x[:2000], y[:2000], ridge=1e-8, return_state=True)
        scores.append(rc.nrmse(y[2000:], esn(jnp.asarray(x[2000:]), final)[0]))
    assert np.mean(scores) <= bound, scores


@pytest.fixture(scope="module")
def vowels():
    """The official JapaneseVowels split (270 / 370), read by the vowels task's loader."""
    from rnnlab.tasks import _aeon

    train, _ = _aeon.load("JapaneseVowels", "TRAIN")
    test, _ = _aeon.load("JapaneseVowels", "TEST")
    assert len(train.x) == 270 and len(test.x) == 370
    return train, test


def test_vowels_every_step(vowels):
    """Tutorial 5, transduction: 500 units, spectral radius 0.05, the input also to the
    readout, ridge 0.1, warm-up 2; accuracy over every step of every test utterance."""
    train, test = vowels
    for seed in SEEDS:
        cell = rc.ReservoirCell(12, 500, spectral_radius=0.05, key=100 + seed)
        clf = rc.fit_classifier(
            cell,
            train.x,
            train.y,
            lengths=train.lengths,
            mode="every",
            ridge=0.1,
            warmup=2,
            input_to_readout=True,
        )
        acc = clf.accuracy(test.x, test.y, lengths=test.lengths)
        assert acc >= 0.90, (seed, acc)


def test_vowels_last_state(vowels):
    """Tutorial 5, sequence to vector: 500 units, spectral radius 0.9, leak 0.1, ridge 1e-6,
    the state after each utterance's last step."""
    train, test = vowels
    for seed in SEEDS:
        cell = rc.ReservoirCell(12, 500, spectral_radius=0.9, leak_rate=0.1, key=200 + seed)
        clf = rc.fit_classifier(cell, train.x, train.y, lengths=train.lengths, ridge=1e-6)
        acc = clf.accuracy(test.x, test.y, lengths=test.lengths)
        assert acc >= 0.85, (seed, acc)
