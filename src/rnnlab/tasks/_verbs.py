"""The options of ``rnnlab sample``, ``eval`` and ``inspect`` as config sections, and the
one-line refusals of an option that a task does not take."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from rnnlab.config import option, specs
from rnnlab.errors import UserError

SPLITS = ("train", "val", "test")


@dataclasses.dataclass
class SampleOptions:
    """``rnnlab sample RUN``: what a task that generates reads (its ``sample_flags``)."""

    prime: str = option(
        "", "Read this first (charlm: text; chorales: a chord, 'C4 E4 G4'; birdsong: syllables; "
        "numbers: English number words or digits).",
    )  # fmt: skip
    length: int | None = option(
        None, "How much to generate (charlm: characters, 500; chorales: frames, 16 bars; "
        "birdsong: syllables, 40).", ge=0,
    )  # fmt: skip
    temperature: float = option(1.0, "Softmax temperature (lower: safer).", ge=0)
    seed: int = option(0, "Random seed: the same seed gives the same sample.", ge=0)
    argmax: bool = option(
        False, "Always take the most likely choice (chorales: every pitch with p >= 0.5)."
    )
    out: str | None = option(
        None, "chorales: the MIDI file to write (a PNG lands beside it; default RUN/sample.mid).",
        path=True,
    )  # fmt: skip
    beam: int | None = option(None, "numbers: beam width (none: 1, greedy).", ge=1)


@dataclasses.dataclass
class EvalOptions:
    """``rnnlab eval RUN``: ``split`` and ``json`` for every task, the rest where a task
    takes them (its ``eval_flags``)."""

    split: str = option("test", "The split to score.", choices=SPLITS)
    json: bool = option(
        False, "Print one JSON object: task, split, metrics and the trivial baseline's."
    )
    file: str | None = option(
        None, "charlm: score this UTF-8 text file instead of a split.", path=True
    )
    beam: int | None = option(None, "numbers: beam width (none: 1, greedy).", ge=1)


@dataclasses.dataclass
class InspectOptions:
    """``rnnlab inspect RUN``: ``split`` and ``out`` for every task that it reads, ``text``
    and ``chars`` for the char model (``inspect_flags``)."""

    split: str = option("test", "Without --text: the split to read.", choices=SPLITS)
    out: str | None = option(
        None, "The page to write (charlm; default RUN/inspect.html) or the figures' prefix "
        "(default RUN/inspect: inspect_signal.png, ...).", path=True,
    )  # fmt: skip
    text: str | None = option(None, "charlm: read this UTF-8 text file instead.", path=True)
    chars: int = option(2000, "charlm: characters of text to read.", ge=2)


ALWAYS = {"eval": {"split", "json"}, "inspect": {"split", "out"}, "sample": set()}
FLAGS = {"eval": "eval_flags", "sample": "sample_flags", "inspect": "inspect_flags"}


def refuse(task, verb: str, options: dict) -> None:
    """A :class:`UserError` naming the first of ``options`` (those the user set) that
    ``rnnlab VERB`` of a ``task`` run does not take."""
    from rnnlab.tasks.registry import TASKS

    takes = ALWAYS[verb] | set(getattr(task, FLAGS[verb]))
    for name, value in options.items():
        if value is not None and name not in takes:
            flag = "--" + name.replace("_", "-")
            where = [n for n, t in TASKS.items() if name in getattr(t, FLAGS[verb])]
            also = f" (it applies to {', '.join(where)} runs)" if where else ""
            raise UserError(f"{flag} does not apply to rnnlab {verb} of a {task.name} run{also}")


def not_generating(task, run_dir) -> str:
    from rnnlab.tasks.registry import TASKS

    makers = [n for n, t in TASKS.items() if t.sample_flags]
    return f"{run_dir} holds a {task.name} run, which does not generate; sample needs a run " \
           f"of {', '.join(makers)}"  # fmt: skip


def refusal(name: str, task) -> str:
    """Why ``rnnlab train --task TASK`` has no flag for the field ``name``, in one line."""
    from rnnlab.tasks.registry import TASKS

    flag = "--" + name.replace("_", "-")
    others = [t.name for t in TASKS.values() if name in t.fields()]
    if others:
        return f"{flag} does not apply to --task {task.name} (it is an option of --task " \
               f"{', '.join(others)})"  # fmt: skip
    return f"{flag} is not an option of rnnlab train --task {task.name}"


def absolute(values: dict, fields: dict) -> dict:
    """``values`` with the file names of ``path`` fields that name an existing file made
    absolute (so that a run read from another folder finds them)."""
    out = dict(values)
    for name, value in values.items():
        if name in fields and fields[name][1].path and isinstance(value, str):
            if Path(value).expanduser().exists():
                out[name] = str(Path(value).expanduser().resolve())
    return out


def option_specs(verb: str):
    return specs({"eval": EvalOptions, "sample": SampleOptions, "inspect": InspectOptions}[verb])
