"""Trainings in worker processes: start, follow, stop, time-box; at most two at once.

Each training is a ``python -m rnnlab.playground.worker`` process with one JAX device
(see :mod:`rnnlab.playground.worker`); a thread per training reads its event lines
into a :class:`Job`, which the pages poll or follow as server-sent events. Stopping
kills the process, so a run stops at once even in the middle of a compile; a timer
kills it when its time box runs out.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from rnnlab.playground.limits import MAX_TRAININGS, TIME_BOX

ACTIVE = ("starting", "running", "paused")
PREFIX = "rnnlab-playground-"  # of each server's temporary folder
PID_FILE = "server.pid"
KEEP_FINISHED = 50  # finished jobs remembered for the pages
WORKER_ENV = {
    "JAX_NUM_CPU_DEVICES": "1",
    "RNNLAB_DEVICES": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false",
    "PYTHONUNBUFFERED": "1",
}


def remove_stale_folders(parent: str | None = None) -> list[Path]:
    """Remove the temporary folders of playground servers that no longer run.

    A server killed with SIGKILL cannot clean up; its folder names its process id
    (:data:`PID_FILE`), so the next server removes it when that process is gone.
    Folders of a live server, or without the file, are left alone.
    """
    removed = []
    for folder in Path(parent or tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            pid = int((folder / PID_FILE).read_text().strip())
        except (OSError, ValueError):
            continue
        if not _alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # someone else's process, or a pid no process can have: keep it
    return True


class Busy(RuntimeError):
    """Too many trainings at once (HTTP 429)."""


class Conflict(RuntimeError):
    """A pause, step or resume that the training's state does not allow (HTTP 409)."""


class Job:
    """One training as the server sees it; ``version`` grows with every change."""

    def __init__(self, job_id: str, spec: dict, model_path: Path):
        self.id = job_id
        self.kind = spec["kind"]
        self.spec = {k: v for k, v in spec.items() if k not in ("table", "model_path")}
        self.model_path = model_path
        self.status = "starting"
        self.step, self.steps = 0, spec["steps"]
        self.losses: list[list] = []  # [step, loss] as logged
        self.val_losses: list[list] = []  # [step, validation loss] at each evaluation
        self.init: dict | None = None  # the initial weights' fingerprint (see the worker)
        self.snapshot: bytes | None = None  # the latest snapshot line, as the worker wrote it
        self.snapshot_version = 0
        self.data: dict | None = None  # the Neuron page's points
        self.error: str | None = None
        self.message: str | None = None  # how it ended, when that needs saying (diverged)
        self.started, self.ended = time.time(), None
        self.version = 0
        self.proc: subprocess.Popen | None = None
        self.stopping: str | None = None  # the status a stop or the time box is setting
        self.timer: threading.Timer | None = None  # the time box
        self.pause_after_step = False  # "one step": pause at the next logged step

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def public(self, since: int = 0) -> dict:
        """What a poll returns: the state and the losses from index ``since`` on."""
        end = self.ended or time.time()
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "step": self.step,
            "steps": self.steps,
            "losses": self.losses[max(0, since) :],
            "n_losses": len(self.losses),
            "val_losses": self.val_losses,  # all of them: one per evaluation, 101 at most
            "init": self.init,
            "snapshot_version": self.snapshot_version,
            "error": self.error,
            "message": self.message,
            "elapsed": round(end - self.started, 2),
            "spec": self.spec,
        }


