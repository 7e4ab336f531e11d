"""The ``rnnlab`` command line: one click group. ``train``, ``sample``, ``eval``,
``inspect`` and ``tasks`` are generated from the task contract and its configs
(:mod:`rnnlab.cli.train`, :mod:`rnnlab.cli.runs`); ``playground`` and ``spikes`` are Typer
commands.

Every mistake is one line on stderr and exit status 2 (a :class:`rnnlab.errors.UserError`
or a usage error); Ctrl-C ends with status 130.
"""

import sys

import click
import typer

from rnnlab.errors import UserError

app = typer.Typer(
    help="rnnlab: recurrent neural networks from the neuron to the LSTM family.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_group = []


def group() -> click.Group:
    """The ``rnnlab`` group (built once: ``import rnnlab`` never pays for the CLI)."""
    if not _group:
        from rnnlab.cli import playground, runs, spikes, train

        playground.register(app)
        app.add_typer(spikes.app, name="spikes")
        top = typer.main.get_command(app)
        top.add_command(train.TrainCommand())
        for command in runs.commands():
            top.add_command(command)
        _group.append(top)
    return _group[0]


def _fail(message: str, code: int = 2):
    print(f"rnnlab: error: {message}", file=sys.stderr)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``rnnlab`` script; ends with ``SystemExit`` (0 when it worked)."""
    from rnnlab.engine import launch

    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        processes = launch.processes_flag(argv)
        if processes > 1 and not launch.is_worker():
            sys.exit(launch.run_workers(argv, processes))
        # Every CPU core becomes a JAX device before JAX starts (data parallelism);
        # a worker of a multi-process run joins its group first.
        launch.setup()
    except UserError as err:
        _fail(str(err))
    try:
        code = group().main(args=argv, prog_name="rnnlab", standalone_mode=False)
    except UserError as err:
        _fail(str(err))
    except click.exceptions.Exit as done:  # --help
        sys.exit(done.exit_code)
    except click.exceptions.NoArgsIsHelpError as err:
        err.show()
        sys.exit(2)
    except click.ClickException as err:  # a usage error: one line, not click's three
        _fail(err.format_message().replace("\n", " "), err.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        print("rnnlab: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
