"""The playground's server stays small (issue 19 item 7): the pages' computations run
in a worker process, a killed worker is replaced, and the temporary folders of a
killed server are removed by the next one."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
from starlette.testclient import TestClient

import rnnlab
from rnnlab.playground import make_app, recurrent, specs
from rnnlab.playground.jobs import PID_FILE, PREFIX, remove_stale_folders
from rnnlab.playground.series import make_set

PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
MOMENTUM = {"kappa": 4, "alpha": 0.1, "beta": 0.5, "steps": 5, "w1": -1, "w2": 1}


def _heavy_ball(alpha, beta, lam, w0, steps):
    """w_{k+1} = w_k - alpha A w_k + beta (w_k - w_{k-1}), A = diag(lam): NumPy reference."""
    ws, prev = [np.array(w0, float)], np.array(w0, float)
    for _ in range(steps):
        w = ws[-1]
        ws.append(w - alpha * np.asarray(lam) * w + beta * (w - prev))
        prev = w
    return np.array(ws)


def test_computations_run_in_a_worker_that_is_replaced_when_killed():
    app = make_app(port=PORT)
    with TestClient(app, base_url=BASE) as client:
        assert app.pool.pids() == []  # nothing computed, no worker
        r = client.post("/api/neuron/momentum", json=MOMENTUM)
        assert r.status_code == 200, r.text
        expected = _heavy_ball(0.1, 0.5, (1.0, 4.0), (-1, 1), 5)
        np.testing.assert_allclose(r.json()["momentum"], expected, rtol=1e-5)
        (worker,) = app.pool.pids()
        assert worker != os.getpid()
        os.kill(worker, signal.SIGKILL)
        time.sleep(0.5)
        answers = [client.post("/api/neuron/momentum", json=MOMENTUM) for _ in range(2)]
        # the request the dead worker had (if any) is a 503 with one line; then a fresh one
        assert all(a.status_code in (200, 503) for a in answers), [a.text for a in answers]
        assert answers[-1].status_code == 200
        np.testing.assert_allclose(answers[-1].json()["momentum"], expected, rtol=1e-5)
        assert worker not in app.pool.pids()
    assert app.pool.pids() == []  # shut down with the server


def test_a_killed_servers_temporary_folder_is_removed_at_start_up(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a process id that no longer runs
    stale = tmp_path / f"{PREFIX}stale"
    stale.mkdir()
    (stale / PID_FILE).write_text(str(dead.pid))
    (stale / "j1.eqx").write_bytes(b"weights")
    live = tmp_path / f"{PREFIX}live"
    live.mkdir()
    (live / PID_FILE).write_text(str(os.getpid()))
    foreign = tmp_path / f"{PREFIX}no-pid"  # not ours to judge: left alone
    foreign.mkdir()
    assert remove_stale_folders(str(tmp_path)) == [stale]
    assert not stale.exists() and live.exists() and foreign.exists()


def test_a_server_killed_with_sigkill_leaves_a_folder_the_next_one_removes(tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    code = (
        "import time; from rnnlab.playground import make_app; a = make_app(); "
        "print(a.jobs._dir.name, flush=True); time.sleep(60)"
    )
    server = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=env)
    folder = Path(server.stdout.readline().decode().strip())
    assert folder.parent == tmp_path and (folder / PID_FILE).read_text() == str(server.pid)
    server.kill()
    server.wait()
    assert folder.exists()  # SIGKILL: nothing cleaned up
    tempfile.tempdir = None
    old = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(tmp_path)
    try:
        app = make_app(port=PORT)
        assert not folder.exists()
        assert Path(app.jobs._dir.name).parent == tmp_path
        app.jobs.shutdown()
    finally:
        if old is None:
            del os.environ["TMPDIR"]
        else:
            os.environ["TMPDIR"] = old
        tempfile.tempdir = None


def test_pooling_averages_blocks_of_steps_and_units():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(301, 70))  # k = ceil(301/128) = 3 steps, m = ceil(70/32) = 3 units
    pooled = recurrent.pool(a)
    assert pooled.shape == (101, 24)
    for t, j in ((0, 0), (57, 11), (100, 23), (100, 0), (3, 23)):
        block = a[3 * t : 3 * t + 3, 3 * j : 3 * j + 3]  # the last blocks are short
        assert pooled[t, j] == pytest.approx(block.mean(), rel=1e-12)
    small = rng.normal(size=(128, 32))
    assert recurrent.pool(small) is small  # what fits the screen is sent as it is


def test_the_largest_models_snapshot_stays_under_two_megabytes():
    spec = specs.parse(
        {"kind": "recurrent", "task": "sine", "cell": "lstm", "hidden": 256, "layers": 3, "T": 500}
    )
    data = make_set("sine", 500, 0)
    model = recurrent.build(spec, data).model
    snap = recurrent.snapshot(model, data)
    size = len(json.dumps(snap).encode())
    assert size < 2_000_000, size
    assert snap["pooled"] == {"steps": 4, "units": 8, "T": 500, "H": 256}
    h = snap["layers"][2]["h"]  # (125, 32): each cell the mean of 4 steps x 8 units
    assert np.shape(h) == (125, 32)
    # against the exact trace, computed by the library itself
    _, traces = rnnlab.trace_layers(model.rnn, jnp.asarray(data.x[0]))
    exact = np.asarray(traces[2]["h"])  # (500, 256)
    np.testing.assert_allclose(h[7][5], exact[28:32, 40:48].mean(), atol=2e-6)
