"""The config of a run: the engine's sections, the model's and the task's own, as one object
that ``config.json`` holds (and older run directories' formats, read back)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from rnnlab.config import ModelConfig, check_fields, from_dict, specs, to_dict
from rnnlab.engine import io
from rnnlab.engine.config import LearnerConfig, TrainConfig
from rnnlab.errors import UserError

FORMAT = 2  # config.json's layout: {"format", "task", "train", "learn", "model", "options", ...}
SHARED = {"train": TrainConfig, "learn": LearnerConfig, "model": ModelConfig}


@dataclasses.dataclass
class NoOptions:
    """The options of a task that has none of its own."""


@dataclasses.dataclass
class RunConfig:
    """Everything a run is made from: the ``task`` (its name), how to ``train`` and ``learn``
    (:mod:`rnnlab.engine.config`), the ``model`` (:class:`rnnlab.config.ModelConfig`) and the
    task's own ``options`` (its ``Options`` dataclass). Each field is one flag of
    ``rnnlab train`` (``config.model.hidden`` is ``--hidden``)."""

    task: str
    train: TrainConfig
    learn: LearnerConfig
    model: ModelConfig
    options: Any

    def sections(self) -> dict[str, Any]:
        return {"train": self.train, "learn": self.learn, "model": self.model,
                "options": self.options}  # fmt: skip

    def values(self) -> dict[str, Any]:
        """Every field by its name, across the sections."""
        return {k: v for section in self.sections().values() for k, v in to_dict(section).items()}

    def replace(self, **values) -> RunConfig:
        """A copy with the fields ``values`` (by name, across sections) changed."""
        out = {}
        for name, section in self.sections().items():
            names = {s.name for s in specs(type(section))}
            mine = {k: v for k, v in values.items() if k in names}
            out[name] = dataclasses.replace(section, **mine)
        unknown = set(values) - set(self.values())
        if unknown:
            raise UserError(f"unknown config fields {', '.join(sorted(unknown))}")
        return RunConfig(self.task, **out)

    def to_dict(self) -> dict:
        """What ``config.json`` records (with the data's ``info`` beside it)."""
        return {"format": FORMAT, "task": self.task,
                **{k: to_dict(v) for k, v in self.sections().items()}}  # fmt: skip


def from_saved(saved: dict, options_class, where: str) -> tuple[RunConfig, dict]:
    """The :class:`RunConfig` of a ``config.json`` (any format rnnlab wrote), its values
    checked for type and bounds only (a run keeps the settings it was made with), and the
    data's ``info`` saved beside it."""
    saved = upgrade(saved, options_class)
    sections = {}
    for name, cls in {**SHARED, "options": options_class}.items():
        section = from_dict(cls, saved.get(name, {}), f"{where} ({name})")
        check_fields(section, given=set())
        sections[name] = section
    return RunConfig(saved["task"], **sections), saved.get("data", {})


def upgrade(saved: dict, options_class) -> dict:
    """A ``config.json`` of an earlier layout in the current one: the char model's
    (``model``, ``train`` with its corpus, ``vocab``) and the sequence tasks' (one flat
    ``config``) before format 2. Fields that no longer exist are dropped."""
    if saved.get("format") == FORMAT:
        return saved
    if "config" in saved:  # a sequence task: one flat dict of fields
        flat = dict(saved["config"])
        flat.pop("task", None)
        data = saved.get("data", {})
    elif "vocab" in saved and isinstance(saved.get("train"), dict):  # the char model
        flat = {**saved.get("model", {}), **saved["train"]}
        data = {"vocab": saved["vocab"]}
    else:
        raise UserError("config.json is corrupt or from another tool (no known layout)")
    out = {"format": FORMAT, "task": saved.get("task", "charlm"), "data": data}
    for name, cls in {**SHARED, "options": options_class}.items():
        names = {s.name for s in specs(cls)}
        out[name] = {k: v for k, v in flat.items() if k in names}
    return out


def read_config(run_dir) -> dict:
    """The ``config.json`` of a run directory as a dict (a UserError if it is not one)."""
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise UserError(f"{run_dir} is a file, not a run directory")
    if not run_dir.is_dir():
        raise UserError(f"run directory {run_dir} does not exist")
    if not (run_dir / io.CONFIG).is_file():
        raise UserError(f"{run_dir} is not an rnnlab run directory (no config.json)")
    saved = io.read_json(run_dir / io.CONFIG, "not a run directory")
    if not isinstance(saved, dict):
        raise UserError(f"{run_dir / io.CONFIG} is corrupt")
    return saved


def task_name(saved: dict) -> str:
    """The task of a ``config.json`` (``charlm`` for char-model runs made before tasks)."""
    name = saved.get("task", "charlm")
    if not isinstance(name, str):
        raise UserError("config.json is corrupt: its task is not a name")
    return name
