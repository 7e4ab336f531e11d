"""The pages' computations in a worker process, so that the server never imports JAX.

Hebb/Oja, momentum, the LIF neuron, the firing rates and sampling from a run all
import :mod:`rnnlab` (JAX, its compiled programs, a loaded model): done in the server,
they grew it from under 200 MB to over 400 MB on the first visit of the Neuron page,
and never gave it back. Here they run in one spawned process (a fresh interpreter:
nothing of the server's threads or sockets), created on the first request and
replaced after :data:`TASKS_PER_WORKER` requests, so that what a computation leaves
behind is returned to the system. A worker that dies (killed, out of memory) is
replaced at the next request; the request it was computing answers 503.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

TASKS_PER_WORKER = 200  # requests before a worker is replaced by a fresh one
WORKER_ENV = {"JAX_NUM_CPU_DEVICES": "1", "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false"}


class WorkerDied(RuntimeError):
    """The computing process ended before answering (HTTP 503)."""


def _setup() -> None:
    os.environ.update(WORKER_ENV)


class ComputePool:
    """One worker process for the computed endpoints of a server."""

    def __init__(self, tasks_per_worker: int = TASKS_PER_WORKER):
        self.tasks_per_worker = tasks_per_worker
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_setup,
                    max_tasks_per_child=self.tasks_per_worker,
                )
            return self._pool

    async def call(self, fn, *args):
        """``fn(*args)`` computed in the worker; its exceptions are raised here."""
        pool = self._executor()
        try:
            return await asyncio.wrap_future(pool.submit(fn, *args))
        except BrokenProcessPool:
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            raise WorkerDied("the computing process ended before answering; try again") from None

    def pids(self) -> list[int]:
        """The worker's process ids (for the tests and the load bench)."""
        pool = self._pool
        return [] if pool is None else list(getattr(pool, "_processes", {}) or {})

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
