"""The task contract and the typed config: every task's flags and defaults, the flags it
does not take refused, config.json round trips, resume checks, tasks from outside."""

import json
import textwrap

import numpy as np
import pytest
from _cli import run

from rnnlab.cli._options import describe
from rnnlab.errors import UserError
from rnnlab.tasks import TASKS, Run, RunConfig, get_task, load_run
from rnnlab.tasks._config import from_saved

ALL_FIELDS = {name: spec for t in TASKS.values() for name, (_, spec) in t.fields().items()}


def one_line(code, err, *words):
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("rnnlab: error: "), err
    for w in words:
        assert w in err, (w, err)


def _value(spec, default):
    """A value of ``spec``'s type, as a string for the command line."""
    if spec.type is bool:
        return []
    choices = spec.choice_list()
    return [str(choices[0] if choices else 1 if default is None else default)]


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_flag_a_task_lacks_is_one_line_naming_flag_and_task(name, tmp_path, capsys):
    task = TASKS[name]
    lacking = sorted(set(ALL_FIELDS) - set(task.fields()))
    assert lacking or name == "charlm"
    for field in lacking:
        spec = ALL_FIELDS[field]
        out = tmp_path / "run"
        flags = [spec.flag, *_value(spec, spec.default)]
        code, _, err = run(capsys, "train", "--task", name, "--out", out, *flags)
        one_line(code, err, spec.flag, f"--task {name}")
        assert not out.exists()


@pytest.mark.parametrize("name", sorted(TASKS))
def test_help_shows_the_task_s_own_defaults(name, capsys):
    task = TASKS[name]
    code, out, _ = run(capsys, "train", "--task", name, "--help")
    assert code == 0
    flat = " ".join(out.split())
    default = task.config().values()
    for field, (_, spec) in task.fields().items():
        choices = task.models if field == "model" else None
        assert " ".join(describe(spec, default[field], choices).split()) in flat, field
    for field, value in task.defaults.items():
        assert default[field] == value  # the task's own, not the shared field's


@pytest.mark.parametrize("name", sorted(TASKS))
def test_defaults_are_valid_and_the_criterion_is_stated(name):
    task = TASKS[name]
    config = task.config()
    task.check(config)
    assert task.criterion is not None and task.criterion.metric


def _changed(spec, value, task):
    """A valid value of ``spec`` other than ``value``."""
    choices = task.models if spec.name == "model" else spec.choice_list()
    if choices:
        others = [c for c in choices if c != value]
        return others[0] if others else None
    if spec.type is bool:
        return not value
    if spec.type is str:
        return "elsewhere.txt"
    if value is None:
        return 3 if spec.type is int else 0.5
    return value + 1 if spec.type is int else value / 2 + 0.25


@pytest.mark.parametrize("name", sorted(TASKS))
def test_config_json_round_trips_every_field(name):
    task = TASKS[name]
    values = {}
    for field, (_, spec) in task.fields().items():
        changed = _changed(spec, task.config().values()[field], task)
        if changed is not None:
            values[field] = changed
    config = task.config(**values)
    saved = json.loads(json.dumps({**config.to_dict(), "data": {"sizes": {"train": 1}}}))
    back, info = from_saved(saved, task.Options, "config.json")
    assert back == config and info == {"sizes": {"train": 1}}
    assert back.values() == {**task.config().values(), **values}


@pytest.mark.parametrize("name", ["adding", "charlm", "numbers", "speakers"])
def test_resume_refuses_every_fixed_field_and_takes_the_others(name, tmp_path):
    task = TASKS[name]
    config = task.config()
    (tmp_path / "config.json").write_text(json.dumps({**config.to_dict(), "data": {}}))
    for field, (_, spec) in task.fields().items():
        changed = _changed(spec, config.values()[field], task)
        if changed is None:
            continue
        if spec.fixed:
            with pytest.raises(UserError, match=f"--resume: {spec.flag} differs"):
                task.resume_config(tmp_path, {field: changed})
        else:
            assert task.resume_config(tmp_path, {field: changed}).values()[field] == changed
    for field, (section, spec) in task.fields().items():
        assert spec.fixed or section != "model", field  # a model field is fixed: the weights


