"""Run directories of the char model: building and loading back the model of a run.

The files themselves (atomic writes, Equinox serialisation, the lock) belong to
:mod:`rnnlab.engine.io`.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax

from rnnlab.charlm.config import RunConfig
from rnnlab.charlm.model import CharLM
from rnnlab.data import Vocab
from rnnlab.engine.io import BEST, LAST, load_tree
from rnnlab.errors import UserError
from rnnlab.models import WindowLM

__all__ = ["BEST", "LAST", "load_run", "new_model"]


def new_model(config: RunConfig) -> CharLM | WindowLM:
    """The model that ``config`` describes, freshly initialised from its seed."""
    key = jax.random.key(config.train.seed)
    m = config.model
    if m.model == "rnn":
        return CharLM(len(config.vocab), m, key=key)
    return WindowLM(
        len(config.vocab), m.model, embed=m.embed, hidden=m.hidden, layers=m.layers,
        window=m.window, key=key,
    )  # fmt: skip


def load_run(run_dir: str | os.PathLike, which: str = BEST) -> tuple[RunConfig, CharLM, Vocab]:
    """Config, model (the best checkpoint by default) and vocabulary of a run directory."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserError(f"run directory {run_dir} does not exist")
    config = RunConfig.load(run_dir)
    config.model.check()
    vocab = Vocab.from_json(config.vocab)
    model = load_tree(run_dir / which, new_model(config))
    return config, model, vocab
