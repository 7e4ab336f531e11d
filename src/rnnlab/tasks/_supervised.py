"""What every supervised sequence task shares: config, model, losses, training, evaluation.

A task module subclasses :class:`SupervisedTask`, says where its data comes from
(:meth:`SupervisedTask.load`) and registers an instance; training goes through
:func:`rnnlab.engine.fit` and the run directory is the engine's (``config.json`` with the
task's name, ``best.eqx``, ``last.eqx``, ``metrics.jsonl``, ``loss.png``) plus figures.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from rnnlab.cells import CELLS
from rnnlab.engine import Problem, Settings, check_new_run_dir, fit, io, optimizer_of
from rnnlab.errors import UserError
from rnnlab.tasks import _figures
from rnnlab.tasks._data import Batches, Dataset, SeqData, scaled


@dataclasses.dataclass
class TaskConfig:
    """A sequence-task run; CLI flags map one-to-one onto the fields (``--batch-size``)."""

    task: str
    data: str | None = None
    model: str = "rnn"
    cell: str = "lstm"
    hidden: int = 64
    layers: int = 1
    dropout: float = 0.0
    window: int = 8  # steps seen at once by --model window-mlp and conv1d
    embed: int = 32  # token vectors of the tasks whose steps are ids (words, characters)
    vocab: int = 4000  # most frequent training tokens kept; the rest share the unknown id
    unit: str | None = None  # what one step is, for tasks that offer a choice (word, char)
    batch_size: int = 32
    steps: int = 300
    minutes: float | None = None
    optimizer: str = "adam"
    lr: float = 3e-3
    momentum: float = 0.9
    schedule: str = "constant"
    warmup: int = 0
    clip: float = 1.0
    eval_every: int = 50
    log_every: int = 10
    seed: int = 0
    devices: int | None = None

    def check(self, models) -> None:
        if self.model not in models:
            raise UserError(
                f"--model {self.model!r} does not apply to --task {self.task}; "
                f"choose one of {', '.join(models)}"
            )
        if self.cell not in CELLS:
            raise UserError(f"unknown --cell {self.cell!r}; choose one of {', '.join(CELLS)}")
        for name in (
            "hidden",
            "layers",
            "window",
            "embed",
            "vocab",
            "batch_size",
            "steps",
            "eval_every",
            "log_every",
        ):
            if getattr(self, name) < 1:
                flag = name.replace("_", "-")
                raise UserError(f"--{flag} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise UserError(f"--dropout must be in [0, 1), got {self.dropout}")


def classify_loss(model, batch, carry, keys):
    """Summed cross-entropy of one label per sequence (many-to-one)."""
    x, y, lengths = batch  # (b, T, D), (b,), (b,)
    logits = model(x, lengths, key=keys)  # (b, C)
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).sum(), y.shape[0], carry


def tag_loss(model, batch, carry, keys):
    """Summed cross-entropy of one label per valid step (synced many-to-many)."""
    x, y, lengths = batch  # (b, T, D), (b, T), (b,)
    logits = model(x, lengths, key=keys)  # (b, T, C)
    mask = jnp.arange(y.shape[1])[None, :] < lengths[:, None]  # (b, T)
    nll = optax.softmax_cross_entropy_with_integer_labels(logits, y)
    return jnp.where(mask, nll, 0.0).sum(), mask.sum(), carry


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


def _baselines() -> dict:
    from rnnlab.models import Conv1D, WindowMLP

    return {"window-mlp": WindowMLP, "conv1d": Conv1D}


BASELINES = _baselines()


class SupervisedTask:
    """A labelled sequence task. Subclasses set the metadata and implement :meth:`load`."""

    name: str
    pattern: str  # "many-to-one" or "synced many-to-many"
    source: str  # where the data comes from, and its size
    metric = "accuracy"
    baseline = "majority class"
    models: tuple[str, ...] = ("rnn",)
    head = "classify"  # or "tag"
    figures = ("confusion matrix",)
    units: tuple[str, ...] = ()  # the choices of --unit, for tasks that offer one
    config_class = TaskConfig  # a task with fields of its own sets its subclass

    def load(self, config: TaskConfig) -> Dataset:
        raise NotImplementedError

    def build_model(self, config: TaskConfig, info: dict):
        from rnnlab import models

        key = jax.random.key(config.seed)
        if config.model in BASELINES:
            return BASELINES[config.model](
                info["features"], info["classes"], hidden=config.hidden, window=config.window,
                pool=self.head == "classify", key=key,
            )  # fmt: skip
        if config.model == "transformer":
            return models.TransformerEncoder(
                info["features"], info["classes"], hidden=config.hidden, layers=config.layers,
                pool=self.head == "classify", key=key,
            )  # fmt: skip
        net = models.SequenceClassifier if self.head == "classify" else models.SequenceTagger
        return net(
            info["features"], info["classes"], cell=config.cell, hidden=config.hidden,
            layers=config.layers, dropout=config.dropout, key=key,
        )  # fmt: skip

    def problem(self, model, train: SeqData, val: SeqData, config: TaskConfig) -> Problem:
        """The engine's view: whole sequences in shuffled batches, validation loss and
        accuracy at every evaluation (the loss picks the best checkpoint)."""
        batch = min(config.batch_size, len(train))

        def validate(model):
            s, _ = scores(predict_logits(model, val), val)
            return {"val_loss": s["loss"], "val_accuracy": s["accuracy"]}

        return Problem(
            model=model,
            loss=classify_loss if self.head == "classify" else tag_loss,
            batches=Batches(train, batch, config.seed),
            batch_size=batch,
            evaluate=validate,
            stochastic=config.dropout > 0,
            unit="sequences",
            loss_label="cross-entropy (nats)",
        )

    def train(self, run_dir, config: TaskConfig, *, resume=False, report=lambda e: None) -> dict:
        """Train (or continue) the run in ``run_dir``; return the engine's summary."""
        run_dir = Path(run_dir)
        config.check(self.models)
        if config.unit is not None and config.unit not in self.units:
            offer = f"one of {', '.join(self.units)}" if self.units else "no --unit"
            raise UserError(f"--unit {config.unit!r}: --task {self.name} takes {offer}")
        if not resume:
            check_new_run_dir(run_dir)  # before reading the data: errors touch nothing
        data = self.load(config)
        info = data.info()
        train, val = (scaled(data.splits[s], info) for s in ("train", "val"))
        problem = self.problem(self.build_model(config, info), train, val, config)
        optimizer = optimizer_of(config, steps_per_epoch=problem.batches.per_epoch)
        settings = Settings.of(config)
        saved = {"task": self.name, "config": dataclasses.asdict(config), "data": info}
        report({"event": "data", "task": self.name, "sizes": info["sizes"]})
        result = fit(
            problem, optimizer, settings, run_dir=run_dir, config=saved, resume=resume,
            report=report,
        )  # fmt: skip
        if result.summary["status"] != "diverged" and (run_dir / io.BEST).is_file():
            self.evaluate(run_dir, "val", figures=True)
        return result.summary

    def load_run(self, run_dir: Path, saved: dict):
        config = self.config_class(**saved["config"])
        info = saved["data"]
        model = io.load_tree(Path(run_dir) / io.BEST, self.build_model(config, info))
        return config, info, model

    def evaluate(self, run_dir, split: str = "test", *, figures: bool = True) -> dict:
        """``{"task", "split", "metrics", "baseline"}`` of the run's best checkpoint on
        ``split``; with ``figures``, the confusion matrix lands in the run directory."""
        run_dir = Path(run_dir)
        config, info, model = self.load_run(run_dir, read_config(run_dir))
        data = self.load(config)
        part = scaled(data.split(split), info)
        metrics, pred = scores(predict_logits(model, part), part)
        base = self.baseline_scores(scaled(data.splits["train"], info), part, info)
        if figures:
            _figures.confusion(
                run_dir / f"confusion_{split}.png", part.labels(), pred, info["class_names"],
                title=f"{self.name}, {split} split: accuracy {metrics['accuracy']:.3f}",
            )  # fmt: skip
        result = {"task": self.name, "split": split, "metrics": metrics, "baseline": base}
        return self.extend(result, run_dir, part, pred, info, figures=figures)

    def baseline_scores(self, train: SeqData, data: SeqData, info: dict) -> dict:
        """The trivial predictor's metrics (the same keys as the model's)."""
        return baseline_scores(train, data, info["classes"])

    def extend(self, result, run_dir, data: SeqData, pred, info, *, figures=True) -> dict:
        """A task's own metrics and views on top of ``result`` (``pred``: the labels that
        count, as :meth:`SeqData.labels` orders them); by default, nothing."""
        return result


def read_config(run_dir: Path) -> dict:
    """The ``config.json`` of a run directory (a UserError if it is not one)."""
    run_dir = Path(run_dir)
    if not (run_dir / io.CONFIG).is_file():
        raise UserError(f"{run_dir} is not an rnnlab run directory (no config.json)")
    saved = io.read_json(run_dir / io.CONFIG, "not a run directory")
    if not isinstance(saved, dict):
        raise UserError(f"{run_dir / io.CONFIG} is corrupt")
    return saved
