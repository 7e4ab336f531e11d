"""MkDocs hook: the command-line pages (docs/cli/) generated from the click commands.

A line ``<!-- cli: NAME -->`` in a page becomes the usage, help and option tables of
``rnnlab NAME`` (``<!-- cli: spikes rate -->`` for a subcommand). The rows are the
commands' own help records, the text that ``--help`` prints, so a page cannot drift from
the command line. ``<!-- cli: train -->`` collects the options of ``rnnlab train --task X``
over every task: the options that several tasks take in one table per section with an
"applies to" column (their defaults per task where they differ), then each task's own.
``<!-- cli: tasks table -->`` is the table that ``rnnlab tasks`` prints, and
``<!-- cli: commands -->`` the list of commands with a link to each page.

Every command that ``rnnlab --help`` lists must have its page ``cli/NAME.md``: a missing
one is a warning, which fails ``mkdocs build --strict``.
"""

from __future__ import annotations

import contextlib
import logging
import re

import click

logger = logging.getLogger("mkdocs.plugins.rnnlab_cli")
MARKER = re.compile(r"^<!-- cli: ([\w -]+?) -->$", re.MULTILINE)
NOTES = re.compile(r"^(.*?)\s*\[([^\[\]]*)\]$", re.DOTALL)
COMMON = ("Run", "Training", "Learner", "Model")


class _Recorder(click.HelpFormatter):
    """A help formatter that keeps the sections and their rows instead of text."""

    def __init__(self):
        super().__init__()
        self.sections: list[tuple[str, list[tuple[str, str]]]] = []

    @contextlib.contextmanager
    def section(self, name):
        self.sections.append((name, []))
        yield

    def write_dl(self, rows, *args, **kwargs):
        self.sections[-1][1].extend(rows)


def _group() -> click.Group:
    from rnnlab.cli import group

    return group()


def _context(path: list[str], args: list[str] | None = None):
    """The command ``rnnlab PATH...`` and its context (``args`` parsed leniently)."""
    cmd = _group()
    ctx = click.Context(cmd, info_name="rnnlab")
    for name in path:
        cmd = cmd.commands[name]
        if args is not None and name == path[-1]:
            ctx = cmd.make_context(name, list(args), parent=ctx, resilient_parsing=True)
        else:
            ctx = click.Context(cmd, info_name=name, parent=ctx)
    return cmd, ctx


def help_sections(path: list[str], args: list[str] | None = None):
    """``[(section title, [(option, help)])]`` as ``rnnlab PATH... ARGS --help`` lists them."""
    cmd, ctx = _context(path, args)
    recorder = _Recorder()
    cmd.format_options(ctx, recorder)
    return recorder.sections


