"""Load test of ``rnnlab playground`` (issue 11): 50 clients polling while 2 trainings run.

Starts the playground as its own process on 127.0.0.1 (``python -m rnnlab.cli
playground --no-browser``), starts two recurrent trainings that run until stopped,
checks that a third is refused with 429, then lets ``--clients`` concurrent clients
follow the trainings for ``--seconds`` as the page does (poll the state with
``?since=``, fetch the look inside the model when a new one is announced, about five
polls a second each). Then it stops the trainings and the server and prints JSON:
request latency (p50, p95, max, ms), the number of requests and errors (anything but
a 2xx; the one 429 is counted apart), the steps the trainings made meanwhile, and the
peak resident memory of the server process (``VmHWM``) and of each worker.

    python bench/playground_load.py                # 50 clients, 60 s
    python bench/playground_load.py --seconds 10   # a quick look
    python bench/playground_load.py --requests 200 # server memory over 200 of every kind

``--requests N`` (issue 19 item 7) sends N requests of every kind instead, in rounds
(one of each kind per round): the page's reads, every computed endpoint (momentum,
Hebb/Oja, LIF, rates, sampling), a short training's poll and snapshot (a training
started every 50 rounds) and invalid bodies, and prints the server's resident memory
(``VmRSS``) at start-up and every N/10 rounds, with the computing workers' peak.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

import httpx
import numpy as np

TRAINING = {
    "kind": "recurrent",
    "task": "sine",
    "cell": "lstm",
    "hidden": 128,
    "T": 100,
    "steps": 20_000,  # until stopped: more than 60 s of steps at this size
    "lr": 0.01,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident set size (Linux ``VmHWM``), in MiB."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (``/proc/PID/stat``)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pids(server_pid: int) -> list[int]:
    """The server's child processes (started from any of its threads)."""
    pids = []
    for task in os.listdir(f"/proc/{server_pid}/task"):
        try:
            with open(f"/proc/{server_pid}/task/{task}/children") as f:
                pids += [int(p) for p in f.read().split()]
        except OSError:
            pass
    return pids


async def client(http, jobs, stop_at, latencies, errors):
    """One page following a training: poll, and fetch each new snapshot once."""
    job = jobs[len(latencies) % len(jobs)]
    latencies.append([])
    mine = latencies[-1]
    since, shown = 0, 0
    while time.monotonic() < stop_at:
        for path in [f"/api/jobs/{job}?since={since}"] + (
            [f"/api/jobs/{job}/snapshot"] if shown < since_version[job] else []
        ):
            t0 = time.perf_counter()
            try:
                r = await http.get(path)
                mine.append(time.perf_counter() - t0)
                if r.status_code // 100 != 2:
                    errors.append(f"{path}: {r.status_code}")
                elif "snapshot" not in path:
                    state = r.json()
                    since = state["n_losses"]
                    since_version[job] = state["snapshot_version"]
                else:
                    shown = since_version[job]
                    sizes.append(len(r.content))
            except httpx.HTTPError as err:
                errors.append(f"{path}: {type(err).__name__}")
        await asyncio.sleep(0.2)


since_version: dict[str, int] = {}
sizes: list[int] = []  # bytes of each snapshot fetched


async def load(base: str, clients: int, seconds: float) -> dict:
    limits = httpx.Limits(max_connections=clients + 5)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
        jobs = []
        for seed in (0, 1):
            r = await http.post("/api/jobs", json={**TRAINING, "seed": seed})
            r.raise_for_status()
            jobs.append(r.json()["id"])
            since_version[jobs[-1]] = 0
        third = await http.post("/api/jobs", json=TRAINING)
        while True:  # the clients start once both trainings are stepping
            states = [(await http.get(f"/api/jobs/{j}")).json() for j in jobs]
            if all(s["step"] > 0 for s in states):
                break
            await asyncio.sleep(0.5)
        start_steps = [s["step"] for s in states]
        latencies, errors = [], []
        stop_at = time.monotonic() + seconds
        await asyncio.gather(
            *(client(http, jobs, stop_at, latencies, errors) for _ in range(clients))
        )
        states = [(await http.get(f"/api/jobs/{j}")).json() for j in jobs]
        for j in jobs:
            await http.post(f"/api/jobs/{j}/stop", json={})
    flat = np.array([x for per in latencies for x in per]) * 1e3
    return {
        "clients": clients,
        "seconds": seconds,
        "requests": int(flat.size),
        "requests_per_s": round(flat.size / seconds, 1),
        "latency_ms": {
            "p50": round(float(np.percentile(flat, 50)), 2),
            "p95": round(float(np.percentile(flat, 95)), 2),
            "max": round(float(flat.max()), 2),
        },
        "snapshot_kb_mean": round(float(np.mean(sizes)) / 1024, 1) if sizes else None,
        "errors": len(errors),
        "error_examples": errors[:5],
        "third_training_status": third.status_code,
        "training_steps_during_load": [
            s["step"] - s0 for s, s0 in zip(states, start_steps, strict=True)
        ],
        "training_status": [s["status"] for s in states],
    }


