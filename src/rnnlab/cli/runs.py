"""``rnnlab sample``, ``eval``, ``inspect`` and ``tasks``: the verbs on a run, the same for
every task; their options are generated from :mod:`rnnlab.tasks._verbs`, and an option that
the run's task does not take is refused in one line."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import click

from rnnlab.cli import _options
from rnnlab.errors import UserError


def _verb(name: str, callback, help: str) -> click.Command:
    """A command ``rnnlab NAME RUN_DIR [options]``, the options those of the verb's config."""
    from rnnlab.tasks import option_specs

    specs = option_specs(name)
    params = [click.Argument(["run_dir"], type=click.Path(path_type=Path))]
    params += [_options.option(s, s.default) for s in specs]

    @click.pass_context
    def run(ctx, run_dir, **_):
        from rnnlab.tasks import refuse, task_of_run

        given = _options.given(ctx)
        given.pop("run_dir", None)
        for s in specs:  # the bounds of the fields (--seed -1, --length -5)
            if s.name in given:
                given[s.name] = s.check(given[s.name])
        task = task_of_run(run_dir)
        refuse(task, name, given)
        return callback(task, run_dir, given)

    return click.Command(name, callback=run, params=params, help=help,
                         short_help=help.splitlines()[0])  # fmt: skip


def _sample(task, run_dir: Path, options: dict) -> None:
    from rnnlab.tasks import not_generating

    if not task.sample_flags:
        raise UserError(not_generating(task, run_dir))
    result = task.sample(task.load_run(run_dir), **options)
    for piece in result.text:
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")
    for path in result.files:
        click.echo(f"wrote {path}", err=True)


def _eval(task, run_dir: Path, options: dict) -> None:
    as_json = options.pop("json", False)
    split = options.pop("split", "test")
    result = task.evaluate(run_dir, split, **options)
    if as_json:
        click.echo(json.dumps(result))
        return
    for who, label in (("metrics", "model"), ("baseline", task.baseline or "baseline")):
        values = ", ".join(f"{k} {_number(v)}" for k, v in result[who].items())
        click.echo(f"{result['split']}: {label}: {values}")


def _number(v) -> str:
    return str(v) if isinstance(v, bool | int) else f"{v:.4f}"


def _inspect(task, run_dir: Path, options: dict) -> None:
    result = task.inspect(run_dir, **options)
    if "page" in result:
        click.echo(f"page: {result['page']}")
    for path in result["figures"]:
        click.echo(f"figure: {path}")
    for det, rows in result["found"].items():
        if rows:
            f = rows[0]
            click.echo(f"{det:>16}: layer {f.layer} {f.name}[{f.unit}]  r = {f.r:+.3f}")


@click.command("tasks")
def tasks():
    """List the tasks: pattern, data, metric, trivial baseline, models and own defaults."""
    from rich.console import Console
    from rich.table import Table

    from rnnlab.tasks import TASKS

    table = Table(show_lines=True)
    table.add_column("task", no_wrap=True, min_width=max(len(n) for n in TASKS))
    for name in ("pattern", "data (source, size)", "metric", "baseline", "--model", "defaults"):
        table.add_column(name, overflow="fold")  # long words wrap, none is cut
    for t in sorted(TASKS.values(), key=lambda t: t.name != "charlm"):  # the default first
        defaults = ", ".join(f"{k} {v}" for k, v in t.defaults.items())
        table.add_row(t.name, t.pattern, t.source, t.metric, t.baseline, ", ".join(t.models),
                      defaults or "-")  # fmt: skip
    width = shutil.get_terminal_size((100, 24)).columns  # $COLUMNS, the terminal's, or 100
    Console(width=width).print(table)


def commands() -> list[click.Command]:
    return [
        _verb("sample", _sample, "Generate from a run (text, music, a song, a translation).\n\n"
              "Stream the sample to stdout; the same seed gives the same sample."),
        _verb("eval", _eval, "Score a run's best checkpoint beside the trivial baseline.\n\n"
              "charlm: nats and bits per character; every task: its metrics on --split."),
        _verb("inspect", _inspect, "Look inside a run: cells, gates, gradients through time.\n\n"
              "A char-model run gets an HTML page and figures; a run of a tagging or "
              "classification task, figures of its units over the input signal."),
        tasks,
    ]  # fmt: skip