def split_notes(text: str) -> tuple[str, str]:
    """``"Peak rate. [default: 0.003; > 0]"`` -> ``("Peak rate.", "default: 0.003; > 0")``."""
    m = NOTES.match(text.strip())
    return (m.group(1), m.group(2)) if m else (text.strip(), "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return f"`{text}`"


def _usage(path: list[str]) -> str:
    cmd, ctx = _context(path)
    pieces = " ".join(cmd.collect_usage_pieces(ctx))
    return f"```text\n{ctx.command_path} {pieces}\n```\n"


def _help_text(cmd: click.Command) -> str:
    text = (cmd.help or "").strip()
    return re.sub(r"\n\s*\n", "\n\n", "\n".join(line.strip() for line in text.splitlines()))


def _table(rows: list[tuple[str, str]]) -> str:
    out = ["| option | what it does | default and limits |", "| --- | --- | --- |"]
    for decl, text in rows:
        main, notes = split_notes(text)
        out.append(f"| {_code(decl)} | {_cell(main)} | {_cell(notes) or '-'} |")
    return "\n".join(out) + "\n"


def command_page(path: list[str]) -> str:
    """Usage, help and one table per help section of ``rnnlab PATH...``; a group gets a
    subsection per subcommand."""
    cmd, _ = _context(path)
    parts = [_usage(path), _help_text(cmd) + "\n"]
    if hasattr(cmd, "commands"):  # a group (Typer vendors its own click)
        for name in cmd.commands:
            parts.append(f"## `rnnlab {' '.join(path)} {name}`\n")
            parts.append(command_page([*path, name]).replace("\n## ", "\n### "))
        return "\n".join(parts)
    for title, rows in help_sections(path):
        parts.append(f"**{title}**\n\n{_table(rows)}")
    return "\n".join(parts)


def _tasks():
    from rnnlab.tasks import TASKS

    return sorted(TASKS, key=lambda n: (n != "charlm", n))  # the default first


def train_options() -> dict[str, dict[str, dict[str, tuple[str, str, str]]]]:
    """``{section: {flag: {task: (option, help, notes)}}}`` over every task, each as
    ``rnnlab train --task TASK --help`` lists it; a task's own section is ``Task NAME``."""
    out: dict = {}
    for task in _tasks():
        for title, rows in help_sections(["train"], ["--task", task, "--out", "_"]):
            for decl, text in rows:
                main, notes = split_notes(text)
                flag = decl.split()[0]
                out.setdefault(title, {}).setdefault(flag, {})[task] = (decl, main, notes)
    return out


def _by_value(per_task: dict[str, tuple], index: int) -> list[tuple[str, list[str]]]:
    """The distinct values of field ``index`` with their tasks, the most common first."""
    groups: dict[str, list[str]] = {}
    for task, row in per_task.items():
        groups.setdefault(row[index], []).append(task)
    return sorted(groups.items(), key=lambda kv: -len(kv[1]))


def _varied(per_task: dict[str, tuple], index: int, code: bool = False) -> str:
    groups = _by_value(per_task, index)
    show = (lambda v: _code(v)) if code else (lambda v: _cell(v) or "-")
    if len(groups) == 1:
        return show(groups[0][0])
    first, rest = show(groups[0][0]), groups[1:]
    return "<br>".join([first] + [f"*{', '.join(tasks)}*: {show(v)}" for v, tasks in rest])


DEFAULT = re.compile(r"^default: ([^;]*)")


def _defaults(per_task: dict[str, tuple]) -> str:
    """The notes column: when the tasks differ only in the default, the most common
    notes and then ``*tasks*: VALUE`` lines with just the default; else whole notes."""
    groups = _by_value(per_task, 2)
    if len(groups) == 1 or not all(DEFAULT.match(v) for v, _ in groups):
        return _varied(per_task, 2)
    if len({DEFAULT.sub("", v) for v, _ in groups}) > 1:  # bounds differ too
        return _varied(per_task, 2)
    lines = [_cell(groups[0][0])]
    lines += [f"*{', '.join(t)}*: {_cell(DEFAULT.match(v).group(1))}" for v, t in groups[1:]]
    return "<br>".join(lines)


def _applies(tasks: list[str], every: list[str]) -> str:
    if len(tasks) == len(every):
        return "every task"
    missing = [t for t in every if t not in tasks]
    if len(missing) < len(tasks):
        return "every task but " + ", ".join(missing)
    return ", ".join(tasks)


def train_page() -> str:
    """The options of ``rnnlab train`` over every task (see the module's docstring)."""
    every, options = _tasks(), train_options()
    parts = [_usage(["train"]), _help_text(_group().commands["train"]) + "\n"]
    parts.append(
        "The tables below are the rows of `rnnlab train --task TASK --help` over every "
        "task. Where tasks differ, the first line is the most common value and the next "
        "lines name the tasks that differ (in the last column, with their own default).\n"
    )
    for title in COMMON:
        out = [
            f"## {title} options\n",
            "| option | what it does | default and limits | applies to |",
            "| --- | --- | --- | --- |",
        ]
        for per_task in options.get(title, {}).values():
            out.append(
                f"| {_varied(per_task, 0, code=True)} | {_varied(per_task, 1)} | "
                f"{_defaults(per_task)} | {_applies(list(per_task), every)} |"
            )
        parts.append("\n".join(out) + "\n")
    parts.append("## Each task's own options\n")
    for task in every:
        rows = options.get(f"Task {task}", {})
        if not rows:
            parts.append(f"### {task}\n\nNone beyond the tables above.\n")
            continue
        own = [(decl, f"{main} [{notes}]" if notes else main) for per in rows.values()
               for decl, main, notes in [per[task]]]  # fmt: skip
        parts.append(f"### {task}\n\n" + _table(own))
    return "\n".join(parts)


def tasks_table() -> str:
    """The table that ``rnnlab tasks`` prints, from the same task attributes."""
    from rnnlab.tasks import TASKS

    head = ["task", "pattern", "data (source, size)", "metric", "baseline", "--model", "defaults"]
    out = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for name in _tasks():
        t = TASKS[name]
        defaults = ", ".join(f"{k} {v}" for k, v in t.defaults.items()) or "-"
        cells = [_code(t.name), t.pattern, t.source, t.metric, t.baseline, ", ".join(t.models),
                 defaults]  # fmt: skip
        out.append("| " + " | ".join(_cell(str(c)) for c in cells) + " |")
    return "\n".join(out) + "\n"


def commands_list() -> str:
    out = []
    for name, cmd in _group().commands.items():
        short = cmd.get_short_help_str(limit=200)
        out.append(f"- [`rnnlab {name}`]({name}.md): {short}")
    return "\n".join(out) + "\n"


def render(name: str) -> str:
    if name == "train":
        return train_page()
    if name == "tasks table":
        return tasks_table()
    if name == "commands":
        return commands_list()
    return command_page(name.split())


def on_page_markdown(markdown, page, config, files):
    def include(m):
        try:
            return render(m.group(1).strip())
        except KeyError:
            logger.warning("%s: rnnlab has no command %r", page.file.src_uri, m.group(1))
            return ""

    return MARKER.sub(include, markdown)


def on_files(files, config):
    for name in _group().commands:
        if files.get_file_from_path(f"cli/{name}.md") is None:
            logger.warning("rnnlab %s has no page docs/cli/%s.md", name, name)
    return files
