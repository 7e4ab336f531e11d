"""The ``rnnlab`` command line: one Typer app, sub-commands in sibling modules.

A :class:`rnnlab.errors.UserError` anywhere below becomes one line on stderr and
exit status 2.
"""

import sys

import typer

from rnnlab.errors import UserError

app = typer.Typer(
    help="rnnlab: recurrent neural networks from the neuron to the LSTM family.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


_registered = []


def _register() -> None:
    # Imported here so that `import rnnlab` never pays for the CLI.
    if _registered:
        return
    from rnnlab.cli import charlm, inspect, playground, spikes

    charlm.register(app)
    inspect.register(app)
    playground.register(app)
    app.add_typer(spikes.app, name="spikes")
    _registered.append(True)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``rnnlab`` script."""
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
        print(f"rnnlab: error: {err}", file=sys.stderr)
        sys.exit(2)
    _register()
    try:
        # standalone mode: usage errors print one line and exit 2, --help exits 0
        app(args=argv, prog_name="rnnlab", standalone_mode=True)
    except UserError as err:
        print(f"rnnlab: error: {err}", file=sys.stderr)
        sys.exit(2)