def test_resume_of_another_task_s_run_says_whose_it_is(tmp_path, capsys):
    motions = TASKS["motions"].config()
    (tmp_path / "config.json").write_text(json.dumps({**motions.to_dict(), "data": {}}))
    code, _, err = run(capsys, "train", "--task", "adding", "--out", tmp_path, "--resume")
    one_line(code, err, "holds a motions run", "--task motions")
    with pytest.raises(UserError, match="holds a motions run"):
        TASKS["adding"].resume_config(tmp_path, {})


def test_bad_values_are_one_line(tmp_path, capsys):
    out = tmp_path / "run"
    (tmp_path / "a-file").write_text("mine")
    motions = ["train", "--task", "motions", "--out", out]
    cases = [
        ([*motions, "--clip", "-1"], ["--clip must be >= 0"]),
        ([*motions, "--minutes", "-1"], ["--minutes must be > 0"]),
        ([*motions, "--momentum", "0.5"], ["--momentum applies only with --optimizer sgd"]),
        ([*motions, "--layers", "1", "--dropout", "0.3"],
         ["--dropout applies only with --model rnn and --layers >= 2"]),
        ([*motions, "--model", "transformer", "--window", "4"],
         ["--window does not apply to --model transformer"]),
        ([*motions, "--model", "conv1d", "--truncate", "4"],
         ["--truncate applies only with --model rnn"]),
        ([*motions, "--steps", "none"], ["give --steps or --minutes"]),
        (["train", "--task", "motions", "--out", tmp_path / "a-file"], ["is a file"]),
        (["train", "--task", "my_missing_module:Task", "--out", out], ["cannot import"]),
        (["sample", tmp_path, "--seed", "-1"], ["--seed must be >= 0"]),
        (["eval", tmp_path, "--split", "dev"], ["--split must be one of train, val, test"]),
    ]  # fmt: skip
    for argv, words in cases:
        code, _, err = run(capsys, *argv)
        one_line(code, err, *words)
        assert not out.exists()
    code, out_text, _ = run(capsys, "eval", "--help")
    assert code == 0 and "[train|val|test]" in out_text


# --- tasks from outside the package -------------------------------------------------------

PARITY = '''
import numpy as np
from rnnlab.config import option
import dataclasses
from rnnlab.tasks import Dataset, SeqData, Sample, SupervisedTask, split_rows


@dataclasses.dataclass
class ParityOptions:
    bits: int = option(6, "Bits per string.", ge=1, fixed=True)


class Parity(SupervisedTask):
    """Is the number of ones odd? (many-to-one)"""

    pattern, source = "many-to-one", "generated bit strings"
    Options = ParityOptions
    defaults = {"hidden": 8, "steps": 3, "eval_every": 3, "batch_size": 8}
    sample_flags = ("seed",)

    def load_data(self, config):
        n, T = 60, config.options.bits
        x = np.random.default_rng(0).integers(0, 2, (n, T, 1)).astype(np.float32)
        data = SeqData(x, (x.sum((1, 2)) % 2).astype(np.int32), np.full(n, T, np.int32))
        return Dataset({k: data.take(i) for k, i in split_rows(n).items()}, ["even", "odd"])

    def sample(self, run, *, seed=0, **options):
        return Sample([f"{run.config.options.bits} bits, seed {seed}"])


class Broken(SupervisedTask):
    """No load_data: not a task."""
'''


@pytest.fixture
def module(tmp_path):
    path = tmp_path / "mytasks.py"
    path.write_text(textwrap.dedent(PARITY))
    return path