class JobManager:
    """The trainings of one server."""

    def __init__(self, *, max_running: int = MAX_TRAININGS, time_box: float = TIME_BOX):
        self.max_running, self.time_box = max_running, time_box
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        remove_stale_folders()
        self._dir = tempfile.TemporaryDirectory(prefix=PREFIX)
        (Path(self._dir.name) / PID_FILE).write_text(str(os.getpid()))

    def running(self) -> int:
        return sum(j.active for j in self.jobs.values())

    def start(self, spec: dict) -> Job:
        """Launch a worker for a normalised spec; :class:`Busy` if two are running."""
        with self._lock:
            if self.running() >= self.max_running:
                raise Busy(
                    f"{self.max_running} trainings are running; stop one before starting another"
                )
            job_id = f"j{next(self._ids)}"
            job = Job(job_id, spec, Path(self._dir.name) / f"{job_id}.eqx")
            self.jobs[job_id] = job
            self._prune()
        env = {**os.environ, **WORKER_ENV}
        stderr = open(Path(self._dir.name) / f"{job_id}.log", "wb")  # noqa: SIM115
        job.proc = subprocess.Popen(
            [sys.executable, "-m", "rnnlab.playground.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
        )
        stderr.close()
        job.proc.stdin.write(json.dumps({**spec, "model_path": str(job.model_path)}).encode())
        job.proc.stdin.close()
        threading.Thread(target=self._follow, args=(job,), daemon=True).start()
        job.timer = threading.Timer(self.time_box, self._finish, args=(job, "timeout"))
        job.timer.daemon = True
        job.timer.start()
        return job

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def stop(self, job: Job) -> Job:
        """End the training now (its process is killed); a finished job stays as it is."""
        self._finish(job, "stopped")
        return job

    def pause(self, job: Job, *, one_step: bool = False) -> Job:
        """Pause the worker now (SIGSTOP), or, with ``one_step``, let it run to its next
        logged step and pause there. A paused training keeps its slot and its time box
        (the clock runs on while it waits)."""
        with self._lock:
            if job.status not in ("running", "paused") or job.stopping:
                raise Conflict(f"training {job.id} is {job.status}; only a running one pauses")
            if one_step:
                job.pause_after_step = True
                self._signal(job, signal.SIGCONT, "running")
            elif job.status == "running":
                self._signal(job, signal.SIGSTOP, "paused")
            job.version += 1
        return job

    def resume(self, job: Job) -> Job:
        with self._lock:
            if job.status != "paused" or job.stopping:
                raise Conflict(f"training {job.id} is {job.status}; only a paused one resumes")
            job.pause_after_step = False
            self._signal(job, signal.SIGCONT, "running")
            job.version += 1
        return job

    @staticmethod
    def _signal(job: Job, sig, status: str) -> None:
        if job.proc is not None and job.proc.poll() is None:
            os.kill(job.proc.pid, sig)
            job.status = status

    def shutdown(self) -> None:
        for job in list(self.jobs.values()):
            self._finish(job, "stopped")
        self._dir.cleanup()

    def _finish(self, job: Job, status: str) -> None:
        """Kill the worker, then publish ``status``: a job is over once its process is."""
        with self._lock:
            if not job.active or job.stopping:
                return
            job.stopping = status
        if job.proc is not None and job.proc.poll() is None:
            job.proc.kill()
            job.proc.wait(timeout=10)
        with self._lock:
            if job.active:  # unless the worker finished by itself meanwhile
                job.status, job.ended = status, time.time()
            job.version += 1

    def _follow(self, job: Job) -> None:
        """Read the worker's events until it exits."""
        for line in job.proc.stdout:
            if line.startswith(b'{"event": "snapshot"'):
                job.snapshot = line  # served as it is: never parsed by the server
                job.snapshot_version += 1
            else:
                try:
                    event = json.loads(line)
                except ValueError:  # not a protocol line: the worker's stderr has the story
                    continue
                self._event(job, event)
            job.version += 1
        job.proc.wait()
        if job.timer is not None:
            job.timer.cancel()  # no thread left waiting out the time box of a finished job
        with self._lock:
            if job.active and not job.stopping:  # it ended by itself without a stop event
                job.status, job.ended = "failed", time.time()
                job.error = job.error or self._log_tail(job)
            job.version += 1

    def _event(self, job: Job, event: dict) -> None:
        kind = event["event"]
        if kind == "start" and job.status == "starting":
            job.status = "running"
        elif kind == "step":
            job.step = event["step"]
            job.losses.append([event["step"], event["loss"]])
            with self._lock:
                if job.pause_after_step and job.status == "running" and not job.stopping:
                    job.pause_after_step = False
                    self._signal(job, signal.SIGSTOP, "paused")
        elif kind == "val":
            job.val_losses.append([event["step"], event["loss"]])
        elif kind == "init":
            job.init = {k: v for k, v in event.items() if k != "event"}
        elif kind == "data":
            job.data = {k: v for k, v in event.items() if k != "event"}
        elif kind == "error":
            job.error = event["message"]
        elif kind == "stop":
            with self._lock:
                if job.active:
                    job.status, job.ended = event["status"], time.time()
                    job.message = event.get("message")

    def _log_tail(self, job: Job) -> str:
        path = Path(self._dir.name) / f"{job.id}.log"
        lines = path.read_text(errors="replace").strip().splitlines() if path.exists() else []
        return (lines[-1] if lines else f"the worker exited with {job.proc.returncode}")[:300]

    def _prune(self) -> None:
        finished = [j for j in self.jobs.values() if not j.active]
        for job in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self.jobs[job.id]
