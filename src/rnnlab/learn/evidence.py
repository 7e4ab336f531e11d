"""The evidence-accumulation task of Bellec et al. (Nat. Commun. 11:3625, 2020, Fig. 3),
where a network must keep information over time: a series of cues, each on the left or
the right, then a delay, then a recall cue; the answer is the side that had more cues.

Inputs are spike trains of four groups of input neurons: the left group fires during
left cues, the right group during right cues, the recall group during the recall
window, and a noise group fires throughout at a low rate. The cue sides are drawn
independently with probability 1/2; an odd number of cues leaves no tie. Durations are
counted in steps; the defaults are a scaled-down version of the paper's task (about a
tenth of its length), small enough to train on a CPU.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnnlab.errors import UserError

MAX_VALUES = 2**28  # input numbers allowed in one call: n * T * channels


class EvidenceData(NamedTuple):
    """``x`` (n, T, 4 * group) spikes 0/1 (float32), channels left, right, recall, noise;
    ``label`` (n,) int32, 1 when more cues were on the right; ``decision`` (T,) bool,
    the recall window where the answer is read; ``cues`` (n, n_cues) int8, 1 for right."""

    x: np.ndarray
    label: np.ndarray
    decision: np.ndarray
    cues: np.ndarray


def evidence_accumulation(
    n: int,
    *,
    n_cues: int = 7,
    cue_steps: int = 10,
    gap_steps: int = 5,
    delay_steps: int = 50,
    recall_steps: int = 10,
    group: int = 10,
    cue_rate: float = 0.4,
    noise_rate: float = 0.05,
    seed: int = 0,
) -> EvidenceData:
    """``n`` trials of the evidence-accumulation task (see module docstring).

    Each cue lasts ``cue_steps`` followed by ``gap_steps`` of silence; after the last
    one, ``delay_steps``, then ``recall_steps`` of the recall cue. ``cue_rate`` and
    ``noise_rate`` are spike probabilities per step and neuron (0.4 and 0.05 are 40 Hz
    and 5 Hz at 10 ms steps).

    >>> d = evidence_accumulation(4, n_cues=3, seed=0)
    >>> d.x.shape, d.label.shape, int(d.decision.sum())
    ((4, 105, 40), (4,), 10)
    """
    ints = dict(n=n, n_cues=n_cues, cue_steps=cue_steps, gap_steps=gap_steps)
    ints.update(delay_steps=delay_steps, recall_steps=recall_steps, group=group)
    for name, v in ints.items():
        low = 0 if name in ("gap_steps", "delay_steps") else 1
        if not isinstance(v, int | np.integer) or isinstance(v, bool) or v < low:
            raise UserError(f"{name} must be an integer >= {low}, got {v!r}")
    if n_cues % 2 == 0:
        raise UserError(f"n_cues must be odd (no ties), got {n_cues}")
    for name, v in (("cue_rate", cue_rate), ("noise_rate", noise_rate)):
        if not (isinstance(v, int | float) and 0 <= v <= 1):
            raise UserError(f"{name} must be a probability in [0, 1], got {v!r}")
    period = cue_steps + gap_steps
    T = n_cues * period + delay_steps + recall_steps
    if n * T * 4 * group > MAX_VALUES:
        raise UserError(
            f"{n} trials of {T} steps x {4 * group} inputs exceed {MAX_VALUES:,} numbers"
        )
    rng = np.random.default_rng(seed)
    cues = rng.integers(0, 2, size=(n, n_cues)).astype(np.int8)  # 1: right
    rate = np.zeros((n, T, 4), np.float32)  # per group: left, right, recall, noise
    for c in range(n_cues):
        on = slice(c * period, c * period + cue_steps)
        rate[:, on, 0] = np.where(cues[:, c, None] == 0, cue_rate, 0.0)
        rate[:, on, 1] = np.where(cues[:, c, None] == 1, cue_rate, 0.0)
    decision = np.zeros(T, bool)
    decision[T - recall_steps :] = True
    rate[:, decision, 2] = cue_rate
    rate[:, :, 3] = noise_rate
    rate = np.repeat(rate, group, axis=2)  # (n, T, 4 * group)
    x = (rng.random(rate.shape) < rate).astype(np.float32)
    label = (2 * cues.sum(1) > n_cues).astype(np.int32)
    return EvidenceData(x, label, decision, cues)
