"""Shared by the playground's tests: a tiny char-model run, waiting for a training."""

import time

from rnnlab.tasks import Run, get_task

VOCAB = list("\n abehlo")


def fake_run(path, seed=0):
    """A char-model run directory with an untrained GRU-8 (no training: the tests
    compare sampling through the page with sampling by the library, not quality)."""
    task = get_task("charlm")
    config = task.config(cell="gru", hidden=8, embed=4, seed=seed)
    path.mkdir(parents=True)
    info = {"vocab": VOCAB}
    Run(path, task, config, info, task.build_model(config, info)).save()
    return config


def wait(job, timeout=180.0):
    """Block until the job has ended; returns it (fails the test past ``timeout``)."""
    end = time.monotonic() + timeout
    while job.active:
        assert time.monotonic() < end, f"training {job.id} still {job.status} after {timeout} s"
        time.sleep(0.2)
    return job
