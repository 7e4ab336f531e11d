"""Run directories: atomic writes, Equinox-serialised weights (no pickle), loading back."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import equinox as eqx
import jax

from rnnlab.charlm.config import RunConfig
from rnnlab.charlm.model import CharLM
from rnnlab.data import Vocab
from rnnlab.errors import UserError

CONFIG, BEST, LAST, PROGRESS, METRICS, CURVE = (
    "config.json",
    "best.eqx",
    "last.eqx",
    "progress.json",
    "metrics.jsonl",
    "loss.png",
)


def atomic_write(path: Path, write) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it over ``path``.

    A crash or Ctrl-C mid-write leaves the old file intact.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def save_tree(path: Path, tree) -> None:
    atomic_write(path, lambda f: eqx.tree_serialise_leaves(f, tree))


def load_tree(path: Path, like):
    """Read a pytree shaped like ``like``; a corrupt or mismatched file is a UserError."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"checkpoint {path} is missing; train first (rnnlab train --out ...)")
    try:
        with open(path, "rb") as f:
            return eqx.tree_deserialise_leaves(f, like)
    except Exception as err:  # equinox raises several types for a bad file
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(
            f"checkpoint {path} is corrupt or does not match config.json ({first})"
        ) from None


def new_model(config: RunConfig) -> CharLM:
    """The model that ``config`` describes, freshly initialised from its seed."""
    key = jax.random.key(config.train.seed)
    return CharLM(len(config.vocab), config.model, key=key)


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


def read_progress(run_dir: Path) -> dict:
    path = Path(run_dir) / PROGRESS
    try:
        progress = json.loads(path.read_text(encoding="utf-8"))
        return {"step": int(progress["step"]), "best_val": float(progress["best_val"])}
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise UserError(f"{path} is missing or corrupt ({err!r}); cannot resume") from None
