"""``rnnlab inspect``: look inside a trained run (issue 10).

A char-model run gets a self-contained HTML page (text coloured by a unit, the cell
finder, the next-character distribution on hover, pattern search) and PNG figures; a
tagging or classification run gets figures of its units over the input signal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnlab.errors import UserError

Opt = typer.Option


def inspect(
    run_dir: Annotated[Path, typer.Argument(help="A run directory made by rnnlab train.")],
    text: Annotated[
        Path, Opt("--text", help="Inspect the char model on this UTF-8 text file.")
    ] = None,
    split: Annotated[
        str, Opt(help="Without --text: the part of the run's data to read, val | test.")
    ] = "test",
    chars: Annotated[int, Opt(help="Characters of text to read (char models).")] = 2000,
    out: Annotated[
        Path,
        Opt(
            "--out",
            help="The page to write (default RUN_DIR/inspect.html); task runs: the "
            "figures' prefix (default RUN_DIR/inspect -> inspect_signal.png, ...).",
        ),
    ] = None,
):
    """Look inside a trained run: cells, gates, gradients through time."""
    from rnnlab.cli.tasks import task_of_run

    if not run_dir.is_dir():
        raise UserError(f"run directory {run_dir} does not exist")
    name = task_of_run(run_dir)
    if name != "charlm":
        if text is not None:
            raise UserError(f"--text applies to char-model runs; {run_dir} is --task {name}")
        from rnnlab.inspect import write_task_figures

        result = write_task_figures(run_dir, out, split=split)
    else:
        from rnnlab.inspect import write_charlm_page

        result = write_charlm_page(run_dir, out, text_file=text, split=split, chars=chars)
        typer.echo(f"page: {result['page']}")
    for path in result["figures"]:
        typer.echo(f"figure: {path}")
    for det, rows in result["found"].items():
        if rows:
            f = rows[0]
            typer.echo(f"{det:>16}: layer {f.layer} {f.name}[{f.unit}]  r = {f.r:+.3f}")


def register(app) -> None:
    """Adds the ``inspect`` command to ``app``."""
    app.command()(inspect)