def test_a_task_from_a_file_trains_evaluates_samples_and_inspects(module, tmp_path, capsys):
    out = tmp_path / "run"
    spec = f"{module}:Parity"
    code, _, err = run(capsys, "train", "--task", spec, "--out", out, "--bits", "5")
    assert code == 0, err
    saved = json.loads((out / "config.json").read_text())
    assert saved["task"] == spec and saved["options"] == {"bits": 5}
    code, text, err = run(capsys, "eval", out, "--json")
    assert code == 0, err
    result = json.loads(text)
    assert result["task"] == spec and set(result["metrics"]) == {"loss", "accuracy"}
    code, text, err = run(capsys, "sample", out, "--seed", "4")
    assert (code, text) == (0, "5 bits, seed 4\n"), err
    code, _, err = run(capsys, "sample", out, "--length", "4")
    one_line(code, err, "--length does not apply to rnnlab sample")
    code, text, err = run(capsys, "inspect", out)
    assert code == 0 and "inspect_signal.png" in text, err
    assert isinstance(load_run(out), Run) and load_run(out).config.options.bits == 5
    code, _, err = run(capsys, "train", "--task", spec, "--out", out, "--resume", "--bits", "6")
    one_line(code, err, "--bits differs")


def test_a_module_of_the_current_folder_and_its_help(module, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, text, err = run(capsys, "train", "--task", "mytasks:Parity", "--help")
    assert code == 0, err
    assert "--bits INT" in text and "Task mytasks:Parity" in text
    assert "[default: 8; >= 1; fixed at --resume]" in " ".join(text.split())  # --hidden 8


@pytest.mark.parametrize(
    "spec, words",
    [
        ("{module}:Broken", ["does not follow rnnlab.tasks.Task", "load_data"]),
        ("{module}:Nothing", ["has no class Nothing"]),
        ("{module}:np", ["is not a subclass of rnnlab.tasks.Task"]),
        ("{tmp}/none.py:Parity", ["no file"]),
        ("nope_no_module:Parity", ["cannot import nope_no_module"]),
    ],
)
def test_tasks_that_are_not_tasks_are_one_line(spec, words, module, tmp_path, capsys):
    spec = spec.format(module=module, tmp=tmp_path)
    code, _, err = run(capsys, "train", "--task", spec, "--out", tmp_path / "run")
    one_line(code, err, *words)
    assert not (tmp_path / "run").exists()


def test_an_entry_point_names_a_task(module, monkeypatch):
    import importlib.metadata
    import importlib.util

    from rnnlab.tasks import registry

    class Point:
        name = "parity"

        def load(self):
            spec = importlib.util.spec_from_file_location("parity_plugin", module)
            plugin = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(plugin)
            return plugin.Parity

    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: [Point()])
    monkeypatch.setattr(registry, "_outside", {})
    task = get_task("parity")
    assert task.name == "parity" and task.config().options.bits == 6
    assert isinstance(task.config(), RunConfig)


# --- bad data files -----------------------------------------------------------------------


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def test_labels_are_bounded_before_anything_is_sized_by_them(tmp_path, caplog):
    from rnnlab.tasks._npz import MAX_CLASSES, load_npz

    x = np.zeros((12, 3, 2), np.float32)
    y = np.zeros(12, np.int64)
    y[5] = 10**9  # one huge label: one class among two, not a billion
    data = load_npz(_npz(tmp_path / "a.npz", x=x, y=y), tagged=False)
    assert data.class_names == ["0", "1000000000"]
    assert sorted(np.concatenate([s.y for s in data.splits.values()]).tolist()) == [0] * 11 + [1]
    many = np.arange(MAX_CLASSES + 1) * 7
    path = _npz(tmp_path / "b.npz", x=np.zeros((len(many), 3, 2), np.float32), y=many)
    with pytest.raises(UserError, match=f"{MAX_CLASSES + 1} distinct labels; at most"):
        load_npz(path, tagged=False)
    with caplog.at_level("WARNING"):
        load_npz(_npz(tmp_path / "c.npz", x=x, y=np.zeros(12, np.int64)), tagged=False)
    assert "one class" in caplog.text
    with pytest.raises(UserError, match="x must be real"):
        load_npz(_npz(tmp_path / "d.npz", x=x.astype(np.complex64), y=y), tagged=False)
    text = tmp_path / "e.npz"
    text.write_text("x,y\n1,2\n")
    with pytest.raises(UserError, match="is not a .npz file"):
        load_npz(text, tagged=False)


# --- truncated BPTT for every task --------------------------------------------------------


