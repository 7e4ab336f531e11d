"""Character-level language models: train, sample, evaluate (Karpathy's char-rnn in JAX).

>>> from rnnlab.charlm import CharLM, ModelConfig, RunConfig, train, sample, evaluate
"""

from rnnlab.charlm.checkpoint import load_run
from rnnlab.charlm.config import ModelConfig, RunConfig, TrainConfig
from rnnlab.charlm.model import CharLM
from rnnlab.charlm.sample import evaluate, sample
from rnnlab.charlm.train import config_from_flags, optimizer_of, train

__all__ = [
    "CharLM",
    "ModelConfig",
    "RunConfig",
    "TrainConfig",
    "config_from_flags",
    "evaluate",
    "load_run",
    "optimizer_of",
    "sample",
    "train",
]
