"""The playground's ASGI app (Starlette): the page, its static files and the JSON API.

API (every body is JSON; errors are ``{"error": "one line"}``):

- ``GET /api/meta``: cells, tasks, data sets, optimizers and the limits.
- ``POST /api/jobs``: start a training (``kind``: ``recurrent`` or ``mlp``); 201 with the
  job, 422 over a limit, 429 when two are running.
- ``GET /api/jobs/{id}?since=n``: status, step and the losses from index n on;
  ``/snapshot``: the latest look inside the model; ``/data``: the Neuron page's points;
  ``/events``: the same as server-sent events until the job ends; ``/cell?layer=&name=
  &step=&unit=``: the exact value under a pooled heatmap's cell; ``POST .../stop``,
  ``.../pause``, ``.../step`` (run to the next logged step, then pause), ``.../resume``
  (409 when the training's state does not allow it).
- ``POST /api/neuron/momentum``, ``/api/neuron/hebb``, ``/api/spikes/lif``,
  ``/api/spikes/rates``: computed at once (see :mod:`.compute`).
- ``GET /api/runs``, ``POST /api/text/sample``, ``GET /runs/{name}/inspect.html``.
"""

from __future__ import annotations

import asyncio
import functools
import json
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from rnnlab.errors import UserError
from rnnlab.playground import compute, runs, specs
from rnnlab.playground.jobs import Busy, Conflict, JobManager
from rnnlab.playground.limits import (
    LIMITS,
    MAX_BODY,
    MAX_TRAININGS,
    TIME_BOX,
    Invalid,
    load_json,
)
from rnnlab.playground.pool import ComputePool, WorkerDied
from rnnlab.playground.reservoir import fit_reservoir
from rnnlab.playground.security import Guard
from rnnlab.playground.series import LIBRARY_TASKS, READS, TASKS
from rnnlab.playground.traces import exact_value

STATIC = Path(str(resources.files("rnnlab.playground") / "static"))
# The page loads nothing from anywhere else: no CDN, no inline script.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
# An `rnnlab inspect` page is self-contained (inline script and style): it may run, but
# may fetch nothing.
INSPECT_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; frame-ancestors 'self'"
)
POLL = 0.2  # seconds between two looks at a job while streaming its events


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _body(request: Request) -> dict:
    return load_json(await request.body())


async def _http_error(request: Request, exc: HTTPException) -> Response:
    """Starlette's own refusals (no such route, method not allowed) as one JSON line."""
    return JSONResponse(
        {"error": f"{exc.detail}: {request.method} {request.url.path[:100]}"},
        status_code=exc.status_code,
        headers=exc.headers,
    )


def _answers(endpoint):
    """Map the playground's exceptions to HTTP answers."""

    async def wrapped(request: Request):
        try:
            return await endpoint(request)
        except Invalid as err:
            return _error(422, str(err))
        except runs.NotFound as err:
            return _error(404, str(err))
        except Busy as err:
            return _error(429, str(err))
        except Conflict as err:
            return _error(409, str(err))
        except WorkerDied as err:
            return _error(503, str(err))
        except UserError as err:  # e.g. a run whose checkpoint or config is corrupt
            return _error(422, str(err).splitlines()[0] if str(err) else type(err).__name__)

    return wrapped


def _computed(pool: ComputePool, fn):
    """A POST endpoint that answers ``fn(body)``, computed in the worker process."""

    async def endpoint(request: Request):
        return JSONResponse(await pool.call(fn, await _body(request)))

    return _answers(endpoint)


def make_app(
    *,
    runs_dir="runs",
    host: str = "127.0.0.1",
    port: int = 8765,
    time_box: float = TIME_BOX,
    max_running: int = MAX_TRAININGS,
):
    """The playground for a server bound to ``host``:``port`` (the Host check needs both)."""
    jobs = JobManager(time_box=time_box, max_running=max_running)
    pool = ComputePool()
    api = _Api(jobs, pool, Path(runs_dir))

    @asynccontextmanager
    async def lifespan(app):
        yield
        jobs.shutdown()
        pool.shutdown()

    app = Starlette(
        routes=api.routes(), lifespan=lifespan, exception_handlers={HTTPException: _http_error}
    )
    guarded = Guard(app, host=host, port=port, max_body=MAX_BODY)
    guarded.jobs, guarded.pool = jobs, pool  # for the CLI and the tests
    return guarded


