"""The command-line pages of the docs (docs/_hooks/cli_pages.py) list what ``--help``
prints: every option of ``rnnlab train --task X --help`` for every task, with X's own
option form and default, and every option of the other commands. Read from the help
text itself, not from the structures the hook reads, and without building the site."""

import importlib.util
import pathlib
import re

import click
import pytest
from click.testing import CliRunner

from rnnlab.cli import group
from rnnlab.tasks import TASKS

ROOT = pathlib.Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("cli_pages", ROOT / "docs/_hooks/cli_pages.py")
cli_pages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cli_pages)


def _help(args: list[str]) -> str:
    result = CliRunner().invoke(group(), [*args, "--help"], terminal_width=100)
    # train is a click command inside Typer's group (its own vendored click), whose
    # standalone main does not catch click's Exit: --help then ends as Exit(0)
    done = isinstance(result.exception, click.exceptions.Exit) and not result.exception.exit_code
    assert result.exit_code == 0 or done, result.output
    return result.output


def click_entries(text: str) -> dict[str, tuple[str, str]]:
    """``{flag: (option as shown, notes in the last [...])}`` from click's help text:
    an entry starts at two spaces and ``--``, its help goes on at a deeper indent."""
    entries, current = {}, None
    for line in text.splitlines():
        m = re.match(r"^  (--\S.*)$", line)
        if m:
            decl, _, rest = m.group(1).partition("  ")
            current = [decl.strip(), rest.strip()]
            entries[decl.split()[0]] = current
        elif current is not None and line.startswith("    "):
            current[1] = (current[1] + " " + line.strip()).strip()
        else:
            current = None
    out = {}
    for flag, (decl, text) in entries.items():
        notes = re.search(r"\[([^\[\]]*)\]$", text)
        out[flag] = (decl, notes.group(1) if notes else "")
    return out


def _cells(line: str) -> list[str]:
    """A table row's cells: split at ``|`` outside code spans and not escaped."""
    cells, cell, code, prev = [], "", False, ""
    for ch in line.strip()[1:]:
        if ch == "`":
            code = not code
        if ch == "|" and not code and prev != "\\":
            cells.append(cell.strip())
            cell = ""
        else:
            cell += ch
        prev = ch
    return cells


def _rows(markdown: str) -> dict[str, list[tuple[str, list[str]]]]:
    """``{heading: [(flag, cells)]}`` for the tables of a generated page."""
    tables, heading = {}, ""
    for line in markdown.splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        m = re.match(r"^\| `(--[\w-]+)", line)
        if m:
            cells = _cells(line)
            tables.setdefault(heading, []).append((m.group(1), cells))
    return tables


def value_for(cell: str, task: str) -> str:
    """A varied cell: the first line holds for every task not named on a later line."""
    lines = cell.split("<br>")
    for line in lines[1:]:
        m = re.match(r"^\*([^*]+)\*: (.*)$", line)
        assert m, line
        if task in m.group(1).split(", "):
            return m.group(2)
    return lines[0]


def notes_for(cell: str, task: str) -> str:
    """The notes column: a later line holds the task's whole notes, or only its default
    (then the first line's notes with that default)."""
    value, first = value_for(cell, task), cell.split("<br>")[0]
    if value == first or value.startswith("default:"):
        return value
    return re.sub(r"^default: [^;]*", lambda m: f"default: {value}", first)


def applies(cell: str, task: str) -> bool:
    if cell == "every task":
        return True
    if cell.startswith("every task but "):
        return task not in cell.removeprefix("every task but ").split(", ")
    return task in cell.split(", ")


@pytest.fixture(scope="module")
def train_page():
    return _rows(cli_pages.render("train"))


@pytest.mark.parametrize("task", sorted(TASKS))
def test_train_page_lists_every_option_of_the_task(task, train_page):
    shown = click_entries(_help(["train", "--task", task]))
    assert {"--out", "--task", "--steps", "--lr", "--help"} <= set(shown)
    listed = {}
    for heading, rows in train_page.items():
        for flag, cells in rows:
            if heading == task:  # the task's own table: option, help, notes
                listed[flag] = (cells[0], cells[2])
            elif heading.endswith(" options") and applies(cells[3], task):
                listed[flag] = (value_for(cells[0], task), notes_for(cells[2], task))
    assert set(listed) == set(shown), (task, set(listed) ^ set(shown))
    for flag, (decl, notes) in shown.items():
        assert listed[flag][0] == f"`{decl}`", (task, flag)
        assert listed[flag][1].replace("\\|", "|") == (notes or "-"), (task, flag)


def test_train_page_shows_a_default_that_differs_by_task(train_page):
    # the char model trains 2000 steps by default, the others fewer or more: each named
    steps = dict(train_page["Training options"])["--steps"]
    for task in TASKS:
        assert f"default: {TASKS[task].config().values()['steps']};" in notes_for(steps[2], task)


def _flags(text: str) -> set[str]:
    """Options in a help text, click's or Typer's boxed one (``│ --port  <int> ...``)."""
    return set(re.findall(r"^[\s│]*(--[a-z][\w-]*)", text, re.MULTILINE))


def test_every_command_has_a_page_with_its_options():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    top = group()
    assert {"train", "eval", "sample", "inspect", "tasks", "playground", "spikes"} <= set(
        top.commands
    )
    for name, cmd in top.commands.items():
        assert (ROOT / "docs/cli" / f"{name}.md").is_file(), name
        assert f"cli/{name}.md" in nav, name
        if name == "train":
            continue
        subs = [[name, s] for s in getattr(cmd, "commands", {})] or [[name]]
        page = cli_pages.render(name)
        for path in subs:
            flags = _flags(_help(path))
            assert flags, path
            rows = {f for rows in _rows(page).values() for f, _ in rows}
            assert flags <= rows, (path, flags - rows)
