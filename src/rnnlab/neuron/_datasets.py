"""Two-dimensional toy data sets, after the TensorFlow Playground (Smilkov & Carter 2016).

Every function takes ``n_samples`` and a ``seed`` and returns ``(X, y)``: X float32
(N, 2) with coordinates in about [-1, 1], y int32 (N,) class labels. Samples are
ordered by class; the same seed gives the same data. Classes get ``n_samples // K``
points each, the first ones one more when N is not a multiple of K.
"""

import numpy as np

from rnnlab.errors import UserError

__all__ = ["circles", "gaussian_blobs", "two_spirals", "xor"]


def _check(n_samples, noise, min_samples: int = 1) -> None:
    if not isinstance(n_samples, int | np.integer) or n_samples < min_samples:
        raise UserError(f"n_samples must be an integer >= {min_samples}, got {n_samples!r}")
    if not noise >= 0:
        raise UserError(f"noise must be >= 0, got {noise!r}")


def _class_sizes(n_samples: int, n_classes: int) -> list[int]:
    return [n_samples // n_classes + (c < n_samples % n_classes) for c in range(n_classes)]


def _finish(parts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    X = np.concatenate(parts).astype(np.float32)  # (N, 2)
    y = np.concatenate([np.full(len(p), c, np.int32) for c, p in enumerate(parts)])  # (N,)
    return X, y


def xor(n_samples: int = 200, *, noise: float = 0.0, margin: float = 0.1, seed: int = 0):
    """Points in the four quadrants; class 1 where the signs differ (x1 * x2 < 0).

    Reading "x_i > 0" as bit i, the label is the exclusive or of the two bits, the
    function a single neuron cannot compute (Minsky & Papert 1969). Coordinates are
    uniform in ``margin <= |x_i| <= 1`` plus Gaussian noise of std ``noise``.
    """
    _check(n_samples, noise)
    if not 0 <= margin < 1:
        raise UserError(f"margin must be in [0, 1), got {margin!r}")
    rng = np.random.default_rng(seed)
    parts = []
    for c, n in enumerate(_class_sizes(n_samples, 2)):
        magnitude = rng.uniform(margin, 1.0, size=(n, 2))  # (n, 2)
        s1 = rng.choice([-1.0, 1.0], size=n)
        s2 = s1 if c == 0 else -s1  # same signs: class 0; different signs: class 1
        parts.append(magnitude * np.stack([s1, s2], axis=1) + noise * rng.normal(size=(n, 2)))
    return _finish(parts)


def circles(n_samples: int = 200, *, noise: float = 0.0, seed: int = 0):
    """A disc (class 0, radius r < 0.5) inside a ring (class 1, 0.7 <= r <= 1)."""
    _check(n_samples, noise)
    rng = np.random.default_rng(seed)
    parts = []
    for (r_lo, r_hi), n in zip([(0.0, 0.5), (0.7, 1.0)], _class_sizes(n_samples, 2), strict=True):
        r = rng.uniform(r_lo, r_hi, size=n)
        angle = rng.uniform(0.0, 2 * np.pi, size=n)
        circle = np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)  # (n, 2)
        parts.append(circle + noise * rng.normal(size=(n, 2)))
    return _finish(parts)


def two_spirals(n_samples: int = 400, *, noise: float = 0.0, turns: float = 1.75, seed: int = 0):
    """Two interleaved spirals (Lang & Witbrock 1988), as in the TensorFlow Playground.

    Point i of class c (i = 0 .. n-1), with radius r = (i + 1) / n in (0, 1]:

        theta = 2 pi * turns * r + c * pi,     x = r (cos theta, sin theta) + noise

    so class 1 is class 0 turned by half a turn. Without noise the points are fixed by
    ``n_samples`` and ``turns``; the seed only draws the noise.
    """
    _check(n_samples, noise, min_samples=2)
    rng = np.random.default_rng(seed)
    parts = []
    for c, n in enumerate(_class_sizes(n_samples, 2)):
        r = (np.arange(n) + 1) / n  # (n,); starts off 0 so no point lies in both classes
        theta = 2 * np.pi * turns * r + c * np.pi
        spiral = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)  # (n, 2)
        parts.append(spiral + noise * rng.normal(size=(n, 2)))
    return _finish(parts)


def gaussian_blobs(n_samples: int = 200, *, n_classes: int = 2, noise: float = 0.15, seed: int = 0):
    """``n_classes`` isotropic Gaussians of std ``noise``, centres evenly on a circle of
    radius 0.6 at angles 2 pi c / n_classes (class c)."""
    _check(n_samples, noise)
    if not isinstance(n_classes, int) or n_classes < 2:
        raise UserError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    rng = np.random.default_rng(seed)
    parts = []
    for c, n in enumerate(_class_sizes(n_samples, n_classes)):
        angle = 2 * np.pi * c / n_classes
        centre = 0.6 * np.array([np.cos(angle), np.sin(angle)])  # (2,)
        parts.append(centre + noise * rng.normal(size=(n, 2)))
    return _finish(parts)
