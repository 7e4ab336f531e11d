"""``--task reber``: the embedded Reber grammar, Hochreiter & Schmidhuber (1997) experiment 1.

A Reber string is a walk through the automaton :data:`GRAPH` (Reber 1967; Cleeremans et
al. 1989) from ``B`` to ``E``; an embedded one wraps it as ``B T <reber> T E`` or
``B P <reber> P E``, so the second-to-last symbol repeats the second one across the
whole inner string. Symbols are one-hot over ``BTPSXVE`` (7 inputs, 7 outputs); every
step predicts the next symbol (the final ``E`` is never an input).

A prediction is right when the grammar's allowed-next set is exactly the k largest
outputs, k the size of that set ("top-k"; the softmax spreads the probability over the
allowed symbols, so a threshold of 0.5 would fail on every two-way branch). The task is
solved when every prediction of every test string is right. The paper has 256 training
and 256 test strings and no validation set, and counts a trial solved when every
prediction on both is right (30 trials: 3 data sets x 10 initialisations); rnnlab adds a
256-string validation set to pick checkpoints. The metrics also give the training strings seen
until the validation set was first solved (``strings_seen``; -1 if never). Baseline:
the training symbol frequencies at every step.
"""

from __future__ import annotations

import json
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from rnnlab.engine import io
from rnnlab.tasks._data import SeqData
from rnnlab.tasks._nextstep import RawDataset
from rnnlab.tasks._supervised import SupervisedTask, predict_logits, scores
from rnnlab.tasks._task import Criterion
from rnnlab.tasks.registry import register

SYMBOLS = "BTPSXVE"
# Reber's automaton: state -> [(symbol, next state)]; 0 reads B, 6 reads E, -1 ends.
GRAPH = {
    0: [("B", 1)],
    1: [("T", 2), ("P", 3)],
    2: [("S", 2), ("X", 4)],
    3: [("T", 3), ("V", 5)],
    4: [("X", 3), ("S", 6)],
    5: [("P", 4), ("V", 6)],
    6: [("E", -1)],
}
SIZE = 256  # strings per split (H&S 1997)


def reber_string(rng: np.random.Generator) -> str:
    """A Reber string: a walk from state 0 to the end, each branch a fair coin."""
    state, out = 0, []
    while state != -1:
        symbol, state = GRAPH[state][rng.integers(len(GRAPH[state]))]
        out.append(symbol)
    return "".join(out)


def embedded_string(rng: np.random.Generator) -> str:
    """``B T <reber> T E`` or ``B P <reber> P E``, either with probability 1/2."""
    side = "TP"[rng.integers(2)]
    return f"B{side}{reber_string(rng)}{side}E"


def allowed_next(string: str) -> list[set[str]]:
    """The symbols the embedded grammar allows after each prefix ``string[: t + 1]``,
    for t = 0 .. len - 2 (the last symbol has no successor)."""
    sets, state = [{"T", "P"}, {"B"}], 0  # after B, after B T|P
    for symbol in string[2:-2]:  # the inner string, through its E
        state = dict(GRAPH[state])[symbol]
        sets.append({s for s, _ in GRAPH[state]} if state != -1 else {string[1]})
    return [*sets, {"E"}]


def one_hot_strings(strings: list[str]) -> SeqData:
    """Inputs: every symbol but the last, one-hot (N, T, 7); targets: the next (N, T)."""
    T = max(len(s) for s in strings) - 1
    x = np.zeros((len(strings), T, len(SYMBOLS)), np.float32)
    y = np.zeros((len(strings), T), np.int32)
    for i, s in enumerate(strings):
        ids = [SYMBOLS.index(c) for c in s]
        x[i, np.arange(len(s) - 1), ids[:-1]] = 1
        y[i, : len(s) - 1] = ids[1:]
    return SeqData(x, y, np.array([len(s) - 1 for s in strings], np.int32))


def top_k_right(outputs: np.ndarray, allowed: list[set[str]]) -> np.ndarray:
    """Per step (bool): are the k largest of ``outputs`` (T, 7) the allowed set (size k)?"""
    order = np.argsort(-outputs, axis=-1, kind="stable")
    return np.array([
        {SYMBOLS[j] for j in order[t, : len(ok)]} == ok for t, ok in enumerate(allowed)
    ])  # fmt: skip


