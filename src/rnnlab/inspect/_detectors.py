"""Detectors: per-character signals computed from the text alone, for the cell finder.

Each detector maps a text of T characters to a float array (T,), its value *after*
reading character t (the state a recurrent unit could hold at that step). The set
follows the cells that Karpathy, Johnson & Fei-Fei (2015, "Visualizing and
Understanding Recurrent Networks", Fig. 2) found in character models: inside a
quotation, position in the line, inside an ``if`` statement, indentation, bracket
depth; plus the start of a word and the approaching end of a line.
"""

from __future__ import annotations

import re

import numpy as np

OPEN_QUOTES = {"\u201c": "\u201d"}  # curly double quotes, as War and Peace prints them
BRACKETS = {"(": ")", "[": "]", "{": "}"}


def quote(text: str) -> np.ndarray:
    """1 inside a double quotation, the opening quote included and the closing one not;
    straight quotes toggle, curly ones open and close; quotations cross lines."""
    out = np.zeros(len(text), np.float32)
    inside, closer = False, '"'
    for t, ch in enumerate(text):
        if inside and ch == closer:
            inside = False
        elif not inside and (ch == '"' or ch in OPEN_QUOTES):
            inside, closer = True, OPEN_QUOTES.get(ch, '"')
        out[t] = inside
    return out


def string(text: str) -> np.ndarray:
    """1 inside a Python string literal (``'``, ``"`` or triple-quoted), its opening
    delimiter included and its closing one not. A ``#`` outside strings starts a comment
    (no strings there); a backslash escapes the next character; a single-quoted string
    that reaches the end of the line ends there (the code was broken)."""
    out = np.zeros(len(text), np.float32)
    delim, t, n = None, 0, len(text)
    while t < n:
        ch = text[t]
        if delim is None:
            if ch == "#":
                while t < n and text[t] != "\n":
                    t += 1
                continue
            if ch in "'\"":
                delim = ch * 3 if text.startswith(ch * 3, t) else ch
                out[t : t + len(delim)] = 1
                t += len(delim)
                continue
        else:
            if ch == "\\":
                out[t : t + 2] = 1
                t += 2
                continue
            if text.startswith(delim, t):
                t, delim = t + len(delim), None
                continue
            if ch == "\n" and len(delim) == 1:
                delim = None
            else:
                out[t] = 1
        t += 1
    return out


def line_position(text: str) -> np.ndarray:
    """The column of each character: 0 for the first character of a line (a newline ends
    its line, so it has the line's length as its column)."""
    out = np.zeros(len(text), np.float32)
    col = 0
    for t, ch in enumerate(text):
        out[t] = col
        col = 0 if ch == "\n" else col + 1
    return out


def line_end(text: str) -> np.ndarray:
    """Characters left before the next newline (0 on the newline itself): the countdown
    that a unit predicting the end of a line would hold. The last line counts to the
    end of the text."""
    out = np.zeros(len(text), np.float32)
    left = 0
    for t in range(len(text) - 1, -1, -1):
        left = 0 if text[t] == "\n" else left + 1
        out[t] = left
    return out


def indent(text: str) -> np.ndarray:
    """The indentation of the current line, in spaces (a tab counts 4), for every
    character of the line; a blank line keeps the depth of the line before."""
    out = np.zeros(len(text), np.float32)
    depth = 0
    for start, line in _lines(text):
        body = line.rstrip("\n")
        if body.strip():
            lead = body[: len(body) - len(body.lstrip(" \t"))]
            depth = lead.count(" ") + 4 * lead.count("\t")
        out[start : start + len(line)] = depth
    return out


def brackets(text: str) -> np.ndarray:
    """The nesting depth of ``( [ {`` after each character (an opening bracket counts
    itself, a closing one does not); unmatched closers are ignored."""
    out = np.zeros(len(text), np.float32)
    depth = 0
    for t, ch in enumerate(text):
        if ch in BRACKETS:
            depth += 1
        elif ch in BRACKETS.values() and depth > 0:
            depth -= 1
        out[t] = depth
    return out


_IF = re.compile(r"[ \t]*(if|elif|else)\b")


def if_block(text: str) -> np.ndarray:
    """1 inside a Python ``if`` statement: its header (``if``/``elif``/``else`` to the
    end of the line) and every following line indented deeper than the header (blank
    lines inside the block included)."""
    out = np.zeros(len(text), np.float32)
    header = None  # indentation of the innermost open `if` header
    for start, line in _lines(text):
        body = line.rstrip("\n")
        depth = len(body) - len(body.lstrip(" \t"))
        blank = not body.strip()
        if header is not None and not blank and depth <= header:
            header = None  # dedented out of the block
        match = _IF.match(body)
        if match:
            if header is None or depth <= header:
                header = depth
            at = start + match.start(1)
            out[at : start + len(line)] = 1
        elif header is not None:
            out[start : start + len(line)] = 1
    return out


def word_start(text: str) -> np.ndarray:
    """1 on the first letter of a word (a letter after a non-letter)."""
    out = np.zeros(len(text), np.float32)
    prev = False
    for t, ch in enumerate(text):
        letter = ch.isalpha()
        out[t] = letter and not prev
        prev = letter
    return out


def _lines(text: str):
    """``(start index, line with its newline)`` for every line of ``text``."""
    start = 0
    for line in re.findall(r"[^\n]*\n|[^\n]+\Z", text):  # split at "\n" only
        yield start, line
        start += len(line)


DETECTORS = {
    "quote": quote,
    "string": string,
    "line_position": line_position,
    "line_end": line_end,
    "indent": indent,
    "brackets": brackets,
    "if_block": if_block,
    "word_start": word_start,
}


def detect(text: str, names=None) -> dict[str, np.ndarray]:
    """Every detector (or those in ``names``) over ``text``: ``{name: (T,) float32}``.

    >>> detect('say "hi"\\n', ["quote"])["quote"].tolist()
    [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    """
    return {name: DETECTORS[name](text) for name in (names or DETECTORS)}
