"""The task registry: built-in tasks by name, and tasks from outside the package.

``--task NAME`` finds a task registered with :func:`register` (the built-in ones, or a
package's through the entry point group ``rnnlab.tasks``); ``--task MODULE:CLASS`` imports
``MODULE`` (a module on the path, the current folder included, or a ``.py`` file) and
uses its :class:`rnnlab.tasks.Task` subclass ``CLASS``. Either way the class must follow
the contract; if not, one line says what it lacks.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import importlib.util
import inspect
import sys
from pathlib import Path

from rnnlab.config import specs
from rnnlab.engine import io
from rnnlab.errors import UserError
from rnnlab.tasks._config import SHARED, read_config, task_name
from rnnlab.tasks._task import Run, Task

TASKS: dict[str, Task] = {}
GROUP = "rnnlab.tasks"  # the entry point group of tasks from other packages
_outside: dict[str, Task] = {}


def register(cls):
    """Class decorator: register one instance of the task ``cls`` under ``cls.name``."""
    problems = contract_problems(cls)
    if problems:
        raise TypeError(f"{cls.__name__} does not follow rnnlab.tasks.Task: {problems[0]}")
    if cls.name in TASKS:
        raise ValueError(f"task {cls.name!r} is registered twice")
    TASKS[cls.name] = cls()
    return cls


def get_task(name: str) -> Task:
    """The task called ``name``: registered, from an entry point, or ``MODULE:CLASS``; an
    unknown one is a :class:`UserError`."""
    if name in TASKS:
        return TASKS[name]
    if name in _outside:
        return _outside[name]
    if ":" in name:
        task = _from_module(name)
    else:
        task = _from_entry_point(name)
    _outside[task.name] = _outside[name] = task
    return task


def _from_entry_point(name: str) -> Task:
    found = [ep for ep in importlib.metadata.entry_points(group=GROUP) if ep.name == name]
    if not found:
        raise UserError(
            f"unknown --task {name!r}; choose one of {', '.join(sorted(TASKS))}, or give "
            "MODULE:CLASS of a task of your own"
        )
    try:
        cls = found[0].load()
    except Exception as err:  # a broken plug-in: say which, in one line
        raise UserError(f"--task {name}: its entry point failed to load ({err})") from None
    return _instance(cls, name)


def _from_module(spec: str) -> Task:
    module_name, _, class_name = spec.rpartition(":")
    if not module_name or not class_name.isidentifier():
        raise UserError(f"--task {spec!r}: write MODULE:CLASS (e.g. mytasks:Parity)")
    if module_name.endswith(".py") or "/" in module_name:
        path = Path(module_name).expanduser().resolve()
        if not path.is_file():
            raise UserError(f"--task {spec}: no file {module_name}")
        module_name = str(path)
        module = _import_file(path)
    else:
        module = _import(module_name, spec)
    cls = getattr(module, class_name, None)
    if cls is None:
        raise UserError(f"--task {spec}: {module_name} has no class {class_name}")
    return _instance(cls, f"{module_name}:{class_name}")


def _import(module_name: str, spec: str):
    added = "" not in sys.path and str(Path.cwd()) not in sys.path
    if added:  # the console script leaves out the current folder; a user's module lies there
        sys.path.insert(0, str(Path.cwd()))
    try:
        return importlib.import_module(module_name)
    except ImportError as err:
        raise UserError(f"--task {spec}: cannot import {module_name} ({err})") from None
    finally:
        if added:
            sys.path.remove(str(Path.cwd()))


def _import_file(path: Path):
    name = f"rnnlab_task_{abs(hash(str(path)))}"
    loader = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(loader)
    sys.modules[name] = module
    try:
        loader.loader.exec_module(module)
    except Exception as err:
        del sys.modules[name]
        raise UserError(
            f"--task {path}: importing it failed ({type(err).__name__}: {err})"
        ) from None
    return module


def _instance(cls, name: str) -> Task:
    problems = contract_problems(cls)
    if problems:
        raise UserError(f"--task {name} does not follow rnnlab.tasks.Task: {problems[0]}")
    task = cls()
    if not cls.name:
        task.name = name  # a class without a name is known by where it lives
    return task


def contract_problems(cls) -> list[str]:
    """What keeps ``cls`` from being a task, one phrase each (none: it follows the contract)."""
    if not (inspect.isclass(cls) and issubclass(cls, Task)):
        return [f"{getattr(cls, '__name__', cls)!r} is not a subclass of rnnlab.tasks.Task"]
    problems = []
    missing = sorted(getattr(cls, "__abstractmethods__", ()))
    if missing:
        problems.append(f"it lacks the method(s) {', '.join(missing)}")
    if not (inspect.isclass(cls.Options) and dataclasses.is_dataclass(cls.Options)):
        problems.append("its Options is not a dataclass")
        return problems
    try:
        own = {s.name for s in specs(cls.Options)}
    except TypeError as err:
        return [*problems, f"its Options: {err}"]
    shared = {s.name for c in SHARED.values() for s in specs(c)}
    if own & shared:
        problems.append(f"its Options repeat shared fields: {', '.join(sorted(own & shared))}")
    unknown = set(cls.defaults) - own - shared
    if unknown:
        problems.append(f"its defaults name unknown fields: {', '.join(sorted(unknown))}")
    if not cls.models or not isinstance(cls.models, tuple):
        problems.append("its models is not a non-empty tuple of names")
    return problems


def task_of_run(run_dir) -> Task:
    """The task of the run in ``run_dir`` (a task from outside found again by its name)."""
    return get_task(task_name(read_config(run_dir)))


def load_run(run_dir, which: str = io.BEST) -> Run:
    """The run in ``run_dir``, whatever its task (:meth:`Task.load_run`)."""
    return task_of_run(run_dir).load_run(run_dir, which)