class _Api:
    """The endpoints of one server: its trainings (``jobs``) and its runs folder."""

    def __init__(self, jobs: JobManager, pool: ComputePool, runs_root: Path):
        self.jobs, self.pool, self.runs_root = jobs, pool, runs_root

    def routes(self) -> list:
        computed = {
            "/api/neuron/momentum": compute.momentum,
            "/api/neuron/hebb": compute.hebb,
            "/api/spikes/lif": compute.lif,
            "/api/spikes/rates": compute.rates,
            "/api/reservoir/fit": fit_reservoir,
            "/api/text/sample": functools.partial(runs.sample, self.runs_root),
        }
        return [
            Route("/", self.index),
            Route("/api/meta", self.meta),
            Route("/api/jobs", _answers(self.start), methods=["POST"]),
            Route("/api/jobs", self.listing),
            Route("/api/jobs/{job}", _answers(self.poll)),
            Route("/api/jobs/{job}/snapshot", _answers(self.snapshot)),
            Route("/api/jobs/{job}/data", _answers(self.data)),
            Route("/api/jobs/{job}/cell", _answers(self.cell)),
            Route("/api/jobs/{job}/events", _answers(self.events)),
            Route("/api/jobs/{job}/stop", _answers(self.stop), methods=["POST"]),
            Route("/api/jobs/{job}/pause", _answers(self.pause), methods=["POST"]),
            Route("/api/jobs/{job}/step", _answers(self.pause), methods=["POST"]),
            Route("/api/jobs/{job}/resume", _answers(self.resume), methods=["POST"]),
            *(
                Route(path, _computed(self.pool, fn), methods=["POST"])
                for path, fn in computed.items()
            ),
            Route("/api/runs", _answers(self.run_list)),
            Route("/runs/{name}/inspect.html", _answers(self.inspect)),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]

    def job_of(self, request: Request):
        job = self.jobs.get(request.path_params["job"])
        if job is None:
            raise runs.NotFound(f"no training {request.path_params['job']!r}")
        return job

    async def index(self, request):
        headers = {"Content-Security-Policy": PAGE_CSP, "X-Content-Type-Options": "nosniff"}
        return FileResponse(STATIC / "index.html", headers=headers)

    async def meta(self, request):
        return JSONResponse(
            {
                "cells": list(specs.CELL_NAMES),
                "tasks": list(TASKS),
                "library_tasks": list(LIBRARY_TASKS),
                "task_reads": {k: list(v) for k, v in READS.items()},
                "optimizers": list(specs.RNN_OPTIMIZERS),
                "datasets": list(specs.DATASETS),
                "activations": list(specs.ACTIVATIONS),
                "mlp_optimizers": list(specs.MLP_OPTIMIZERS),
                "limits": {**LIMITS, "time_box_s": self.jobs.time_box},
            }
        )

    async def start(self, request):
        spec = specs.parse(await _body(request))
        job = await run_in_threadpool(self.jobs.start, spec)
        return JSONResponse(job.public(), status_code=201)

    async def listing(self, request):
        return JSONResponse([j.public(len(j.losses)) for j in self.jobs.jobs.values()])

    async def poll(self, request):
        since = request.query_params.get("since", "0")
        if not (since.isascii() and since.isdigit() and len(since) <= 12):
            raise Invalid(f"since must be a whole number (ASCII digits), got {since[:20]!r}")
        return JSONResponse(self.job_of(request).public(int(since)))

    async def snapshot(self, request):
        job = self.job_of(request)
        if job.snapshot is None:
            raise runs.NotFound("no snapshot yet")
        return Response(job.snapshot, media_type="application/json")

    async def cell(self, request):
        """``?layer=&name=&step=&unit=``: the exact value under a pooled heatmap's cell."""
        job = self.job_of(request)
        q = {k: request.query_params.get(k, "") for k in ("layer", "step", "unit")}
        for k, v in q.items():
            if not (v.isascii() and v.isdigit() and len(v) <= 6):
                raise Invalid(f"{k} must be a whole number (ASCII digits), got {v[:20]!r}")
        name = request.query_params.get("name", "")
        if not (len(name) == 1 and name.isascii() and name.isalpha()):
            raise Invalid(f"name must be one letter (h, c, i, ...), got {name[:20]!r}")
        path = Path(f"{job.model_path}.traces.npz")
        if not path.exists():
            raise runs.NotFound("no pooled look: the heatmaps show the exact values")
        try:
            value = await run_in_threadpool(
                exact_value, path, int(q["layer"]), name, int(q["step"]), int(q["unit"])
            )
        except (KeyError, IndexError) as err:
            raise runs.NotFound(f"no such value: {str(err).strip(chr(39))}") from None
        return JSONResponse({"value": value})

    async def data(self, request):
        job = self.job_of(request)
        if job.data is None:
            raise runs.NotFound("no data yet")
        return JSONResponse(job.data)

    async def events(self, request):
        job = self.job_of(request)

        async def stream():
            version, since = -1, 0
            while True:
                if job.version != version:
                    version = job.version
                    state = job.public(since)
                    since = state["n_losses"]
                    yield f"data: {json.dumps(state)}\n\n"
                    if not job.active:
                        return
                await asyncio.sleep(POLL)

        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    async def stop(self, request):
        job = self.job_of(request)
        await run_in_threadpool(self.jobs.stop, job)
        return JSONResponse(job.public(len(job.losses)))

    async def pause(self, request):
        """Pause now, or (``/step``) after the next logged step."""
        job = self.job_of(request)
        one_step = request.url.path.endswith("/step")
        self.jobs.pause(job, one_step=one_step)
        return JSONResponse(job.public(len(job.losses)))

    async def resume(self, request):
        job = self.job_of(request)
        self.jobs.resume(job)
        return JSONResponse(job.public(len(job.losses)))

    async def run_list(self, request):
        return JSONResponse({"runs": await run_in_threadpool(runs.list_runs, self.runs_root)})

    async def inspect(self, request):
        page = runs.inspect_page(self.runs_root, request.path_params["name"])
        return FileResponse(page, headers={"Content-Security-Policy": INSPECT_CSP})
