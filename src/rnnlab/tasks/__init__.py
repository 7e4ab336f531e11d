"""Tasks: a data set, the model head it needs, its loss, metrics and trivial baseline.

Each task is one module that registers an instance by name; every task runs through
the same verbs (``rnnlab train --task NAME``, ``rnnlab eval``).

>>> from rnnlab.tasks import TASKS, get_task
>>> {"charlm", "motions", "numbers", "reber"} <= set(TASKS)  # `rnnlab tasks` lists all
True
>>> get_task("motions").pattern
'many-to-one'
"""

import rnnlab.tasks.activity  # noqa: F401  (registration)
import rnnlab.tasks.adding  # noqa: F401  (registration)
import rnnlab.tasks.birdsong  # noqa: F401  (registration)
import rnnlab.tasks.codetags  # noqa: F401  (registration)
import rnnlab.tasks.numbers  # noqa: F401  (registration)
import rnnlab.tasks.primitives  # noqa: F401  (registration)
import rnnlab.tasks.reber  # noqa: F401  (registration)
import rnnlab.tasks.recall  # noqa: F401  (registration)
import rnnlab.tasks.speakers  # noqa: F401  (registration)
import rnnlab.tasks.xor  # noqa: F401  (registration)
from rnnlab.tasks import charlm, chorales, classify, motions, tag, vowels  # noqa: F401  (registration)
from rnnlab.tasks._data import Dataset, SeqData
from rnnlab.tasks._supervised import (
    SupervisedTask,
    TaskConfig,
    baseline_scores,
    classify_loss,
    read_config,
    tag_loss,
)
from rnnlab.tasks.registry import TASKS, get_task, register

__all__ = [
    "TASKS",
    "Dataset",
    "SeqData",
    "SupervisedTask",
    "TaskConfig",
    "baseline_scores",
    "classify_loss",
    "get_task",
    "read_config",
    "register",
    "tag_loss",
]