KINDS = {  # name: (method, path, body)
    "meta": ("GET", "/api/meta", None),
    "runs": ("GET", "/api/runs", None),
    "momentum": ("POST", "/api/neuron/momentum", {"kappa": 20, "beta": 0.5, "steps": 100}),
    "hebb": ("POST", "/api/neuron/hebb", {"rule": "oja", "steps": 20, "n": 200}),
    "lif": ("POST", "/api/spikes/lif", {}),
    "rates": ("POST", "/api/spikes/rates", {}),
    "sample": ("POST", "/api/text/sample", {"run": "none-here", "length": 50}),
    "invalid": ("POST", "/api/jobs", {"kind": "recurrent", "hidden": 10**6, "csv": "x" * 1000}),
    "deep": ("POST", "/api/neuron/hebb", "deep"),
}
SHORT = {"kind": "recurrent", "task": "sine", "cell": "gru", "hidden": 16, "T": 20, "steps": 200}


def rss_mb(pid: int) -> float | None:
    """The process's resident set size now (``VmRSS``), in MiB."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def every_kind(base: str, server_pid: int, n: int) -> dict:
    """``n`` requests of every kind; the server's memory along the way."""
    memory = [{"round": 0, "server_rss_mb": round(rss_mb(server_pid), 1)}]
    statuses: dict[str, dict[int, int]] = {}
    workers: dict[int, float] = {}
    job, t0 = None, time.perf_counter()
    with httpx.Client(base_url=base, timeout=120) as http:
        for i in range(1, n + 1):
            if i % 50 == 1:
                job = http.post("/api/jobs", json={**SHORT, "seed": i}).json().get("id")
            kinds = dict(KINDS)
            kinds["poll"] = ("GET", f"/api/jobs/{job}?since=0", None)
            kinds["snapshot"] = ("GET", f"/api/jobs/{job}/snapshot", None)
            for name, (method, path, body) in kinds.items():
                if body == "deep":
                    r = http.post(path, content=b"[" * 50_000)
                elif method == "GET":
                    r = http.get(path)
                else:
                    r = http.post(path, json=body)
                by = statuses.setdefault(name, {})
                by[r.status_code] = by.get(r.status_code, 0) + 1
            for pid in worker_pids(server_pid):
                workers[pid] = max(workers.get(pid, 0.0), peak_rss_mb(pid) or 0.0)
            if i % max(1, n // 10) == 0:
                memory.append({"round": i, "server_rss_mb": round(rss_mb(server_pid), 1)})
    return {
        "requests_per_kind": n,
        "kinds": sorted(statuses),
        "statuses": statuses,  # per kind: HTTP status -> count (no 5xx expected)
        "seconds": round(time.perf_counter() - t0, 1),
        "server_memory": memory,
        "server_rss_growth_mb": round(memory[-1]["server_rss_mb"] - memory[0]["server_rss_mb"], 1),
        "server_peak_rss_mb": round(peak_rss_mb(server_pid), 1),
        "worker_peak_rss_mb": sorted(round(v, 1) for v in workers.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--requests", type=int, default=0, help="of every kind (see above)")
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as runs:
        server = subprocess.Popen(
            [sys.executable, "-m", "rnnlab.cli", "playground", "--no-browser"]
            + ["--port", str(port), "--runs", runs],
            stdout=subprocess.DEVNULL,
        )
        try:
            end = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/api/meta").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > end or server.poll() is not None:
                    sys.exit("the playground server did not start")
                time.sleep(0.3)
            if args.requests:
                result = every_kind(base, server.pid, args.requests)
                result["cpu_cores"] = len(os.sched_getaffinity(0))
                print(json.dumps(result, indent=2))
                return
            rss = {}
            cpu0 = cpu_seconds(server.pid)

            async def run():
                task = asyncio.create_task(load(base, args.clients, args.seconds))
                while not task.done():  # workers' memory, read while they live
                    for pid in worker_pids(server.pid):
                        rss[pid] = max(rss.get(pid, 0.0), peak_rss_mb(pid) or 0.0)
                    await asyncio.sleep(1.0)
                return task.result()

            result = asyncio.run(run())
            result["server_cpu_s"] = round(cpu_seconds(server.pid) - cpu0, 1)
            result["server_peak_rss_mb"] = round(peak_rss_mb(server.pid) or float("nan"), 1)
            result["worker_peak_rss_mb"] = [round(v, 1) for v in rss.values()]
        finally:
            server.terminate()
            server.wait(timeout=30)
    result["cpu_cores"] = len(os.sched_getaffinity(0))
    result["load_average_1min"] = round(os.getloadavg()[0], 2)  # other work on the machine
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
