"""A code corpus that every machine has: the Python standard library's own sources.

The ``*.py`` files under ``sysconfig.get_paths()["stdlib"]`` are read in sorted path
order and concatenated, each preceded by a separator comment line naming it::

    # ==== asyncio/base_events.py ====

Left out: ``site-packages`` and ``dist-packages`` (installed third-party code, which
differs between machines), test suites (folders named ``test``, ``tests`` and
``idle_test``), ``__pycache__``, and files that are not valid UTF-8. Whole files are
added until the next one would pass :data:`PYTHON_MAX_CHARS` characters, which keeps
the corpus near the size of the Shakespeare one (about 5 M characters; the full
standard library is several times larger). The result depends on the Python
version, which is why the cache key carries it.

>>> "# ==== " in SEPARATOR.format(path="abc.py")
True
"""

from __future__ import annotations

import os
import platform
import sysconfig
from pathlib import Path

PYTHON_MAX_CHARS = 5_000_000
SEPARATOR = "# ==== {path} ====\n"
_SKIPPED_DIRS = frozenset({"site-packages", "dist-packages", "test", "tests", "idle_test"})


def stdlib_dir() -> Path:
    """The folder of this interpreter's standard library."""
    return Path(sysconfig.get_paths()["stdlib"])


def python_version() -> str:
    """The interpreter version, part of the cache key (another version, other files)."""
    return platform.python_version()


def source_paths(root: Path) -> list[str]:
    """Relative POSIX paths of the eligible ``*.py`` files, sorted."""
    found = []
    for folder, dirs, files in os.walk(root):
        # Prune in place so os.walk never descends into skipped trees.
        dirs[:] = [d for d in dirs if d not in _SKIPPED_DIRS and not d.startswith("__pycache__")]
        rel = Path(folder).relative_to(root)
        found.extend((rel / name).as_posix() for name in files if name.endswith(".py"))
    return sorted(found)


def build_python(max_chars: int = PYTHON_MAX_CHARS) -> tuple[str, str]:
    """Build the code corpus; return ``(text, source)``."""
    root = stdlib_dir()
    parts: list[str] = []
    total = 0
    for rel in source_paths(root):
        try:
            body = (root / rel).read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        part = SEPARATOR.format(path=rel) + body
        if not part.endswith("\n"):
            part += "\n"
        if total + len(part) > max_chars:
            break
        parts.append(part)
        total += len(part)
    source = (
        f"{len(parts)} standard-library files of Python {python_version()} ({root}), "
        f"sorted by path, at most {max_chars} characters"
    )
    return "".join(parts), source
