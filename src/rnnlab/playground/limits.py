"""What the playground accepts from a page: every number bounded, every name from a list.

The server is local, but any site the browser visits can send it requests (see
:mod:`rnnlab.playground.security`), so a request must not be able to make it train a
huge model, fill the memory or run forever. A value out of bounds is an
:class:`Invalid` (HTTP 422) whose one line names the field and the allowed range.
Nothing the client sends is ever evaluated: numbers are parsed as numbers, names are
looked up in fixed tuples, CSV text is parsed by :mod:`csv` into floats.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re

import numpy as np

MAX_BODY = 1 << 20  # bytes of a request body (413 beyond)
MAX_HIDDEN = 256  # units per layer
MAX_LAYERS = 3
MAX_T = 500  # steps of a sequence
MAX_STEPS = 20_000  # training steps
MAX_ROWS = 10_000  # rows of an uploaded CSV
MAX_COLUMNS = 32  # its columns: each is an input of the model, so they bound its size too
MAX_DEPTH = 32  # nesting of a JSON body (the pages send depth 2)
MAX_DIGITS = 32  # of one JSON number; parsed only after this check
MAX_TRAININGS = 2  # at once (429 beyond)
TIME_BOX = 600.0  # seconds a training may run

LIMITS = {
    "body_bytes": MAX_BODY,
    "hidden": MAX_HIDDEN,
    "layers": MAX_LAYERS,
    "T": MAX_T,
    "steps": MAX_STEPS,
    "csv_rows": MAX_ROWS,
    "csv_columns": MAX_COLUMNS,
    "trainings": MAX_TRAININGS,
    "time_box_s": TIME_BOX,
}


class Invalid(ValueError):
    """A request the playground refuses (HTTP 422); the message is shown on the page."""


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')  # a JSON string, escapes included
_BRACKET = re.compile(rb"[\[\]{}]")


def load_json(raw: bytes) -> dict:
    """A request body -> a JSON object, its depth and its numbers bounded before parsing.

    Python's parser recurses once per nesting level and turns any run of digits into an
    int, so a deep body or a 400-digit number would fail deep inside it; both are
    measured first (strings blanked, brackets counted) and refused with one line.
    """
    raw = raw or b"{}"
    depth = deepest = 0
    for bracket in _BRACKET.findall(_STRING.sub(b'""', raw)):
        depth += 1 if bracket in b"[{" else -1
        deepest = max(deepest, depth)
    if deepest > MAX_DEPTH:
        raise Invalid(f"the request body is nested {deepest} deep; at most {MAX_DEPTH}")
    try:
        body = json.loads(raw, parse_int=_int, parse_float=_float)
    except Invalid:
        raise
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Invalid("the request body must be JSON") from None
    if not isinstance(body, dict):
        raise Invalid("the request body must be a JSON object")
    return body


def _int(text: str) -> int:
    if len(text) > MAX_DIGITS:
        raise Invalid(f"a number in the request has {len(text)} digits; at most {MAX_DIGITS}")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_DIGITS:
        raise Invalid(f"a number in the request has {len(text)} digits; at most {MAX_DIGITS}")
    return float(text)


def number(body: dict, name: str, default, lo: float, hi: float, *, integer=False):
    """``body[name]`` (or ``default``) as an int or float in [lo, hi]."""
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Invalid(f"{name} must be a number, got {_show(value)}")
    try:
        value = float(value)
    except ValueError:
        raise Invalid(f"{name} must be a number, got {_show(value)}") from None
    if not math.isfinite(value) or not lo <= value <= hi:
        raise Invalid(f"{name} must be between {lo:g} and {hi:g}, got {value:g}")
    if integer:
        if value != int(value):
            raise Invalid(f"{name} must be a whole number, got {value:g}")
        return int(value)
    return value


def choice(body: dict, name: str, default: str, options) -> str:
    """``body[name]`` (or ``default``), which must be one of ``options``."""
    value = body.get(name, default)
    if value not in tuple(options):
        raise Invalid(f"{name} must be one of {', '.join(options)}, got {_show(value)}")
    return value


def _show(value) -> str:
    """``repr(value)``, cut to one short line."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_csv(text, *, min_columns: int = 1) -> np.ndarray:
    """Numeric CSV text -> float64 array (rows, columns); one header line is skipped."""
    if not isinstance(text, str) or not text.strip():
        raise Invalid("csv must be the text of a CSV file with numeric columns")
    try:
        rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    except csv.Error as err:
        raise Invalid(f"csv cannot be read: {err}") from None  # e.g. a cell over 128 KB
    if rows and not _numeric(rows[0]):
        rows = rows[1:]  # a header
    if len(rows) > MAX_ROWS:
        raise Invalid(f"csv has {len(rows)} rows; at most {MAX_ROWS} are allowed")
    if not rows:
        raise Invalid("csv has no rows of numbers")
    width = len(rows[0])
    if width > MAX_COLUMNS:
        raise Invalid(f"csv has {width} columns; at most {MAX_COLUMNS} are allowed")
    if width < min_columns or any(len(r) != width for r in rows):
        raise Invalid(f"csv rows must all have the same number (>= {min_columns}) of columns")
    for i, r in enumerate(rows):
        if not _numeric(r):
            raise Invalid(f"csv row {i + 1} is not all numbers: {','.join(r)[:60]!r}")
    return np.asarray([[float(c) for c in r] for r in rows], np.float64)


def finite(v) -> float | None:
    """``v`` as a float for a JSON answer, or None (``null``) where it is NaN or infinite."""
    v = float(v)
    return v if math.isfinite(v) else None


def _numeric(row) -> bool:
    try:
        return all(math.isfinite(float(c)) for c in row)
    except ValueError:
        return False
