"""Typed configuration: dataclass fields that carry their help, bounds and choices, and say
whether a resumed run may change them.

A config section is a dataclass whose fields are made by :func:`option`. Everything that
reads a config is generated from those fields: the command line and its ``--help``
(:mod:`rnnlab.cli`), ``config.json`` (:func:`to_dict`, :func:`from_dict`), the checks of
every value (:func:`check_fields`) and of ``--resume`` (``fixed``). A flag is the field's
name with dashes (``batch_size`` is ``--batch-size``).

>>> import dataclasses
>>> @dataclasses.dataclass
... class Toy:
...     rate: float = option(0.1, "Step size.", gt=0)
...     kind: str = option("a", "Which kind.", choices=("a", "b"), fixed=True)
>>> [(s.flag, s.default, s.fixed) for s in specs(Toy)]
[('--rate', 0.1, False), ('--kind', 'a', True)]
>>> check_fields(Toy(rate=-1.0))
Traceback (most recent call last):
...
rnnlab.errors.UserError: --rate must be > 0, got -1.0
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from typing import Any

from rnnlab.errors import UserError

_KEY = "rnnlab"  # the key of a field's metadata that holds its Spec's details
_BOUNDS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}


def option(
    default: Any,
    help: str,
    *,
    choices: tuple | Callable[[], tuple] | None = None,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    fixed: bool = False,
    applies: tuple[Callable[[Any], bool], str] | None = None,
    path: bool = False,
):
    """A config field: its ``default``, one sentence of ``help``, the ``choices`` it takes (a
    tuple, or a function that returns one when asked), its bounds (``ge``: >=, ``gt``: >,
    ``le``: <=, ``lt``: <), whether it is ``fixed`` once a run exists (``--resume`` refuses
    to change it), and when it ``applies``: ``(predicate of the section, "what it needs")``
    (a value set where it does not apply is refused, never ignored). ``path``: a file name
    that is stored as an absolute path."""
    bounds = {k: v for k, v in (("ge", ge), ("gt", gt), ("le", le), ("lt", lt)) if v is not None}
    meta = {"help": help, "choices": choices, "bounds": bounds, "fixed": fixed,
            "applies": applies, "path": path}  # fmt: skip
    return dataclasses.field(default=default, metadata={_KEY: meta})


@dataclasses.dataclass(frozen=True)
class Spec:
    """What :func:`option` says about one field, with its type from the annotation."""

    name: str
    type: type  # int, float, str or bool
    optional: bool  # None is a value
    default: Any
    help: str
    choices: tuple | Callable[[], tuple] | None
    bounds: dict
    fixed: bool
    applies: tuple[Callable[[Any], bool], str] | None
    path: bool

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def choice_list(self) -> tuple | None:
        return self.choices() if callable(self.choices) else self.choices

    def limits(self) -> str:
        """The bounds as text: ``>= 1``, ``>= 0 and < 1``; empty if there are none."""
        return " and ".join(f"{_BOUNDS[k]} {v:g}" for k, v in self.bounds.items())

    def check(self, value, choices: tuple | None = None) -> Any:
        """``value`` if it is of this field's type, among its choices (``choices``
        overrides the field's own) and within its bounds; else one :class:`UserError`."""
        if value is None:
            if self.optional:
                return None
            raise UserError(f"{self.flag} needs a value")
        value = self._typed(value)
        allowed = choices if choices is not None else self.choice_list()
        if allowed is not None and value not in allowed:
            raise UserError(
                f"{self.flag} must be one of {', '.join(map(str, allowed))}, got {value!r}"
            )
        for kind, bound in self.bounds.items():
            ok = {"ge": value >= bound, "gt": value > bound, "le": value <= bound,
                  "lt": value < bound}[kind]  # fmt: skip
            if not ok:
                raise UserError(f"{self.flag} must be {self.limits()}, got {value}")
        return value

    def _typed(self, value):
        if self.type is bool:
            if not isinstance(value, bool):
                raise UserError(f"{self.flag} must be true or false, got {value!r}")
            return value
        if self.type in (int, float) and isinstance(value, bool):
            raise UserError(f"{self.flag} must be a number, got {value!r}")
        if self.type is int and isinstance(value, float) and value.is_integer():
            value = int(value)
        if self.type is float and isinstance(value, int):
            value = float(value)
        if not isinstance(value, self.type):
            raise UserError(f"{self.flag} must be a {self.type.__name__}, got {value!r}")
        if self.type is float and value != value:  # NaN passes no bound: say so
            raise UserError(f"{self.flag} must be a number, got nan")
        return value


