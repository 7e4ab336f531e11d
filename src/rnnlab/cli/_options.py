"""Command-line options generated from config fields (:mod:`rnnlab.config`): one click
option per field, its help with the default, the bounds and whether ``--resume`` keeps it.

Options default to None here, so that a command can tell the flags the user gave (their
source is the command line) from the config's own defaults, which the help shows.
"""

from __future__ import annotations

import click
from click.core import ParameterSource

from rnnlab.config import Spec

_TYPES = {int: click.INT, float: click.FLOAT, str: click.STRING, bool: click.BOOL}


def _shown(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def describe(spec: Spec, default, choices: tuple | None = None) -> str:
    """``spec``'s help, then ``[default: ...; >= 1; fixed at --resume]``."""
    notes = [f"default: {_shown(default)}"]
    if spec.limits():
        notes.append(spec.limits())
    if spec.fixed:
        notes.append("fixed at --resume")
    return f"{spec.help} [{'; '.join(notes)}]"


class OrNone(click.ParamType):
    """A value of ``inner``, or ``none`` (an optional field set back to None)."""

    def __init__(self, inner: click.ParamType):
        self.inner, self.name = inner, inner.name

    def convert(self, value, param, ctx):
        if isinstance(value, str) and value.lower() == "none":
            return None
        return self.inner.convert(value, param, ctx)


def option(spec: Spec, default=None, choices: tuple | None = None) -> click.Option:
    """The click option of ``spec`` (``--batch-size``; a bool is ``--x/--no-x``), its help
    showing ``default`` and ``choices`` (those of the field unless given). Choices and
    bounds are checked with the config (:meth:`rnnlab.config.Spec.check`): the same
    message from the command line and the library."""
    choices = choices if choices is not None else spec.choice_list()
    if spec.type is bool:
        decls, kind, metavar = [f"{spec.flag}/--no-{spec.flag[2:]}"], None, None
    else:
        decls, kind = [spec.flag], _TYPES[spec.type]
        metavar = f"[{'|'.join(map(str, choices))}]" if choices else spec.type.__name__.upper()
    if spec.optional and kind is not None:
        kind = OrNone(kind)
        metavar = f"{metavar}|none"
    return click.Option(
        [*decls, spec.name], type=kind, default=None, help=describe(spec, default, choices),
        metavar=metavar,
    )  # fmt: skip


def given(ctx: click.Context) -> dict:
    """The parameters of ``ctx`` that the user set on the command line, by name."""
    return {
        name: value
        for name, value in ctx.params.items()
        if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE
    }


def format_sections(formatter, sections: dict[str, list[click.Parameter]], ctx) -> None:
    """The options under one heading per section (Training, Model, ...)."""
    for title, params in sections.items():
        rows = [r for r in (p.get_help_record(ctx) for p in params) if r is not None]
        if rows:
            with formatter.section(title):
                formatter.write_dl(rows)
