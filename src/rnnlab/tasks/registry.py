"""The task registry: one module per task registers an instance under its name."""

from __future__ import annotations

from rnnlab.errors import UserError

TASKS: dict = {}


def register(cls):
    """Class decorator: register one instance of ``cls`` under ``cls.name``."""
    if cls.name in TASKS:
        raise ValueError(f"task {cls.name!r} is registered twice")
    TASKS[cls.name] = cls()
    return cls


def get_task(name: str):
    """The registered task called ``name``; an unknown name is a :class:`UserError`."""
    try:
        return TASKS[name]
    except KeyError:
        raise UserError(f"unknown --task {name!r}; choose one of {', '.join(TASKS)}") from None
