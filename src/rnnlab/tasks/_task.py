"""The task contract: :class:`Task`, the one base class of every task, built in or your own.

A task says what its data are (:meth:`Task.load_data`, the splits), which model it builds
from a config (:meth:`Task.build_model`), its loss (:meth:`Task.loss`) and what the engine
trains (:meth:`Task.problem`), its metrics and its trivial baseline's
(:meth:`Task.metrics`, :meth:`Task.baseline_metrics`), its figures
(:meth:`Task.write_figures`), and, where it generates, :meth:`Task.sample`. The verbs are
the same for every task and are not overridden: :meth:`Task.train`, :meth:`Task.evaluate`
and :meth:`Task.load_run`. Its config is a :class:`RunConfig`: the engine's sections, the
model's and the task's own ``Options``, with the task's ``defaults``.
"""

from __future__ import annotations

import abc
import dataclasses
import json
from collections.abc import Callable, Iterable, Sized
from pathlib import Path
from typing import Any, ClassVar

from rnnlab.config import ESN_FIELDS, WINDOWED, Spec, check_fields, specs
from rnnlab.engine import Problem, Settings, check_new_run_dir, fit, io, optimizer_of
from rnnlab.engine.devices import process_index
from rnnlab.errors import UserError
from rnnlab.tasks import _online, _verbs
from rnnlab.tasks._config import SHARED, NoOptions, RunConfig, from_saved, read_config, task_name

MODEL_FIELDS = ("model", "cell", "hidden", "layers", "dropout", "window", "forget_bias")


@dataclasses.dataclass
class Data:
    """What :meth:`Task.load_data` returns: the ``splits`` by name (``train``, ``val``,
    ``test``; each whatever the task's methods read: sequences, ids, pairs)."""

    splits: dict[str, Any]

    def split(self, name: str):
        """The split called ``name`` (``--split``); an unknown one is a :class:`UserError`."""
        if name not in self.splits:
            raise UserError(f"--split must be one of {', '.join(self.splits)}, got {name!r}")
        return self.splits[name]

    def info(self) -> dict:
        """What ``config.json`` records about the data: what rebuilds the model (and
        resumes on the same data). Here the sizes of the splits."""
        return {"sizes": {k: len(v) for k, v in self.splits.items()}}

    def describe(self) -> str:
        """One line for the progress report."""
        return ", ".join(f"{k} {v}" for k, v in self.info()["sizes"].items())


@dataclasses.dataclass
class Run:
    """A trained run, as :meth:`Task.load_run` reads it: its directory, task, config, the
    data's ``info`` and the ``model`` of a checkpoint."""

    dir: Path
    task: Task
    config: RunConfig
    info: dict
    model: Any

    def save(self, which: str = io.BEST) -> None:
        """Write ``config.json`` and the model as checkpoint ``which`` (a run made outside
        :meth:`Task.train`, e.g. one assembled by hand)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        io.write_json(self.dir / io.CONFIG, {**self.config.to_dict(), "data": self.info})
        io.save_tree(self.dir / which, self.model)


@dataclasses.dataclass(frozen=True)
class Criterion:
    """When a task's defaults have learned something (``bench/defaults.py``): the test
    ``metric`` beats the trivial baseline's by ``margin`` (``higher``: larger is better),
    or, with ``ratio``, is at most ``ratio`` times the baseline's (a loss)."""

    metric: str
    higher: bool = True
    margin: float = 0.0
    ratio: float | None = None

    def met(self, metrics: dict, baseline: dict) -> bool:
        value, base = metrics[self.metric], baseline[self.metric]
        if self.ratio is not None:
            return value <= self.ratio * base
        return value >= base + self.margin if self.higher else value <= base - self.margin

    def __str__(self) -> str:
        if self.ratio is not None:
            return f"{self.metric} <= {self.ratio:g} x baseline"
        return f"{self.metric} {'>=' if self.higher else '<='} baseline {'+-'[not self.higher]}" \
               f" {self.margin:g}"  # fmt: skip


