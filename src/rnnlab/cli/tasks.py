"""``rnnlab tasks`` and the sequence tasks' side of ``rnnlab train`` and ``rnnlab eval``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import typer

from rnnlab.errors import UserError

# Flags of `rnnlab train` that only the char model reads.
CHARLM_ONLY = ("corpus", "seq_len", "truncate", "onehot", "init")


def tasks():
    """List the tasks: name, input/output pattern, data, metric and trivial baseline."""
    from rich.console import Console
    from rich.table import Table

    from rnnlab.tasks import TASKS

    table = Table("task", "pattern", "data (source, size)", "metric", "baseline", "--model")
    for t in TASKS.values():
        table.add_row(t.name, t.pattern, t.source, t.metric, t.baseline, ", ".join(t.models))
    Console(width=160).print(table)


def task_of_run(run_dir: Path) -> str:
    """The task recorded in a run's config.json; ``charlm`` for runs made before tasks."""
    from rnnlab.engine import io

    path = Path(run_dir) / io.CONFIG
    if not path.is_file():
        return "charlm"
    saved = io.read_json(path, "not a run directory")
    return saved.get("task", "charlm") if isinstance(saved, dict) else "charlm"


def train_task(name: str, out: Path, flags: dict, resume: bool) -> None:
    """Train a sequence task from the flags of ``rnnlab train`` (charlm has its own path)."""
    import dataclasses

    from rnnlab.engine.devices import process_index
    from rnnlab.tasks import TaskConfig, get_task, read_config

    task = get_task(name)
    for flag in CHARLM_ONLY:
        if flags.get(flag) is not None:
            dashed = flag.replace("_", "-")
            raise UserError(f"--{dashed} applies to --task charlm only, not --task {name}")
    config_class = getattr(task, "config_class", TaskConfig)  # a task may add fields
    known = {f.name for f in dataclasses.fields(config_class)}
    for flag in ("resolution", "variant", "length", "lag", "forget_bias"):  # only some tasks
        if flags.get(flag) is not None and flag not in known:
            raise UserError(f"--{flag.replace('_', '-')} does not apply to --task {name}")
    given = {k: v for k, v in flags.items() if k in known - {"task"} and v is not None}
    if resume:
        saved = config_class(**read_config(out)["config"])
        fixed = ("data", "model", "cell", "hidden", "layers", "dropout", "window", "seed")
        fixed += tuple(k for k in ("resolution", "lag") if k in known)
        fixed += ("embed", "vocab", "unit")
        changed = [k for k in fixed if k in given and given[k] != getattr(saved, k)]
        if changed:
            raise UserError(
                f"--resume: --{changed[0]} differs from that of {out}; drop it or train into "
                "a new --out"
            )
        config = dataclasses.replace(saved, **given)
    else:
        config = config_class(task=name, **given)
        if config.data is not None:
            config.data = str(Path(config.data).resolve())
    report = _report if process_index() == 0 else (lambda event: None)
    summary = task.train(out, config, resume=resume, report=report)
    if summary["status"] == "diverged":
        raise UserError(summary["message"])
    if process_index() == 0:
        if summary["status"] == "interrupted":
            typer.echo(f"stopped at step {summary['step']}; continue with --resume", err=True)
        # the metric that picks the best checkpoint: val_loss, or val_error for speakers
        metric = summary.get("metric", "val_loss").removeprefix("val_")
        typer.echo(f"best validation {metric} {summary['best']:.4f}; run saved in {out}", err=True)


def _report(event: dict) -> None:
    kind = event["event"]
    if kind == "data":
        sizes = ", ".join(f"{k} {v}" for k, v in event["sizes"].items())
        typer.echo(f"task {event['task']}: {sizes} sequences", err=True)
    elif kind == "step":
        typer.echo(f"step {event['step']}: loss {event['loss']:.4f}", err=True)
    elif kind == "eval":
        name = "accuracy" if "val_accuracy" in event else "exact match"
        score = event.get("val_accuracy", event.get("val_exact_match", math.nan))
        typer.echo(
            f"step {event['step']}: val loss {event['val_loss']:.4f}, {name} "
            f"{score:.3f} (best loss {event['best']:.4f})",
            err=True,
        )


def generates(name: str) -> bool:
    """Whether a task's runs generate through :func:`generate_task` (chorales, birdsong)."""
    from rnnlab.tasks import TASKS

    return hasattr(TASKS.get(name), "generate")


def generate_task(name: str, run_dir: Path, **options) -> None:
    """``rnnlab sample`` for a task that generates: its text to stdout, its files named on
    stderr."""
    from rnnlab.tasks import get_task

    result = get_task(name).generate(run_dir, **options)
    typer.echo(result["text"])
    for path in result.get("files", ()):
        typer.echo(f"wrote {path}", err=True)


def eval_task(name: str, run_dir: Path, split: str, as_json: bool, beam: int | None = None) -> None:
    """Print a run's metrics beside its task's trivial baseline (one JSON object with
    ``as_json``); ``beam``: the beam width of a task that decodes (numbers)."""
    from rnnlab.tasks import get_task

    if not Path(run_dir).is_dir():
        raise UserError(f"run directory {run_dir} does not exist")
    options = {} if beam is None else {"beam": beam}
    if beam is not None and not getattr(get_task(name), "decodes", False):
        raise UserError(f"--beam applies to tasks that decode (numbers), not to {name} runs")
    result = get_task(name).evaluate(run_dir, split, **options)
    if as_json:
        typer.echo(json.dumps(result))
        return
    for who in ("metrics", "baseline"):
        label = "model" if who == "metrics" else f"{get_task(name).baseline}"
        values = ", ".join(f"{k} {v:.4f}" for k, v in result[who].items())
        typer.echo(f"{split}: {label}: {values}")


def sample_task(name: str, run_dir: Path, prime: str, beam: int | None) -> None:
    """Print the output of a task that decodes (numbers: the French of ``prime``)."""
    from rnnlab.tasks import TASKS, get_task

    task = get_task(name)
    if not getattr(task, "decodes", False):
        can = ["charlm"] + [
            n
            for n in TASKS
            if n != "charlm" and (generates(n) or getattr(TASKS[n], "decodes", False))
        ]
        raise UserError(
            f"{run_dir} holds a {name} run, which does not generate; "
            f"sample needs a run of {', '.join(can)}"
        )
    typer.echo(task.sample(run_dir, prime, beam=beam or 1))
