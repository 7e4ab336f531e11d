"""Several cooperating processes: ``rnnlab train ... --processes N``, or one per host.

Each process is a JAX process of one ``jax.distributed`` group (no home-made
communication: JAX's coordinator, and gloo collectives on the CPU). The engine's
mesh then spans the devices of every process; each process feeds its own slices of
the global batch, and process 0 alone writes the run directory.

On one machine, ``--processes N`` starts N workers of the same command (the stand-in
for N hosts) and waits for them. On a cluster, start the same command on every host
with these environment variables (no ``--processes``)::

    RNNLAB_COORDINATOR=host0:12355   # address of process 0, reachable by all
    RNNLAB_NUM_PROCESSES=4           # hosts in the group
    RNNLAB_PROCESS_ID=0              # 0 .. N-1, one per host
    RNNLAB_DEVICES=8                 # optional: devices per process (CPU cores)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from rnnlab.errors import UserError

COORDINATOR, NUM, ID = "RNNLAB_COORDINATOR", "RNNLAB_NUM_PROCESSES", "RNNLAB_PROCESS_ID"


def processes_flag(argv: list[str]) -> int:
    """The value of ``--processes`` in ``argv`` (1 when absent)."""
    for i, arg in enumerate(argv):
        value = None
        if arg == "--processes" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--processes="):
            value = arg.split("=", 1)[1]
        if value is not None:
            try:
                n = int(value)
            except ValueError:
                n = 0
            if n < 1:
                raise UserError(f"--processes must be a positive integer, got {value!r}")
            return n
    return 1


def is_worker() -> bool:
    return COORDINATOR in os.environ


def setup() -> None:
    """Configure the devices and, in a worker, join the ``jax.distributed`` group."""
    from rnnlab.engine.devices import configure_host_devices, init_distributed

    if not is_worker():
        configure_host_devices()
        return
    try:
        n, i = int(os.environ[NUM]), int(os.environ[ID])
    except (KeyError, ValueError):
        raise UserError(f"{COORDINATOR} is set, so {NUM} and {ID} must be integers too") from None
    configure_host_devices()
    init_distributed(os.environ[COORDINATOR], n, i)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_workers(argv: list[str], n: int) -> int:
    """Start ``n`` workers of this command on this machine; their exit status (the
    first failure's). A worker that fails stops the others."""
    from rnnlab.engine.devices import ENV_DEVICES, cpu_cores

    address = f"127.0.0.1:{_free_port()}"
    per_process = os.environ.get(ENV_DEVICES) or str(max(1, cpu_cores() // n))
    workers = []
    for i in range(n):
        env = {**os.environ, COORDINATOR: address, NUM: str(n), ID: str(i)}
        env[ENV_DEVICES] = per_process
        # Only process 0 reports; the others stay quiet unless they fail.
        out = None if i == 0 else subprocess.DEVNULL
        cmd = [sys.executable, "-m", "rnnlab.cli", *argv]
        workers.append(subprocess.Popen(cmd, env=env, stdout=out))
    status = 0
    try:
        pending = list(workers)
        while pending:
            for w in list(pending):
                try:
                    code = w.wait(timeout=0.2)
                except subprocess.TimeoutExpired:
                    continue
                pending.remove(w)
                if code and not status:
                    status = code
                    for other in pending:
                        other.terminate()
    except KeyboardInterrupt:
        for w in workers:
            w.wait()
        status = status or 130
    return status