@dataclasses.dataclass
class Sample:
    """What :meth:`Task.sample` generated: ``text`` (pieces, printed as they come) and the
    ``files`` it wrote."""

    text: Iterable[str]
    files: list = dataclasses.field(default_factory=list)


class Task(abc.ABC):
    """The contract of a task (module docstring). Class attributes describe it:
    ``name`` (``rnnlab train --task NAME``), ``pattern``, ``source``, ``metric`` and
    ``baseline`` (for ``rnnlab tasks``), ``models`` (the ``--model`` choices), ``Options``
    (a dataclass of :func:`rnnlab.config.option` fields: the task's own flags),
    ``defaults`` (its values for the shared fields, e.g. ``{"hidden": 128}``),
    ``windowed`` (those of its models that see a window of ``--window`` steps),
    ``model_fields`` (the model fields it reads), ``truncates`` (whether ``--truncate``
    applies), ``criterion`` (what "learned" means for its defaults), ``figures`` (names),
    and ``eval_flags``, ``sample_flags``, ``inspect_flags``: the options of ``rnnlab eval``,
    ``sample`` and ``inspect`` that it takes (no ``sample_flags``: it does not generate)."""

    name: ClassVar[str] = ""
    pattern: ClassVar[str] = ""
    source: ClassVar[str] = ""
    metric: ClassVar[str] = ""
    baseline: ClassVar[str] = ""
    models: ClassVar[tuple[str, ...]] = ("rnn",)
    windowed: ClassVar[tuple[str, ...]] = WINDOWED  # the models whose window --window sets
    Options: ClassVar[type] = NoOptions
    defaults: ClassVar[dict] = {}
    model_fields: ClassVar[tuple[str, ...]] = MODEL_FIELDS
    truncates: ClassVar[bool] = True
    criterion: ClassVar[Criterion | None] = None
    figures: ClassVar[tuple[str, ...]] = ()
    eval_flags: ClassVar[tuple[str, ...]] = ()
    sample_flags: ClassVar[tuple[str, ...]] = ()
    inspect_flags: ClassVar[tuple[str, ...]] = ()

    # --- what a task implements ----------------------------------------------------------

    @abc.abstractmethod
    def load_data(self, config: RunConfig) -> Data:
        """The splits (``train``, ``val``, ``test``) that ``config`` describes."""

    @abc.abstractmethod
    def build_model(self, config: RunConfig, info: dict):
        """A fresh model (an Equinox module) from ``config`` and the data's ``info``."""

    @abc.abstractmethod
    def loss(self, config: RunConfig) -> Callable:
        """The engine's loss, ``loss(model, batch, carry, keys) -> (sum, count, carry)``
        (see :class:`rnnlab.engine.Problem`); one object per config (it is compiled)."""

    @abc.abstractmethod
    def problem(self, model, data: Data, config: RunConfig) -> Problem:
        """What the engine trains: the model, :meth:`loss`, the batches of the training
        split and the validation that picks the best checkpoint."""

    @abc.abstractmethod
    def metrics(self, run: Run, data: Data, split: str, **options) -> tuple[dict, Any]:
        """``(metrics, outputs)`` of ``run.model`` on ``split``: the metric values, and what
        :meth:`write_figures` draws (predictions); ``options``: ``eval_flags``."""

    @abc.abstractmethod
    def baseline_metrics(self, run: Run, data: Data, split: str, **options) -> dict:
        """The trivial predictor's values of the same metrics on ``split``."""

    def write_figures(self, run: Run, data: Data, split: str, outputs) -> list[Path]:
        """Draw the task's ``figures`` of ``split`` into the run directory; their paths."""
        return []

    def sample(self, run: Run, **options) -> Sample:
        """Generate from ``run`` (``options``: ``sample_flags``)."""
        raise UserError(_verbs.not_generating(self, run.dir))

    def inspect(self, run_dir, *, out=None, split: str = "test", **options) -> dict:
        """Look inside the run in ``run_dir`` (``rnnlab inspect``): ``{"figures", "found"}``
        (and a ``page``); ``options``: ``inspect_flags``."""
        raise UserError(
            "rnnlab inspect reads char-model runs and the runs of tagging and classification "
            f"tasks over signals (motions, activity, primitives, tag, classify, ...), not "
            f"--task {self.name}"
        )

    def check(self, config: RunConfig, given: set[str] | None = None) -> None:
        """Every field of ``config`` valid, and none that the task does not read set (by the
        user: ``given``, default those that differ from the task's defaults). A task with
        rules of its own extends this."""
        given = self.given(config, given)
        fields = self.fields()
        for name in sorted(given):
            if name not in fields:
                raise UserError(_verbs.refusal(name, self))
        if config.model.model == "esn":  # a reservoir: its own rules (rnnlab.tasks._esn)
            from rnnlab.tasks import _esn

            _esn.check(self, config, given)
        config.train.check(given)
        config.learn.check(given)
        config.model.check(given, {"model": self.models})
        check_fields(config.options, given)
        m = config.model
        _online.check(self, config)  # an online --learner: the task and model it trains
        if config.learn.truncate is not None and m.model != "rnn":
            raise UserError("--truncate applies only with --model rnn (BPTT through its steps)")
        if "window" in given and m.model in WINDOWED and m.model not in self.windowed:
            raise UserError(f"--window does not apply to --model {m.model} of --task "
                            f"{self.name} (it reads the whole sequence)")  # fmt: skip

    # --- the same for every task ---------------------------------------------------------

    def given(self, config: RunConfig, given: set[str] | None = None) -> set[str]:
        """The fields set by the user: ``given``, or those that differ from the defaults."""
        if given is not None:
            return set(given)
        default = self.config().values()
        return {k for k, v in config.values().items() if v != default[k]}

    def fields(self) -> dict[str, tuple[str, Spec]]:
        """The flags of ``rnnlab train --task NAME``: field name -> (section, spec)."""
        model = set(self.model_fields) - (set() if self.windows() else {"window"})
        model |= set(ESN_FIELDS) if "esn" in self.models else set()
        take = {"model": model,
                "learn": {"learner", "truncate"} if self.truncates else {"learner"}}  # fmt: skip
        take["learn"] |= {"update_every"} if self.online_kind() else set()
        out = {}
        for section, cls in {**SHARED, "options": self.Options}.items():
            for s in specs(cls):
                if section not in take or s.name in take[section]:
                    out[s.name] = (section, s)
        return out

    def online_kind(self) -> str | None:
        """The loss of one row over a chunk that the online learners (``--learner rtrl``, ...)
        train with (:data:`rnnlab.tasks._online.KINDS`), or None: BPTT only."""
        return None

    def windows(self) -> bool:
        """Whether one of the task's models sees a window of steps (``--window``)."""
        return any(m in self.windowed for m in self.models)

    def config(self, **values) -> RunConfig:
        """The task's config: its ``defaults``, then ``values`` (by field name); file names
        of ``path`` fields become absolute. Not checked (see :meth:`check`)."""
        fields = self.fields()
        for name in values:
            if name not in fields:
                raise UserError(_verbs.refusal(name, self))
        given = _verbs.absolute(values, fields)
        values = {**self.defaults, **given}
        if given.get("minutes") is not None and "steps" not in given:
            values["steps"] = None  # --minutes without --steps: the minutes alone stop
        sections = {}
        for section, cls in {**SHARED, "options": self.Options}.items():
            names = {s.name for s in specs(cls)}
            sections[section] = cls(**{k: v for k, v in values.items() if k in names})
        return RunConfig(self.name, **sections)

    def resume_config(self, run_dir, values: dict) -> RunConfig:
        """The config saved in ``run_dir`` with ``values`` changed; a field that is fixed
        once a run exists (the model, the data) may not change."""
        saved = read_config(run_dir)
        if task_name(saved) != self.name:
            raise UserError(f"{run_dir} holds a {task_name(saved)} run; --resume continues it "
                            f"as --task {task_name(saved)} (drop --task {self.name})")  # fmt: skip
        config, _ = from_saved(saved, self.Options, str(Path(run_dir) / io.CONFIG))
        fields = self.fields()
        values = _verbs.absolute(values, fields)
        old = config.values()
        for name, value in values.items():
            spec = fields[name][1] if name in fields else None
            if spec is not None and spec.fixed and value != old[name]:
                raise UserError(
                    f"--resume: {spec.flag} differs from that of {run_dir} ({old[name]}); drop "
                    "it or train into a new --out"
                )
        if values.get("minutes") is not None and "steps" not in values:
            values["steps"] = None  # --minutes without --steps: the minutes alone stop
        return config.replace(**values)

    def load_run(self, run_dir, which: str = io.BEST) -> Run:
        """The run in ``run_dir``: its config, data info and the model of checkpoint
        ``which`` (the best one by default)."""
        run_dir = Path(run_dir)
        saved = read_config(run_dir)
        if task_name(saved) != self.name:
            raise UserError(f"{run_dir} holds a {task_name(saved)} run, not {self.name}")
        config, info = from_saved(saved, self.Options, str(run_dir / io.CONFIG))
        model = io.load_tree(run_dir / which, self.build_model(config, info))
        return Run(run_dir, self, config, info, model)

    def train(self, run_dir, config: RunConfig, *, resume=False, report=lambda e: None) -> dict:
        """Train (or continue) the run in ``run_dir``; the engine's summary (``status``:
        done, time, interrupted or diverged; ``step``; ``best``; ``metric``)."""
        run_dir = Path(run_dir)
        self.check(config, set() if resume else None)
        if config.model.model == "esn":  # fitted in one pass, not by the gradient loop
            from rnnlab.tasks import _esn

            return _esn.train(self, run_dir, config, resume=resume, report=report)
        if not resume and process_index() == 0:
            check_new_run_dir(run_dir)  # before reading the data: an error touches nothing
        data = self.load_data(config)
        info = json.loads(json.dumps(data.info()))  # as config.json will hold it
        if resume and info != read_config(run_dir).get("data", info):
            raise UserError(f"the data of {run_dir} changed since it was trained; --resume "
                            "needs the same data (or train a new run)")  # fmt: skip
        problem = self.problem(self.build_model(config, info), data, config)
        if config.learn.learner != "bptt":  # an engine step: a chunk of --update-every steps
            problem = _online.online_problem(problem, config, self.online_kind())
        batches = problem.batches  # steps per epoch, for --schedule epoch-decay
        per_epoch = getattr(batches, "per_epoch", None) or (
            len(batches) if isinstance(batches, Sized) else None
        )
        report({"event": "data", "task": self.name, "text": data.describe()})
        result = fit(
            problem, optimizer_of(config.train, steps_per_epoch=per_epoch),
            Settings.of(config.train), run_dir=run_dir, resume=resume, report=report,
            config={**config.to_dict(), "data": info},
        )  # fmt: skip
        drawn = self.figures and result.summary["status"] != "diverged"
        if drawn and process_index() == 0 and (run_dir / io.BEST).is_file():
            self.evaluate(run_dir, "val", figures=True)
        return result.summary

    def evaluate(self, run_dir, split: str = "test", *, figures: bool = True, **options) -> dict:
        """``{"task", "split", "metrics", "baseline"}`` of the run's best checkpoint on
        ``split`` (``options``: ``eval_flags``); with ``figures``, the task's figures
        land in the run directory."""
        _verbs.refuse(self, "eval", options)
        run = self.load_run(run_dir)
        data = self.load_data(run.config)
        data.split(split)
        metrics, outputs = self.metrics(run, data, split, **options)
        baseline = self.baseline_metrics(run, data, split, **options)
        if figures:
            self.write_figures(run, data, split, outputs)
        where = str(options["file"]) if options.get("file") else split
        return {"task": self.name, "split": where, "metrics": metrics, "baseline": baseline}
