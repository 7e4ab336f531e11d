"""Play / pause / one step / resume of a training (issue 19 item 6), through the API:
a paused worker makes no step, ``step`` advances it to the next logged step and pauses
again, a pause or resume the state does not allow is a 409 with one line."""

import time

from _playground import wait
from starlette.testclient import TestClient

from rnnlab.playground import make_app

PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
SPEC = {"kind": "recurrent", "task": "sine", "cell": "gru", "hidden": 4, "T": 8}
SPEC |= {"steps": 20_000, "batch": 4}  # "until stopped": logged every 200 steps


def _until(job, test, timeout=120.0):
    end = time.monotonic() + timeout
    while not test(job):
        assert time.monotonic() < end and job.active, (job.status, job.step, job.error)
        time.sleep(0.05)


def test_pause_step_resume_and_stop():
    app = make_app(port=PORT)
    with TestClient(app, base_url=BASE) as client:
        job_id = client.post("/api/jobs", json=SPEC).json()["id"]
        job = app.jobs.get(job_id)
        _until(job, lambda j: j.step >= 400)
        r = client.post(f"/api/jobs/{job_id}/pause")
        assert r.status_code == 200 and r.json()["status"] == "paused", r.text
        time.sleep(0.3)  # a line the worker had written before the pause may still arrive
        held = job.step
        time.sleep(1.5)
        assert job.step == held and job.status == "paused"  # no step while paused
        again = client.post(f"/api/jobs/{job_id}/resume")
        assert again.json()["status"] == "running"
        assert client.post(f"/api/jobs/{job_id}/resume").status_code == 409  # not paused
        client.post(f"/api/jobs/{job_id}/pause")
        time.sleep(0.3)
        held = job.step
        r = client.post(f"/api/jobs/{job_id}/step")
        assert r.status_code == 200
        _until(job, lambda j: j.status == "paused" and j.step > held)
        assert job.step == held + 200, (held, job.step)  # exactly one logged step on
        time.sleep(1.0)
        assert job.step == held + 200 and job.status == "paused"
        stopped = client.post(f"/api/jobs/{job_id}/stop").json()
        assert stopped["status"] == "stopped"  # a paused worker is killed at once too
        wait(job, timeout=10)
        r = client.post(f"/api/jobs/{job_id}/pause")
        assert r.status_code == 409 and "stopped" in r.json()["error"]
