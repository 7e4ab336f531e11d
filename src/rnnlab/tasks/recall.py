"""``--task recall``: remember a symbol across a lag longer than any window (many-to-one).

The test of the lecture's claim that a sliding window fails once the context it needs
is longer than the window, while an RNN keeps it (the "temporal order" and "noise-free
long time lag" problems of Hochreiter & Schmidhuber 1997, sections 5.2 and 5.6, in a
small form). A sequence has ``lag + 2`` steps of ``SYMBOLS + 2`` channels:

- step 0, the cue: one-hot of the symbol ``s`` to remember (uniform over ``SYMBOLS``),
  and the cue flag (channel ``SYMBOLS``) at 1;
- steps 1 .. lag, distractors: one-hot of a symbol drawn uniformly from the same
  alphabet, flags at 0 (the cue cannot be told from them by its symbol alone);
- step lag + 1, the query: the query flag (channel ``SYMBOLS + 1``) at 1, the rest 0.

The label is ``s``, answered at the query. The RNN reads the whole sequence and
classifies from its last output; the baselines answer from their causal window at the
query step (:class:`rnnlab.models.LastStep`), which reaches back ``window`` steps
(window-mlp), ``2 * window - 1`` (conv1d) or ``layers * (window - 1) + 1`` steps
(transformer): with ``lag + 1`` beyond that, the cue is out of sight and they can do no
better than chance, ``1 / SYMBOLS``. The data is fixed (the same for every ``--seed``):
2,000 training, 200 validation and 1,000 test sequences.
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np

from rnnlab.config import option
from rnnlab.tasks._data import SeqData
from rnnlab.tasks._nextstep import RawDataset
from rnnlab.tasks._supervised import BASELINES, SupervisedTask
from rnnlab.tasks._task import Criterion
from rnnlab.tasks.registry import register

SYMBOLS = 8
SIZES = {"train": 2000, "val": 200, "test": 1000}


def recall_data(
    n: int, lag: int, rng: np.random.Generator, *, symbols: int = SYMBOLS, distract: bool = True
) -> SeqData:
    """``n`` recall sequences: x (n, lag + 2, symbols + 2) float32, y (n,) the cue's
    symbol, lengths (n,) all ``lag + 2``. ``distract=False`` leaves the ``lag`` steps
    between the cue and the query silent (no distractor symbols, none drawn)."""
    T = lag + 2
    y = rng.integers(0, symbols, size=n)
    x = np.zeros((n, T, symbols + 2), np.float32)
    rows = np.arange(n)
    x[rows, 0, y] = 1.0
    x[:, 0, symbols] = 1.0  # the cue flag
    if distract:
        distract_ids = rng.integers(0, symbols, size=(n, lag))  # (n, lag)
        x[rows[:, None], np.arange(1, lag + 1)[None, :], distract_ids] = 1.0
    x[:, T - 1, symbols + 1] = 1.0  # the query flag
    return SeqData(x, y.astype(np.int32), np.full(n, T, np.int32))


@dataclasses.dataclass
class RecallOptions:
    """The options of ``recall``."""

    lag: int = option(
        30, "Distractor steps between the cue and the query (30: beyond every baseline's "
        "reach at --window 8).", ge=0, fixed=True,
    )  # fmt: skip


@register
class RecallTask(SupervisedTask):
    name = "recall"
    pattern = "many-to-one (long lag)"
    source = f"generated: a cue among {SYMBOLS} symbols, --lag distractors (30), then a query"
    baseline = "majority class"
    models = ("rnn", "window-mlp", "conv1d", "transformer")
    windowed = ("window-mlp", "conv1d", "transformer")  # the causal transformer sees a window
    Options = RecallOptions
    defaults = {"steps": 3000, "eval_every": 100}
    criterion = Criterion("accuracy", margin=0.5)
    figures = ("confusion matrix",)

    def load_data(self, config) -> RawDataset:
        # Fixed data per lag: every model and seed meets the same sequences.
        lag = config.options.lag
        splits = {
            k: recall_data(n, lag, np.random.default_rng([lag, i]))
            for i, (k, n) in enumerate(SIZES.items())
        }
        return RawDataset(splits, [f"symbol {s}" for s in range(SYMBOLS)])

    def build_model(self, config, info):
        from rnnlab import models

        m = config.model
        if m.model == "rnn":
            return super().build_model(config, info)
        key = jax.random.key(config.train.seed)
        D, C = info["features"], info["classes"]
        if m.model == "transformer":
            body = models.CausalTransformer(
                D, C, hidden=m.hidden, layers=m.layers, context=m.window, key=key
            )
        else:
            body = BASELINES[m.model](D, C, hidden=m.hidden, window=m.window, pool=False, key=key)
        return models.LastStep(body)
