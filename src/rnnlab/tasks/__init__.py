"""Tasks: a data set, the model it needs, its loss, metrics and trivial baseline.

Every task follows one contract, :class:`Task` (the char model included), and runs through
the same verbs (``rnnlab train --task NAME``, ``rnnlab eval``, ``sample``, ``inspect``).
Each built-in task is one module that registers its class by name; a task of your own is
a subclass (most simply of :class:`SupervisedTask`) that ``rnnlab train --task
MODULE:CLASS`` finds (see the guide's "Write your own task", docs/guide/custom-task.md).

>>> from rnnlab.tasks import TASKS, get_task
>>> {"charlm", "motions", "numbers", "reber"} <= set(TASKS)  # `rnnlab tasks` lists all
True
>>> get_task("motions").pattern
'many-to-one'
>>> get_task("adding").config().model.forget_bias  # a task's own defaults
3.0
"""

import rnnlab.tasks.activity  # noqa: F401  (registration)
import rnnlab.tasks.adding  # noqa: F401  (registration)
import rnnlab.tasks.birdsong  # noqa: F401  (registration)
import rnnlab.tasks.codetags  # noqa: F401  (registration)
import rnnlab.tasks.evidence  # noqa: F401  (registration)
import rnnlab.tasks.mackey_glass  # noqa: F401  (registration)
import rnnlab.tasks.numbers  # noqa: F401  (registration)
import rnnlab.tasks.primitives  # noqa: F401  (registration)
import rnnlab.tasks.reber  # noqa: F401  (registration)
import rnnlab.tasks.recall  # noqa: F401  (registration)
import rnnlab.tasks.speakers  # noqa: F401  (registration)
import rnnlab.tasks.xor  # noqa: F401  (registration)
from rnnlab.tasks import charlm, chorales, classify, motions, tag, vowels  # noqa: F401  (registration)
from rnnlab.tasks._config import NoOptions, RunConfig, read_config
from rnnlab.tasks._config import task_name as task_name
from rnnlab.tasks._data import Dataset, SeqData, split_rows
from rnnlab.tasks._data import scaled as scaled  # (for rnnlab.inspect)
from rnnlab.tasks._supervised import (
    SupervisedTask,
    baseline_scores,
    classify_loss,
    classify_loss_of,
    tag_loss,
    tag_loss_of,
)
from rnnlab.tasks._task import Criterion, Data, Run, Sample, Task
from rnnlab.tasks._tokens import TokenTask
from rnnlab.tasks._verbs import EvalOptions, InspectOptions, SampleOptions
from rnnlab.tasks._verbs import not_generating as not_generating  # (for the CLI)
from rnnlab.tasks._verbs import option_specs as option_specs
from rnnlab.tasks._verbs import refusal as refusal
from rnnlab.tasks._verbs import refuse as refuse
from rnnlab.tasks.registry import TASKS, get_task, load_run, register, task_of_run

__all__ = [
    "TASKS",
    "Criterion",
    "Data",
    "Dataset",
    "EvalOptions",
    "InspectOptions",
    "NoOptions",
    "Run",
    "RunConfig",
    "Sample",
    "SampleOptions",
    "SeqData",
    "SupervisedTask",
    "Task",
    "TokenTask",
    "baseline_scores",
    "classify_loss",
    "classify_loss_of",
    "get_task",
    "load_run",
    "read_config",
    "register",
    "split_rows",
    "tag_loss",
    "tag_loss_of",
    "task_of_run",
]
