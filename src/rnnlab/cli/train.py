"""``rnnlab train``: its options are generated from the task's config (:meth:`Task.fields`).

The task is known before the options are parsed (``--task``, or the run that ``--resume``
continues, or ``charlm``), so ``rnnlab train --task NAME --help`` lists that task's flags
with its own defaults, and a flag that the task does not take is one line and exit 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from rnnlab.cli import _options
from rnnlab.cli._progress import Progress
from rnnlab.errors import UserError

DEFAULT_TASK = "charlm"
SECTIONS = {"train": "Training", "learn": "Learner", "model": "Model"}
HELP = """Train a model on a task (default: the char model, an LSTM on Shakespeare).

Every task takes the training and learner options; the model options and the task's own
are those of the task: `rnnlab train --task NAME --help` lists them with that task's
defaults (`rnnlab tasks` lists the tasks). A task of your own: --task MODULE:CLASS."""


def _flag_value(args: list[str], flag: str) -> str | None:
    for i, arg in enumerate(args):
        if arg == flag and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None


def task_of_args(args: list[str]):
    """The task that ``args`` train: ``--task``, else the run that ``--resume`` continues,
    else the char model. ``--task`` and the resumed run must agree."""
    from rnnlab.tasks import get_task, read_config, task_name

    name, out = _flag_value(args, "--task"), _flag_value(args, "--out")
    if "--resume" in args and out is not None and (Path(out) / "config.json").is_file():
        saved = task_name(read_config(out))
        if name is not None and name != saved and get_task(name).name != saved:
            raise UserError(f"{out} holds a {saved} run; --resume continues it as --task "
                            f"{saved} (drop --task {name})")  # fmt: skip
        name = saved
    return get_task(name or DEFAULT_TASK)


class TrainCommand(click.Command):
    """``rnnlab train``, its options made for the task of each invocation."""

    def __init__(self):
        super().__init__("train", help=HELP, short_help="Train a model on a task.")
        self.task = None

    def parse_args(self, ctx, args):
        from rnnlab.tasks import refusal

        self.task = task_of_args(args)
        self.params = self._params(self.task)
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as err:
            name = err.option_name.lstrip("-").split("=")[0].replace("-", "_")
            raise UserError(refusal(name, self.task)) from None

    @staticmethod
    def _params(task) -> list[click.Parameter]:
        default = task.config().values()
        params = [
            click.Option(["--out", "out"], type=click.Path(path_type=Path), required=True,
                         help="Run directory (created; it must be new unless --resume)."),
            click.Option(["--task", "task"], default=None, metavar="NAME",
                         help=f"The task (default: {DEFAULT_TASK}; see rnnlab tasks)."),
            click.Option(["--resume", "resume"], is_flag=True,
                         help="Continue the run in --out (its config, changed by the flags)."),
        ]  # fmt: skip
        choices = {"model": task.models}
        for name, (_, spec) in task.fields().items():
            params.append(_options.option(spec, default[name], choices.get(name)))
        return params

    def format_options(self, ctx, formatter):
        task = self.task
        by_name = {p.name: p for p in self.get_params(ctx)}
        sections = {"Run": [by_name[n] for n in ("out", "task", "resume")]}
        sections["Run"].append(self.get_help_option(ctx))
        for name, (section, _) in task.fields().items():
            title = SECTIONS.get(section, f"Task {task.name}")
            sections.setdefault(title, []).append(by_name[name])
        _options.format_sections(formatter, sections, ctx)

    def invoke(self, ctx):
        return train(self.task, ctx)


def train(task, ctx) -> None:
    """Build the config from the defaults (or the resumed run) and the given flags, check
    it, train; the last line says where the run is."""
    from rnnlab.engine.devices import process_index

    given = _options.given(ctx)
    out, resume = Path(ctx.params["out"]), bool(ctx.params["resume"])
    for name in ("out", "task", "resume"):
        given.pop(name, None)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; give a directory (a new one, or a run with "
                        "--resume)")  # fmt: skip
    config = task.resume_config(out, given) if resume else task.config(**given)
    task.check(config, set(given))
    if process_index() > 0:  # one voice: process 0 reports for the group
        summary = task.train(out, config, resume=resume)
        _end(summary, out, quiet=True)
        return
    with Progress() as progress:
        summary = task.train(out, config, resume=resume, report=progress.report)
    _end(summary, out)


def _end(summary: dict, out: Path, quiet: bool = False) -> None:
    if summary["status"] == "diverged":
        raise UserError(summary["message"])
    if summary["status"] == "interrupted":
        if not quiet:
            click.echo(f"stopped at step {summary['step']}; continue with --resume", err=True)
        sys.exit(130)  # a script can tell an interrupted run from a finished one
    if not quiet:
        metric = (summary.get("metric") or "val_loss").removeprefix("val_")
        click.echo(f"best validation {metric} {summary['best']:.4f}; run saved in {out}",
                   err=True)  # fmt: skip
