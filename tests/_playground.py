"""Shared by the playground's tests: a tiny char-model run, waiting for a training."""

import time

from rnnlab.charlm.checkpoint import new_model
from rnnlab.charlm.config import ModelConfig, RunConfig, TrainConfig
from rnnlab.engine import io

VOCAB = list("\n abehlo")


def fake_run(path, seed=0):
    """A char-model run directory with an untrained GRU-8 (no training: the tests
    compare sampling through the page with sampling by the library, not quality)."""
    config = RunConfig(
        model=ModelConfig(cell="gru", hidden=8, embed=4),
        train=TrainConfig(seed=seed),
        vocab=VOCAB,
    )
    path.mkdir(parents=True)
    (path / "config.json").write_text(config.to_json())
    io.save_tree(path / "best.eqx", new_model(config))
    return config


def wait(job, timeout=180.0):
    """Block until the job has ended; returns it (fails the test past ``timeout``)."""
    end = time.monotonic() + timeout
    while job.active:
        assert time.monotonic() < end, f"training {job.id} still {job.status} after {timeout} s"
        time.sleep(0.2)
    return job
