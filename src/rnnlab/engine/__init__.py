"""The training engine: one loop for every model, data-parallel over every local device.

>>> from rnnlab.engine import Problem, Settings, TrainConfig, fit, make_optimizer
"""

from rnnlab.engine.config import LearnerConfig, TrainConfig
from rnnlab.engine.devices import configure_host_devices, init_distributed
from rnnlab.engine.io import RunLock, atomic_write, load_tree, save_tree, write_json, write_text
from rnnlab.engine.loop import Problem, Result, Settings, check_new_run_dir, fit, read_metrics
from rnnlab.engine.online import online_problem
from rnnlab.engine.optim import make_optimizer, optimizer_of

__all__ = [
    "LearnerConfig",
    "Problem",
    "Result",
    "RunLock",
    "Settings",
    "TrainConfig",
    "atomic_write",
    "check_new_run_dir",
    "configure_host_devices",
    "fit",
    "init_distributed",
    "load_tree",
    "make_optimizer",
    "online_problem",
    "optimizer_of",
    "read_metrics",
    "save_tree",
    "write_json",
    "write_text",
]