def allowed_mask(strings: list[str], T: int | None = None) -> np.ndarray:
    """(N, T, 7) bool: the allowed-next sets of :func:`allowed_next` as masks over
    ``SYMBOLS``, padded with False to (or cut at) ``T`` steps (default: the longest
    string's)."""
    T = max(len(s) for s in strings) - 1 if T is None else T
    mask = np.zeros((len(strings), T, len(SYMBOLS)), bool)
    for n, s in enumerate(strings):
        for t, ok in enumerate(allowed_next(s)[:T]):
            mask[n, t, [SYMBOLS.index(c) for c in ok]] = True
    return mask


def top_k_right_masked(outputs, mask):
    """Per step (bool, ``outputs.shape[:-1]``): :func:`top_k_right` for whole arrays,
    NumPy or JAX. The k allowed symbols are the k largest exactly when the smallest
    allowed output beats the largest other one (a tie counts as wrong); steps with an
    empty mask (padding) are right."""
    xp = np if isinstance(outputs, np.ndarray) else jnp
    low = xp.min(xp.where(mask, outputs, xp.inf), axis=-1)
    high = xp.max(xp.where(mask, -xp.inf, outputs), axis=-1)
    return (low > high) | ~xp.any(mask, axis=-1)


def reber_scores(outputs: np.ndarray, strings: list[str]) -> dict:
    """Steps and strings right (top-k) of ``outputs`` (N, T, 7), and whether all are."""
    right = [
        top_k_right(o[: len(s) - 1], allowed_next(s)) for o, s in zip(outputs, strings, strict=True)
    ]
    strings_right = sum(bool(r.all()) for r in right)
    return {
        "steps_right": float(np.concatenate(right).mean()),
        "strings_right": strings_right,
        "solved": strings_right == len(strings),
    }


@register
class ReberTask(SupervisedTask):
    name = "reber"
    pattern = "many-to-many (next symbol)"
    source = "generated: embedded Reber grammar, 256 strings per split"
    metric = "strings right (top-k), solved"
    baseline = "symbol frequencies"
    head = "tag"
    defaults = {"hidden": 16, "batch_size": 16, "steps": 1000, "lr": 0.01}
    criterion = Criterion("steps_right", margin=0.1)
    figures = ()

    def strings(self, seed: int) -> dict[str, list[str]]:
        return {
            k: [embedded_string(rng) for _ in range(SIZE)]
            for i, k in enumerate(("train", "val", "test"))
            for rng in [np.random.default_rng([seed, i])]
        }

    def load_data(self, config) -> RawDataset:
        strings = self.strings(config.train.seed)
        return RawDataset({k: one_hot_strings(v) for k, v in strings.items()}, list(SYMBOLS))

    def validate(self, val: SeqData, config):
        """Validation loss, the fraction of steps right and whether all strings are."""
        val_strings = self.strings(config.train.seed)["val"]

        def validate(model):
            logits = predict_logits(model, val)
            s = reber_scores(logits, val_strings)
            return {"val_loss": scores(logits, val)[0]["loss"], "val_accuracy": s["steps_right"],
                    "val_solved": float(s["solved"])}  # fmt: skip

        return validate

    def metrics(self, run, data, split, **options):
        part = data.split(split)
        logits = predict_logits(run.model, part)
        s, _ = scores(logits, part)
        strings = self.strings(run.config.train.seed)[split]
        seen = strings_seen(run.dir, run.config.train.batch_size)
        return {**s, **reber_scores(logits, strings), "strings_seen": seen}, None

    def baseline_metrics(self, run, data, split, **options):
        part = data.split(split)
        freq = np.bincount(data.splits["train"].labels(), minlength=len(SYMBOLS)) + 1.0
        prior = np.broadcast_to(np.log(freq / freq.sum()), (*part.y.shape, len(SYMBOLS)))
        b, _ = scores(prior, part)
        return {**b, **reber_scores(prior, self.strings(run.config.train.seed)[split])}


def strings_seen(run_dir: Path, batch_size: int) -> int:
    """Training strings seen by the first evaluation that solved the validation set."""
    path = Path(run_dir) / io.METRICS
    rows = [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []
    first = [r["step"] for r in rows if r.get("val_solved") == 1.0]
    return first[0] * batch_size if first else -1
