"""``rnnlab train --learner rtrl --update-every k``: the tasks' side of online learning.

What a task's run needs besides :func:`rnnlab.engine.online.online_problem` (which makes
an engine step one chunk of ``k`` time steps, with the learner's traces as the carry):
the rules (:func:`check`: which tasks and models an online learner, or a spiking cell
``--cell lif|alif``, trains), the model seen
as a :class:`rnnlab.learn.Network` (one recurrent layer of
:class:`rnnlab.models.SequenceClassifier` or :class:`rnnlab.models.SequenceTagger` and its
readout), the learner (RTRL bounded per batch) and a row's loss over a chunk: the label
at the last valid step (classify), every valid step's (tag) or the squared error at the
last valid step (regress), with the targets cut from ``(x, y, lengths)`` batches.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import optax

from rnnlab.cells import SPIKING_CELLS
from rnnlab.engine import Problem, online
from rnnlab.engine.online import pad_steps
from rnnlab.errors import UserError

KINDS = ("classify", "tag", "regress")  # the per-row losses: last valid step, every step, MSE


def check(task, config) -> None:
    """One line for an online learner that does not apply to the task or model (before any
    data is read)."""
    learner, m = config.learn.learner, config.model
    if m.model == "rnn" and m.cell in SPIKING_CELLS and task.online_kind() is None:
        raise UserError(
            f"--cell {m.cell} (spiking) trains the tasks whose model is recurrent layers with a "
            f"readout per step or at the end (recall, evidence, adding, xor, classify, tag, "
            f"...), not --task {task.name}"
        )
    if learner == "bptt":
        return
    if task.online_kind() is None:
        raise UserError(
            f"--learner {learner} trains the tasks whose model is one recurrent layer with a "
            f"readout per step or at the end (recall, adding, xor, reber, classify, tag, ...), "
            f"not --task {task.name}; use --learner bptt"
        )
    if m.model != "rnn":
        raise UserError(f"--learner {learner} trains --model rnn, not --model {m.model}")
    if m.layers != 1:
        raise UserError(f"--learner {learner} trains one recurrent layer, not --layers {m.layers}")


def network_of(model, learner: str, task: str = ""):
    """The :class:`rnnlab.learn.Network` (cell, readout) that ``model`` is, or one line."""
    from rnnlab.learn import Network

    rnn, readout = getattr(model, "rnn", None), getattr(model, "readout", None)
    cells = getattr(rnn, "cells", None)
    if cells is None or readout is None or len(cells) != 1 or len(cells[0]) != 1:
        raise UserError(
            f"--learner {learner} trains one recurrent layer and a readout "
            f"(SequenceClassifier, SequenceTagger), not {task}'s {type(model).__name__}"
        )
    return Network(cells[0][0], readout)


# --- the loss of one row over a chunk: (outs (k, K), target) -> (loss sum, count) ---------


def _at(outs, pos):
    hit = (pos >= 0) & (pos < outs.shape[0])
    return outs[jnp.clip(pos, 0, outs.shape[0] - 1)], hit


def classify_row(outs, target):
    """Cross-entropy of the label at the row's last valid step ``pos`` (when in the chunk)."""
    y, pos = target  # (), () position in the chunk
    logits, hit = _at(outs, pos)
    nll = optax.softmax_cross_entropy_with_integer_labels(logits, y)
    return jnp.where(hit, nll, 0.0), hit.astype(jnp.int32)


def tag_row(outs, target):
    """Cross-entropy summed over the chunk's valid steps."""
    y, valid = target  # (k,), (k,)
    nll = optax.softmax_cross_entropy_with_integer_labels(outs, y)
    return jnp.where(valid, nll, 0.0).sum(), valid.sum()


def regress_row(outs, target):
    """Squared error of the first output at the row's last valid step ``pos``."""
    y, pos = target
    out, hit = _at(outs, pos)
    return jnp.where(hit, (out[0] - y) ** 2, 0.0), hit.astype(jnp.int32)


ROWS = {"classify": classify_row, "tag": tag_row, "regress": regress_row}


def _cut(kind: str):
    """The targets of steps ``lo .. lo + k - 1`` of a batch ``(x, y, lengths)``: ``(y,
    position of the last valid step in the chunk)``, or for ``tag`` ``(y, valid)`` (B, k)."""

    def cut(batch, lo, k):
        x, y, lengths = batch
        if kind == "tag":
            valid = np.arange(lo, lo + k)[None, :] < np.minimum(lengths, x.shape[1])[:, None]
            return pad_steps(y, lo, k), valid
        return y, (lengths - 1 - lo).astype(np.int32)

    return cut


def online_problem(problem: Problem, config, kind: str) -> Problem:
    """``problem`` (whole sequences, ``(x, y, lengths)`` batches) trained by the online
    learner ``config.learn.learner``, an update every ``config.learn.update_every`` steps
    (:func:`rnnlab.engine.online.online_problem`)."""
    name, seed = config.learn.learner, config.train.seed
    view = lambda model: network_of(model, name, f"--task {config.task}")
    learner = online.make_learner_for(name, view(problem.model), problem.batch_size, seed)
    return online.online_problem(
        problem, learner, view, ROWS[kind], _cut(kind), config.learn.update_every, seed
    )
