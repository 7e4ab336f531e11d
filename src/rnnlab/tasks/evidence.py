"""``--task evidence``: the evidence-accumulation task of the e-prop paper, for spiking cells.

Bellec et al. (Nat. Commun. 11:3625, 2020, Fig. 3): cues on the left or the right, as spike
trains of input neurons, then a delay, then a recall cue; the answer is the side that had
more cues (:func:`rnnlab.learn.evidence_accumulation`, a scaled-down version: about a tenth
of the paper's length). The network must count over ``--cues`` cues and keep the count over
the ``--delay``; the adaptive threshold of ``--cell alif`` (the default) is a memory over
hundreds of steps. The inputs are the spikes, 0 or 1, used as they are.

The label is read at the last step of the recall window (the paper reads the mean of its
outputs over the window); many-to-one, two classes, chance 1/2. The data is fixed per
``--cues`` and ``--delay`` (the same for every ``--seed``): 1,000 training, 200
validation and 500 test trials.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rnnlab.config import option
from rnnlab.tasks._data import SeqData
from rnnlab.tasks._nextstep import RawDataset
from rnnlab.tasks._supervised import SupervisedTask
from rnnlab.tasks._task import Criterion
from rnnlab.tasks.registry import register

SIZES = {"train": 1000, "val": 200, "test": 500}


@dataclasses.dataclass
class EvidenceOptions:
    """The options of ``evidence``."""

    cues: int = option(
        7, "Cues per trial, each left or right (odd: no ties).", ge=1, le=51, fixed=True
    )
    delay: int = option(
        50, "Silent steps between the last cue and the recall cue.", ge=0, le=2000, fixed=True
    )


@register
class EvidenceTask(SupervisedTask):
    name = "evidence"
    pattern = "many-to-one (spikes)"
    source = "generated: left/right cue spike trains, a delay, a recall cue (e-prop, Fig. 3)"
    baseline = "majority class"
    Options = EvidenceOptions
    defaults = {"cell": "alif", "hidden": 32, "lr": 0.01, "steps": 400, "eval_every": 100}
    criterion = Criterion("accuracy", margin=0.2)
    figures = ("confusion matrix",)

    def load_data(self, config) -> RawDataset:
        from rnnlab.errors import UserError
        from rnnlab.learn import evidence_accumulation

        cues, delay = config.options.cues, config.options.delay
        if cues % 2 == 0:
            raise UserError(f"--cues must be odd (no ties), got {cues}")
        splits = {}
        for i, (split, n) in enumerate(SIZES.items()):
            d = evidence_accumulation(n, n_cues=cues, delay_steps=delay, seed=[cues, delay, i])
            lengths = np.full(n, d.x.shape[1], np.int32)  # (n,) every trial T steps
            splits[split] = SeqData(d.x, d.label.astype(np.int32), lengths)
        return RawDataset(splits, ["left", "right"])
