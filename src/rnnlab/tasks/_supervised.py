"""What every labelled sequence task shares: model, losses, batches, metrics, baseline.

A task module subclasses :class:`SupervisedTask`, says where its data come from
(:meth:`SupervisedTask.load_data`, a :class:`~rnnlab.tasks.Dataset`) and registers it; the
rest of :class:`rnnlab.tasks.Task` is here: the RNN (or a baseline) with a classifier or a
tagger head, cross-entropy, accuracy, the majority class and a confusion matrix.
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from rnnlab.engine import Problem
from rnnlab.tasks import _figures
from rnnlab.tasks._data import Batches, Dataset, SeqData, scaled
from rnnlab.tasks._task import Criterion, Task


def _truncated(truncate):
    return {} if truncate is None else {"truncate": truncate}


@functools.cache
def classify_loss_of(truncate: int | None = None):
    """Summed cross-entropy of one label per sequence (many-to-one), BPTT truncated to
    ``truncate`` steps (one function per value: it is compiled)."""

    def loss(model, batch, carry, keys):
        x, y, lengths = batch  # (b, T, D), (b,), (b,)
        logits = model(x, lengths, key=keys, **_truncated(truncate))  # (b, C)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).sum(), y.shape[0], carry

    return loss


@functools.cache
def tag_loss_of(truncate: int | None = None):
    """Summed cross-entropy of one label per valid step (synced many-to-many)."""

    def loss(model, batch, carry, keys):
        x, y, lengths = batch  # (b, T, D), (b, T), (b,)
        logits = model(x, lengths, key=keys, **_truncated(truncate))  # (b, T, C)
        mask = jnp.arange(y.shape[1])[None, :] < lengths[:, None]  # (b, T)
        nll = optax.softmax_cross_entropy_with_integer_labels(logits, y)
        return jnp.where(mask, nll, 0.0).sum(), mask.sum(), carry

    return loss


classify_loss = classify_loss_of(None)
"""The loss of :func:`classify_loss_of` with full BPTT (no truncation)."""

tag_loss = tag_loss_of(None)
"""The loss of :func:`tag_loss_of` with full BPTT (no truncation)."""


@eqx.filter_jit
def _logits(model, x, lengths):
    return model(x, lengths)


def predict_logits(model, data: SeqData, chunk: int = 256) -> np.ndarray:
    """Logits for every row of ``data``, (N, C) or (N, T, C), in chunks of ``chunk`` rows."""
    out = [
        np.asarray(_logits(model, data.x[i : i + chunk], data.lengths[i : i + chunk]))
        for i in range(0, len(data), chunk)
    ]
    return np.concatenate(out)


def scores(logits: np.ndarray, data: SeqData) -> tuple[dict, np.ndarray]:
    """(``{"loss", "accuracy"}``, predicted labels) over the labels that count."""
    if data.y.ndim == 2:
        logits = logits[data.valid()]  # (steps, C)
    y = data.labels()
    logp = np.asarray(jax.nn.log_softmax(jnp.asarray(logits, jnp.float32)))
    pred = logp.argmax(-1)
    loss = float(-logp[np.arange(len(y)), y].mean())
    return {"loss": loss, "accuracy": float((pred == y).mean())}, pred


def baseline_scores(train: SeqData, data: SeqData, classes: int) -> dict:
    """The trivial predictor's ``loss`` and ``accuracy``: always the training split's most
    frequent label, with its label frequencies (add-one smoothed) as probabilities."""
    counts = np.bincount(train.labels(), minlength=classes)
    prior = (counts + 1) / (counts.sum() + classes)
    y = data.labels()
    return {
        "loss": float(-np.log(prior[y]).mean()),
        "accuracy": float((y == counts.argmax()).mean()),
    }


def forget_biased(model, bias: float):
    """``model`` with the forget gate of every gated cell in it (lstm, peephole, cifg)
    starting at f = sigmoid(``bias``) (:func:`rnnlab.cells.lstm.with_forget_bias`)."""
    from rnnlab.cells.lstm import FORGET_BLOCK, with_forget_bias

    def gated(x):
        return type(x) in FORGET_BLOCK

    return jax.tree_util.tree_map(
        lambda x: with_forget_bias(x, bias) if gated(x) else x, model, is_leaf=gated
    )


def _baselines() -> dict:
    from rnnlab.models import Conv1D, WindowMLP

    return {"window-mlp": WindowMLP, "conv1d": Conv1D}


BASELINES = _baselines()


class SupervisedTask(Task):
    """A labelled sequence task: ``x`` (N, T, D) in, one class per sequence (``head =
    "classify"``) or per step (``"tag"``) out. A subclass implements
    :meth:`~rnnlab.tasks.Task.load_data`; the inputs are standardised per channel with the
    training split's statistics."""

    metric = "accuracy"
    baseline = "majority class"
    head = "classify"  # or "tag"
    figures = ("confusion matrix",)
    windowed = ("window-mlp", "conv1d")  # the models that --window sets
    criterion = Criterion("accuracy", margin=0.1)

    def build_model(self, config, info: dict):
        from rnnlab import models

        m, key = config.model, jax.random.key(config.train.seed)
        D, C, pool = info["features"], info["classes"], self.head == "classify"
        if m.model == "esn":  # a reservoir and a readout (rnnlab.tasks._esn)
            from rnnlab.tasks._esn import build_esn

            return build_esn(m, D, C, pool=pool, seed=config.train.seed, task=self.name)
        if m.model in BASELINES:
            return BASELINES[m.model](D, C, hidden=m.hidden, window=m.window, pool=pool, key=key)
        if m.model == "transformer":
            return models.TransformerEncoder(
                D, C, hidden=m.hidden, layers=m.layers, pool=pool, key=key
            )
        net = models.SequenceClassifier if pool else models.SequenceTagger
        model = net(D, C, cell=m.cell, hidden=m.hidden, layers=m.layers, dropout=m.dropout, key=key)
        return model if m.forget_bias is None else forget_biased(model, m.forget_bias)

    def loss(self, config):
        of = classify_loss_of if self.head == "classify" else tag_loss_of
        return of(config.learn.truncate)

    def online_kind(self) -> str | None:
        """The online learners train the tasks that keep this class's losses: one label at
        the last valid step (classify) or at every valid step (tag)."""
        return self.head if type(self).loss is SupervisedTask.loss else None

    def batches(self, train: SeqData, config):
        """Shuffled batches of whole sequences of the training split."""
        return Batches(train, min(config.train.batch_size, len(train)), config.train.seed)

    def validate(self, val: SeqData, config):
        """The evaluation that picks the best checkpoint: validation loss and accuracy."""

        def validate(model):
            s, _ = scores(predict_logits(model, val), val)
            return {"val_loss": s["loss"], "val_accuracy": s["accuracy"]}

        return validate

    def problem(self, model, data: Dataset, config) -> Problem:
        info = data.info()
        train, val = (scaled(data.splits[s], info) for s in ("train", "val"))
        batches = self.batches(train, config)
        return Problem(
            model=model, loss=self.loss(config), batches=batches,
            batch_size=batches.batch_size, evaluate=self.validate(val, config),
            stochastic=config.model.dropout > 0, unit="sequences",
            loss_label="cross-entropy (nats)",
        )  # fmt: skip

    def metrics(self, run, data: Dataset, split: str, **options):
        part = scaled(data.split(split), run.info)
        metrics, pred = scores(predict_logits(run.model, part), part)
        return metrics, (part, pred)

    def baseline_metrics(self, run, data: Dataset, split: str, **options) -> dict:
        train = scaled(data.splits["train"], run.info)
        return baseline_scores(train, data.split(split), run.info["classes"])

    def write_figures(self, run, data, split, outputs) -> list:
        """The confusion matrix (``confusion_<split>.png``) of a task that lists it."""
        if "confusion matrix" not in self.figures:
            return []
        part, pred = outputs
        accuracy = float((pred == part.labels()).mean())
        path = run.dir / f"confusion_{split}.png"
        _figures.confusion(
            path, part.labels(), pred, run.info["class_names"],
            title=f"{self.name}, {split} split: accuracy {accuracy:.3f}",
        )  # fmt: skip
        return [path]

    def inspect(self, run_dir, *, out=None, split: str = "test", **options) -> dict:
        """Figures of the units over the input signal (:mod:`rnnlab.inspect`)."""
        from rnnlab.inspect import write_task_figures

        return write_task_figures(self.load_run(run_dir), out, split=split)
