"""``rnnlab playground``: the local web page (see :mod:`rnnlab.playground`)."""

from __future__ import annotations

import socket
import sys
import threading
import webbrowser
from pathlib import Path
from typing import Annotated

import typer

from rnnlab.errors import UserError

Opt = typer.Option
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_port(host: str, port: int) -> None:
    """A one-line error now rather than a uvicorn traceback when the port is taken."""
    if not 1 <= port <= 65535:
        raise UserError(f"--port must be between 1 and 65535, got {port}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as err:
            raise UserError(
                f"cannot listen on {host}:{port} ({err.strerror}); give another --port"
            ) from None


def playground(
    port: Annotated[int, Opt(help="Port to listen on.")] = 8765,
    no_browser: Annotated[
        bool, Opt("--no-browser", help="Do not open the page in the default browser.")
    ] = False,
    runs: Annotated[Path, Opt(help="Folder of trained char-model runs for the Text page.")] = Path(
        "runs"
    ),
    host: Annotated[
        str, Opt(help="Address to bind; anything but 127.0.0.1 exposes the server (warned).")
    ] = "127.0.0.1",
):
    """Serve the playground: build, train and look inside recurrent networks in the browser."""
    import uvicorn

    from rnnlab.playground import make_app

    if runs.exists() and not runs.is_dir():
        raise UserError(f"--runs {runs} is not a directory; give the folder of your runs")
    if host not in LOOPBACK:
        print(
            f"rnnlab: warning: --host {host} lets other machines reach this server; "
            "it trains whatever they ask (within the limits) and has no password",
            file=sys.stderr,
        )
    check_port(host, port)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    typer.echo(f"rnnlab playground on {url} (runs: {runs}); Ctrl-C stops it")
    if not no_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    app = make_app(runs_dir=runs, host=host, port=port)
    # Keep-alive of 65 s, not uvicorn's 5: a page polling an idle connection races the
    # server closing it (a request lost as "server disconnected" under load).
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        timeout_keep_alive=65,
        timeout_graceful_shutdown=2,
    )


def register(app) -> None:
    """Adds the ``playground`` command to ``app``."""
    app.command("playground")(playground)
