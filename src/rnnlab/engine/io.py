"""Files of a run directory: one ``atomic_write`` for the whole package, checkpoints, a lock.

Every file that rnnlab writes goes through :func:`atomic_write` (run directories,
figures, rate CSVs, the corpus cache, the playground's models, inspect pages): the bytes
land in a temporary file beside the target, which is then renamed over it. A crash, a
Ctrl-C or a full disk in the middle of a write leaves the previous file as it was, and
the new file gets the mode that ``open()`` would give it (0666 less the umask).
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from pathlib import Path

import equinox as eqx

from rnnlab.errors import UserError

CONFIG, BEST, LAST, PROGRESS, METRICS, CURVE, LOCK = (
    "config.json",
    "best.eqx",
    "last.eqx",
    "progress.json",
    "metrics.jsonl",
    "loss.png",
    ".lock",
)


def atomic_write(path, write) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it over ``path``.

    A failure mid-write (an exception, Ctrl-C, a full disk) removes the temporary file
    and leaves the old ``path`` intact; an ``OSError`` becomes a one-line
    :class:`UserError` that says so.
    """
    path = Path(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        # mkstemp makes the file private (0600); give it the mode open() would (0666 less
        # the umask), so that a run's pages and checkpoints are readable like any file.
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(err, OSError):
            reason = os.strerror(err.errno) if err.errno else str(err)
            kept = "the previous version is intact" if path.exists() else "nothing was written"
            raise UserError(f"could not write {path} ({reason}); {kept}") from None
        raise


def _umask() -> int:
    mask = os.umask(0)  # the only portable way to read it: set, then restore at once
    os.umask(mask)
    return mask


def write_text(path, text: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def write_json(path, obj) -> None:
    write_text(path, json.dumps(obj, indent=2, ensure_ascii=False))


def write_png(path, fig, dpi: float | None = None) -> None:
    """A matplotlib figure as PNG (at ``dpi``, default the figure's own), atomically."""
    extra = {} if dpi is None else {"dpi": dpi}
    atomic_write(path, lambda f: fig.savefig(f, format="png", **extra))


def save_tree(path, tree) -> None:
    """Equinox serialisation (no pickle) of a pytree of host arrays, atomically."""
    atomic_write(path, lambda f: eqx.tree_serialise_leaves(f, tree))


def load_tree(path, like):
    """Read a pytree shaped like ``like``; a missing, corrupt or mismatched file is a
    :class:`UserError`."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"checkpoint {path} is missing; train first (rnnlab train --out ...)")
    try:
        with open(path, "rb") as f:
            return eqx.tree_deserialise_leaves(f, like)
    except Exception as err:  # equinox raises several types for a bad file
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(
            f"checkpoint {path} is corrupt or does not match config.json ({first})"
        ) from None


def read_json(path, what: str) -> dict:
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise UserError(f"{path} is missing or corrupt ({what}: {err})") from None


class RunLock:
    """An exclusive lock on a run directory, held while a training writes to it.

    ``flock`` on ``run_dir/.lock``: the kernel drops it when the process ends, however
    it ends, so a killed training never leaves the directory stuck.
    """

    def __init__(self, run_dir):
        self.path = Path(run_dir) / LOCK
        self._fd = None

    def __enter__(self):
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno in (errno.EAGAIN, errno.EACCES):
                holder = _read_pid(self.path)
                raise UserError(
                    f"{self.path.parent} is in use by another training{holder}; "
                    "wait for it to finish or train into another --out"
                ) from None
            raise
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(self, *exc):
        import fcntl

        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _read_pid(path: Path) -> str:
    try:
        pid = path.read_text().strip()
        return f" (process {pid})" if pid else ""
    except OSError:
        return ""
