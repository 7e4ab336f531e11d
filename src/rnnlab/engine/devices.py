"""Devices for data parallelism: CPU cores as JAX host devices, every GPU, several processes.

On a CPU, XLA's single-threaded Eigen was the fastest per core for the small
recurrent matmuls of an RNN (bench/cells.py), but it drives one core. The engine
uses the other cores by data parallelism instead: each core becomes a JAX host
device (``jax_num_cpu_devices``), the batch is split over a 1-D mesh of them, and
gradients are summed by a collective. This must be set before JAX starts its CPU
backend, so the CLI calls :func:`configure_host_devices` first thing.

Several processes (stand-ins for several hosts) join through ``jax.distributed``
(:func:`init_distributed`); on the CPU their collectives go through gloo.
"""

from __future__ import annotations

import os

import numpy as np

from rnnlab.errors import UserError

AXIS = "data"
EIGEN_FLAG = "--xla_cpu_multi_thread_eigen=false"
# XLA kills a process whose CPU devices wait more than 40 s for each other in a
# collective; on a busy machine (2 devices on 2 shared cores) one device's thread can
# be descheduled that long. Wait an hour instead: a slow step is not a deadlock.
TIMEOUT_FLAGS = (
    "--xla_cpu_collective_timeout_seconds=3600",
    "--xla_cpu_collective_call_terminate_timeout_seconds=3600",
)
ENV_DEVICES = "RNNLAB_DEVICES"


def cpu_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def configure_host_devices(n: int | None = None) -> None:
    """Expose ``n`` CPU host devices (default: ``$RNNLAB_DEVICES`` or one per core) and
    single-threaded Eigen. Call before JAX's first computation; later calls that would
    change the count raise a one-line error. Harmless on a GPU machine (the GPUs are
    the devices there)."""
    import jax

    reuse_freed_memory()
    if n is None:
        n = int(os.environ.get(ENV_DEVICES, 0)) or cpu_cores()
    flags = os.environ.get("XLA_FLAGS", "").split()
    for flag in (EIGEN_FLAG, *TIMEOUT_FLAGS):
        if not any(f.startswith(flag.split("=")[0]) for f in flags):
            flags.append(flag)
    os.environ["XLA_FLAGS"] = " ".join(flags)
    try:
        jax.config.update("jax_num_cpu_devices", int(n))
    except RuntimeError:
        # The backend has started (a notebook, a test session): keep what it has.
        pass


def reuse_freed_memory() -> bool:
    """Let glibc reuse freed memory for XLA's large scratch buffers instead of mapping
    fresh pages on every call (``mallopt``: mmap threshold 1 GiB, trim threshold 2 GiB).

    XLA allocates a training step's scratch memory anew at every call; above glibc's
    default 32 MiB threshold each allocation is a fresh ``mmap`` whose every page
    faults on first touch. That cost an LSTM-256 step (B 32, T 100) 58 against 43 ms
    of CPU time, the peephole LSTM 64 against 48 (2 cores, paired runs). The setting
    is process-wide and the process keeps its peak memory instead of returning it;
    returns whether it took effect (glibc only).
    """
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
        return bool(libc.mallopt(M_MMAP_THRESHOLD, 1 << 30)) and bool(
            libc.mallopt(M_TRIM_THRESHOLD, 2 << 30)
        )
    except (OSError, AttributeError):  # not glibc
        return False


def local_device_count() -> int:
    import jax

    return jax.local_device_count()


def check_device_count(requested: int) -> int:
    """``requested`` (``--devices``) if this process has that many local devices, else a
    one-line error."""
    available = local_device_count()
    if requested < 1 or requested > available:
        raise UserError(f"--devices must be between 1 and {available} here, got {requested}")
    return requested


def choose_devices(batch_size: int, requested: int | None = None) -> int:
    """How many devices split a batch of ``batch_size`` rows (per process).

    ``requested`` (``--devices``) must divide the batch, or it is an error; by default
    the largest count up to every local device that divides the batch is used.
    """
    available = local_device_count()
    if requested is not None:
        check_device_count(requested)
        if batch_size % (requested * process_count()):
            raise UserError(
                f"--batch-size {batch_size} does not split evenly over {requested} devices "
                f"x {process_count()} processes; give a multiple of "
                f"{requested * process_count()} or other --devices"
            )
        return requested
    for n in range(available, 0, -1):
        if batch_size % (n * process_count()) == 0:
            return n
    raise UserError(
        f"--batch-size {batch_size} does not split over {process_count()} processes; "
        f"give a multiple of {process_count()}"
    )


def make_mesh(n_local: int):
    """A 1-D mesh over ``n_local`` devices of every process, axis ``"data"``."""
    import jax
    from jax.sharding import Mesh

    if jax.process_count() == 1:
        devices = jax.local_devices()[:n_local]
    else:
        by_process = {}
        for d in jax.devices():
            by_process.setdefault(d.process_index, []).append(d)
        devices = [
            d
            for p in sorted(by_process)
            for d in sorted(by_process[p], key=lambda d: d.id)[:n_local]
        ]
    return Mesh(np.array(devices), (AXIS,))


def process_count() -> int:
    import jax

    return jax.process_count()


def process_index() -> int:
    import jax

    return jax.process_index()


def init_distributed(coordinator: str, num_processes: int, process_id: int) -> None:
    """Join a group of ``num_processes`` cooperating processes through ``jax.distributed``.

    On a cluster, start the same command on every host with the same ``coordinator``
    (``host:port`` of process 0) and each host's own ``process_id``.
    """
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
        coordinator_address=coordinator, num_processes=num_processes, process_id=process_id
    )