def test_truncate_reaches_the_recurrence_of_the_task_models(close):
    """A many-to-one Elman net of 5 steps: with --truncate 1 the gradient equals that of
    the net stepped by hand with the state cut from its past at every step."""
    import jax
    import jax.numpy as jnp

    from rnnlab.models import SequenceClassifier
    from rnnlab.tasks import classify_loss_of

    net = SequenceClassifier(2, 3, cell="elman", hidden=4, key=jax.random.key(0))
    x = np.random.default_rng(0).normal(size=(2, 5, 2)).astype(np.float32)
    y, lengths = np.array([0, 2]), np.array([5, 5])

    def grads(truncate):
        loss = classify_loss_of(truncate)
        return jax.grad(lambda m: loss(m, (x, y, lengths), None, None)[0])(net)

    def by_hand(m):
        cell, total = m.rnn.cells[0][0], 0.0
        for b in range(2):
            h = jnp.zeros(4)
            for t in range(5):
                h, _ = cell(jax.lax.stop_gradient(h), x[b, t])  # no gradient to step t-1
            total = total - jax.nn.log_softmax(m.readout(h))[y[b]]
        return total

    close(grads(1), jax.grad(by_hand)(net), rtol=1e-5)
    full = jax.tree_util.tree_leaves(grads(None).rnn)
    cut = jax.tree_util.tree_leaves(grads(1).rnn)
    assert any(not np.allclose(a, b) for a, b in zip(full, cut, strict=True))
    for name, task in TASKS.items():  # every task that truncates hands K to its loss
        if task.truncates:
            config = task.config(truncate=1)
            task.check(config)
            assert task.loss(config) is not task.loss(task.config()), name


def test_minutes_without_steps_lift_the_step_limit(tmp_path):
    task = TASKS["adding"]
    assert task.config().train.steps == 10_000 and task.config(minutes=4).train.steps is None
    assert task.config(minutes=4, steps=5).train.steps == 5
    task.check(task.config(minutes=4))
    (tmp_path / "config.json").write_text(json.dumps({**task.config().to_dict(), "data": {}}))
    assert task.resume_config(tmp_path, {"minutes": 2.0}).train.steps is None
    assert task.resume_config(tmp_path, {"minutes": 2.0, "steps": 7}).train.steps == 7


def test_run_directories_of_the_earlier_layouts_read_back():
    """config.json as rnnlab wrote it before the typed config: the char model's sections
    with the vocabulary beside them, and the sequence tasks' one flat dict."""
    charlm = {
        "task": "charlm",
        "model": {"cell": "gru", "hidden": 8, "layers": 1, "embed": 4, "dropout": 0.0,
                  "onehot": False, "init": 0.0, "forget_bias": None, "model": "rnn",
                  "window": 16},
        "train": {"corpus": "notes.txt", "seq_len": 50, "batch_size": 4, "steps": 9,
                  "minutes": None, "optimizer": "adam", "lr": 0.002, "momentum": 0.9,
                  "schedule": "constant", "warmup": 0, "clip": 5.0, "truncate": 10, "seed": 3,
                  "eval_every": 200, "eval_chars": 1000, "log_every": 20, "sample_chars": 20,
                  "devices": None},
        "vocab": ["a", "b"],
    }  # fmt: skip
    config, info = from_saved(charlm, TASKS["charlm"].Options, "config.json")
    assert (config.model.cell, config.options.corpus, config.options.seq_len) == (
        "gru",
        "notes.txt",
        50,
    )
    assert (config.learn.truncate, config.train.seed, info) == (10, 3, {"vocab": ["a", "b"]})
    flat = {"task": "motions", "data": None, "model": "rnn", "cell": "elman", "hidden": 12,
            "layers": 1, "dropout": 0.0, "window": 8, "embed": 32, "vocab": 4000, "unit": None,
            "batch_size": 8, "steps": 40, "lr": 0.01, "seed": 1}  # fmt: skip
    motions = {"task": "motions", "config": flat, "data": {"classes": 4}}
    config, info = from_saved(motions, TASKS["motions"].Options, "config.json")
    assert (config.task, config.model.cell, config.model.hidden, config.train.steps) == (
        "motions", "elman", 12, 40)  # fmt: skip
    assert info == {"classes": 4} and config.train.clip == 1.0  # absent: the default
