"""``--task primitives``: name the movement primitive at every step of a stream of them
(synced many-to-many), the setting of Yamashita & Tani's (2008) MTRNN.

Yamashita & Tani ("Emergence of functional hierarchy in a multiple timescale neural
network model: a humanoid robot experiment", PLoS Comput Biol 4(11): e1000220) trained a
robot on behaviours made of reusable movement primitives; the fast context units came
to encode the primitives and the slow ones their order, switching at the boundaries
between primitives (their Fig. 5). This task is a small stand-in: 2-D trajectories
(think of a hand's x and y) stitched from :data:`SHAPES`, four periodic patterns of
different shapes and periods, each repeated for a random whole number of cycles (2 to
4) and followed by a different one; the label of a step is the primitive it belongs to.
Every segment starts at phase 0, where each shape passes through the origin, so the
trajectory is continuous and only its shape tells the primitives apart. Gaussian noise
(sd 0.05) is added. Sequences of :data:`LENGTH` steps, 128 / 16 / 32 for train, val and
test, drawn with fixed seeds (the same data for every run).

``rnnlab train --task primitives --cell mtrnn`` then ``rnnlab inspect RUN_DIR`` draws the
fast and slow context units over a test sequence (``inspect_context.png``).
"""

from __future__ import annotations

import numpy as np

from rnnlab.tasks._data import Dataset, SeqData
from rnnlab.tasks._supervised import SupervisedTask
from rnnlab.tasks.registry import register

LENGTH = 240
CYCLES = (2, 4)  # whole cycles per segment, inclusive
NOISE = 0.05
SIZES = {"train": 128, "val": 16, "test": 32}
SEEDS = {"train": 10, "val": 11, "test": 12}


def _circle(p):
    return np.sin(p), 1 - np.cos(p)


def _eight(p):
    return np.sin(p), 0.5 * np.sin(2 * p)


def _updown(p):
    return 0.1 * np.sin(p), np.sin(p)


def _zigzag(p):
    tri = 2 / np.pi * np.arcsin(np.sin(p))  # a triangle wave, 0 at phase 0
    return tri, 0.3 * np.sin(3 * p)


# name: (the (x, y) of phase p, steps per cycle)
SHAPES = {
    "circle": (_circle, 16),
    "figure-eight": (_eight, 20),
    "up-down": (_updown, 12),
    "zigzag": (_zigzag, 24),
}


def stream(length: int, rng: np.random.Generator, order=None) -> tuple[np.ndarray, np.ndarray]:
    """One sequence: ``x`` (length, 2) float32 and its labels (length,) int32. The
    primitives come in random order (each different from the one before), or cycle
    through ``order`` (indices into :data:`SHAPES`), a fixed behaviour as in Yamashita &
    Tani's robot task, where the order is what the slow units must hold."""
    names = list(SHAPES)
    x = np.zeros((length, 2), np.float32)
    y = np.zeros(length, np.int32)
    t, last, segment = 0, -1, 0
    while t < length:
        if order is None:
            k = int(rng.choice([i for i in range(len(names)) if i != last]))
        else:
            k, segment = int(order[segment % len(order)]), segment + 1
        shape, period = SHAPES[names[k]]
        n = int(rng.integers(CYCLES[0], CYCLES[1] + 1)) * period
        p = 2 * np.pi * np.arange(n) / period
        take = min(n, length - t)
        x[t : t + take] = np.column_stack(shape(p))[:take]
        y[t : t + take] = k
        t, last = t + take, k
    x += rng.normal(0, NOISE, x.shape).astype(np.float32)
    return x, y


def make_split(n: int, seed: int, length: int = LENGTH) -> SeqData:
    rng = np.random.default_rng(seed)
    rows = [stream(length, rng) for _ in range(n)]
    x = np.stack([r[0] for r in rows])
    y = np.stack([r[1] for r in rows])
    return SeqData(x, y, np.full(n, length, np.int32))


@register
class Primitives(SupervisedTask):
    name = "primitives"
    models = ("rnn", "window-mlp", "conv1d")
    pattern = "synced many-to-many"
    source = "generated: 4 periodic 2-D movement primitives in random order, 128/16/32 x 240"
    baseline = "majority tag"
    head = "tag"

    def load_data(self, config):
        splits = {s: make_split(SIZES[s], SEEDS[s]) for s in SIZES}
        return Dataset(splits, list(SHAPES))