@functools.cache
def specs(cls) -> tuple[Spec, ...]:
    """The :class:`Spec` of every field of the config dataclass ``cls``, in order; a field
    not made by :func:`option` is a ``TypeError`` (every field carries its help)."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        meta = f.metadata.get(_KEY)
        if meta is None:
            raise TypeError(f"{cls.__name__}.{f.name} is not made by rnnlab.config.option")
        kind, optional = _base_type(hints[f.name], f"{cls.__name__}.{f.name}")
        out.append(Spec(f.name, kind, optional, f.default, **meta))
    return tuple(out)


def _base_type(hint, where: str) -> tuple[type, bool]:
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1 and rest[0] in (int, float, str, bool):
            return rest[0], True
    elif hint in (int, float, str, bool):
        return hint, False
    raise TypeError(f"{where}: a config field is int, float, str or bool (or None), not {hint}")


def spec_of(cls, name: str) -> Spec:
    return next(s for s in specs(cls) if s.name == name)


def check_fields(section, given: set[str] | None = None, choices: dict | None = None) -> None:
    """Check every field of ``section`` against its :class:`Spec` (type, choices, bounds;
    ``choices`` overrides some fields' own), then that every field set where it does not
    apply was not set: ``given`` names the fields set by the user (default: those that
    differ from the field's default)."""
    choices = choices or {}
    for s in specs(type(section)):
        setattr(section, s.name, s.check(getattr(section, s.name), choices.get(s.name)))
    for s in specs(type(section)):
        if s.applies is None:
            continue
        rule, needs = s.applies
        was_set = s.name in given if given is not None else getattr(section, s.name) != s.default
        if was_set and not rule(section):
            raise UserError(f"{s.flag} applies only with {needs}; drop it")


def to_dict(section) -> dict:
    return {s.name: getattr(section, s.name) for s in specs(type(section))}


def from_dict(cls, values: dict, where: str = "config.json"):
    """``cls`` from a dict as :func:`to_dict` writes it; a field missing from ``values`` (a
    run saved before the field existed) takes its default; an unknown one is an error."""
    if not isinstance(values, dict):
        raise UserError(f"{where} is corrupt: a section is not an object")
    known = {s.name for s in specs(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise UserError(f"{where} has fields that rnnlab does not know: {', '.join(unknown)}")
    return cls(**values)


FORGET_GATE = ("lstm", "peephole", "cifg")  # the cells whose forget gate --forget-bias sets
WINDOWED = ("window-mlp", "conv1d", "transformer")  # models that see a window of steps


def _cells() -> tuple:
    from rnnlab.cells import CELLS, SPIKING_CELLS

    return tuple(CELLS) + tuple(SPIKING_CELLS)  # lif, alif: the tasks of rnnlab.tasks._online


def _rnn(m) -> bool:
    return m.model == "rnn"


def _esn(m) -> bool:
    return m.model == "esn"


ESN = (_esn, "--model esn")
ESN_UNITS = 10_000  # the ridge system is units^2 float64: 800 MB at this bound
ESN_FIELDS = ("units", "leak", "spectral_radius", "input_scaling", "connectivity", "ridge",
              "washout", "readout", "search")  # fmt: skip


@dataclasses.dataclass
class ModelConfig:
    """The network of a run: ``--model rnn`` (recurrent layers of ``cell`` between the
    task's input and output), one of the task's non-recurrent baselines, or ``esn``: a fixed
    random reservoir whose readout is fitted in one pass (:mod:`rnnlab.reservoir`; the
    fields from ``units`` on)."""

    model: str = option(
        "rnn", "rnn, a non-recurrent baseline that the task takes, or esn: a fixed random "
        "reservoir whose readout is fitted in one pass.", fixed=True,
    )  # fmt: skip
    cell: str = option(
        "lstm", "The recurrent cell.", choices=_cells, fixed=True, applies=(_rnn, "--model rnn")
    )
    hidden: int = option(64, "Hidden units per layer (a baseline: its width).", ge=1, fixed=True)
    layers: int = option(
        1, "Recurrent layers (transformer: blocks).", ge=1, fixed=True,
        applies=(lambda m: m.model in ("rnn", "transformer"), "--model rnn or transformer"),
    )  # fmt: skip
    dropout: float = option(
        0.0, "Dropout between recurrent layers (charlm: also before the readout, so with one "
        "layer too).", ge=0, lt=1, fixed=True,
        applies=(lambda m: m.model == "rnn" and m.layers > 1, "--model rnn and --layers >= 2"),
    )  # fmt: skip
    embed: int = option(
        32, "Size of the learned vector of each token.", ge=1, fixed=True,
        applies=(lambda m: not m.onehot, "an embedding (not --onehot)"),
    )  # fmt: skip
    window: int = option(
        8, "Steps that a window baseline sees at once.", ge=1, fixed=True,
        applies=(lambda m: m.model in WINDOWED, "a window baseline (--model window-mlp, ...)"),
    )  # fmt: skip
    forget_bias: float | None = option(
        None, "Start every forget gate at f = sigmoid(B) (none: the cell's own, f near 1/2).",
        fixed=True, applies=(lambda m: m.model == "rnn" and m.cell in FORGET_GATE,
                             "--model rnn and --cell lstm, peephole or cifg"),
    )  # fmt: skip
    onehot: bool = option(
        False, "Read each token as a one-hot vector instead of an embedding (char-rnn).",
        fixed=True, applies=(_rnn, "--model rnn"),
    )  # fmt: skip
    init: float = option(
        0.0, "Draw every weight and bias from U(-init, init) (0: the layers' own; char-rnn "
        "0.08).", ge=0, fixed=True, applies=(_rnn, "--model rnn"),
    )  # fmt: skip

    # --model esn (rnnlab.reservoir): a fixed random reservoir and a readout fitted in one pass.
    units: int = option(
        100, f"Reservoir units (at most {ESN_UNITS:,}).", ge=1, le=ESN_UNITS, fixed=True,
        applies=ESN,
    )  # fmt: skip
    leak: float = option(
        1.0, "Leak rate lr of the reservoir: x' = (1 - lr) x + lr tanh(W_in u + W x) (small: "
        "slow, long memory).", gt=0, le=1, fixed=True, applies=ESN,
    )  # fmt: skip
    spectral_radius: float = option(
        1.0, "Spectral radius of the reservoir's W (memory; above 1: towards chaos).", gt=0,
        le=100, fixed=True, applies=ESN,
    )  # fmt: skip
    input_scaling: float = option(
        1.0, "Scale of the input weights W_in (larger: more nonlinear).", gt=0, le=1e4,
        fixed=True, applies=ESN,
    )  # fmt: skip
    connectivity: float = option(
        0.1, "Fraction of non-zero entries of W.", gt=0, le=1, fixed=True, applies=ESN
    )
    ridge: float = option(
        1e-6, "Ridge (L2) penalty of the readout (0: least squares, singular if the states "
        "are collinear).", ge=0, fixed=True, applies=ESN,
    )  # fmt: skip
    washout: int = option(
        0, "Steps at the start of each sequence that a readout of every step leaves out of "
        "its fit (the reservoir forgets its zero start).", ge=0, fixed=True, applies=ESN,
    )  # fmt: skip
    readout: str = option(
        "ridge", "ridge: closed form in one pass; rls: recursive least squares, updated at "
        "every row.", choices=("ridge", "rls"), fixed=True, applies=ESN,
    )  # fmt: skip
    search: int | None = option(
        None, "Random search: N trials of spectral radius, leak, input scaling and ridge "
        "(3 seeds each); the best by validation is the run.", ge=1, le=10_000, fixed=True,
        applies=ESN,
    )  # fmt: skip

    def check(self, given: set[str] | None = None, choices: dict | None = None) -> None:
        check_fields(self, given, choices)
