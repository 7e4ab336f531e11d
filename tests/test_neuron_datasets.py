"""Playground data sets: seeded, balanced, and shaped the way their names promise."""

import numpy as np
import pytest

from rnnlab.neuron import circles, gaussian_blobs, two_spirals, xor

GENERATORS = {
    "xor": lambda n, seed: xor(n, noise=0.05, seed=seed),
    "circles": lambda n, seed: circles(n, noise=0.05, seed=seed),
    "spirals": lambda n, seed: two_spirals(n, noise=0.05, seed=seed),
    "blobs": lambda n, seed: gaussian_blobs(n, n_classes=2, seed=seed),
    "blobs-4": lambda n, seed: gaussian_blobs(n, n_classes=4, seed=seed),
}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_seeded_and_balanced(name):
    make = GENERATORS[name]
    X, y = make(200, 0)
    X_same, y_same = make(200, 0)
    X_other, _ = make(200, 1)
    np.testing.assert_array_equal(X, X_same)
    np.testing.assert_array_equal(y, y_same)
    assert not np.allclose(X, X_other)
    assert X.shape == (200, 2) and X.dtype == np.float32 and y.dtype == np.int32
    counts = np.bincount(y)
    assert len(counts) >= 2 and np.all(counts == counts[0])


def test_xor_label_is_exclusive_or_of_signs():
    X, y = xor(300, noise=0.0, seed=2)
    np.testing.assert_array_equal(y, ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(int))
    assert np.all(np.abs(X) >= 0.1)  # the margin keeps points off the axes


def test_circles_are_a_disc_inside_a_ring():
    X, y = circles(300, noise=0.0, seed=3)
    r = np.linalg.norm(X, axis=1)
    assert r[y == 0].max() < 0.5 and r[y == 1].min() >= 0.7 - 1e-6 and r.max() <= 1 + 1e-6


def test_blobs_sit_at_their_centres():
    X, y = gaussian_blobs(400, n_classes=4, noise=0.05, seed=4)
    centres = np.array([[0.6, 0.0], [0.0, 0.6], [-0.6, 0.0], [0.0, -0.6]])
    nearest = np.linalg.norm(X[:, None] - centres[None], axis=2).argmin(1)
    np.testing.assert_array_equal(nearest, y)


def test_spirals_follow_the_spiral_and_interleave():
    turns = 1.75
    X, y = two_spirals(400, noise=0.0, turns=turns, seed=0)
    r = np.linalg.norm(X, axis=1)
    # theta = 2 pi turns r + c pi, so the angle minus the winding is 0 or pi by class.
    phase = np.mod(np.arctan2(X[:, 1], X[:, 0]) - 2 * np.pi * turns * r, 2 * np.pi)
    distance_to_pi = np.abs(phase - np.pi)
    assert np.all(distance_to_pi[y == 1] < 1e-4)
    assert np.all(distance_to_pi[y == 0] > np.pi - 1e-4)
    # Class 1 is class 0 turned by half a turn.
    np.testing.assert_allclose(X[y == 1], -X[y == 0], atol=1e-6)
    # Interleaved: along the positive x-axis the nearest points alternate in class.
    on_axis = (np.abs(X[:, 1]) < 0.02) & (X[:, 0] > 0)
    labels = y[on_axis][np.argsort(X[on_axis, 0])]
    assert np.count_nonzero(np.diff(labels)) >= 2
    # And no straight line separates them: least squares gets far from 100 %.
    A = np.c_[X, np.ones(len(X))]
    w = np.linalg.lstsq(A, 2.0 * y - 1, rcond=None)[0]
    assert np.mean((A @ w > 0) == y) < 0.75
