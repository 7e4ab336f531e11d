"""Several processes through jax.distributed: ``rnnlab train --processes 2`` on one machine
ends with the same parameters as one process on the same global batch."""

import equinox as eqx
import jax
import numpy as np
import pytest

from rnnlab.cli import main
from rnnlab.engine import load_tree, optimizer_of
from rnnlab.tasks import load_run

TEXT = "the cat sat on the mat. the dog sat on the log. a cat and a dog met on a mat.\n" * 40
FLAGS = ["--hidden", "8", "--embed", "4", "--seq-len", "8", "--batch-size", "4"]
FLAGS += ["--steps", "20", "--eval-every", "20", "--log-every", "5", "--seed", "3"]


def last_params(run_dir):
    run = load_run(run_dir)
    model = run.task.build_model(run.config, run.info)
    params, _ = eqx.partition(model, eqx.is_array)
    like = (params, optimizer_of(run.config.train).init(params), model.init_state(4))
    params, _, carry = load_tree(run_dir / "last.eqx", like)
    return [np.asarray(a) for a in jax.tree_util.tree_leaves((params, carry))]


def train(*argv):
    with pytest.raises(SystemExit) as done:
        main([str(a) for a in argv])
    return done.value.code


def test_two_processes_end_with_the_parameters_of_one(tmp_path):
    corpus = tmp_path / "cats.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    assert (
        train("train", "--corpus", corpus, "--out", tmp_path / "one", *FLAGS, "--devices", "1") == 0
    )
    assert (
        train("train", "--corpus", corpus, "--out", tmp_path / "two", *FLAGS, "--processes", "2")
        == 0
    )
    one, two = last_params(tmp_path / "one"), last_params(tmp_path / "two")
    assert load_run(tmp_path / "two").config.train.steps == 20
    for a, b in zip(one, two, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
