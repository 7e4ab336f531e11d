"""The Text page's runs: trained char models under ``--runs``, chosen by name only.

The client never sends a path. A run is a name from :func:`list_runs`; :func:`resolve`
refuses anything that is not a plain directory name directly under the runs folder
(``..``, separators, absolute paths) and any name whose real path leaves the folder
through a symlink. A model is loaded once and kept (a few, least recently used first
out), keyed by its checkpoint's modification time so that a retrained run is reloaded.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from pathlib import Path

from rnnlab.playground.limits import Invalid, choice, number

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
INSPECT = "inspect.html"


class NotFound(LookupError):
    """No such run (HTTP 404)."""


def resolve(root: Path, name) -> Path:
    """The directory of run ``name`` under ``root``, refusing every way out of it."""
    if not isinstance(name, str) or not NAME.fullmatch(name) or ".." in name:
        raise Invalid(f"run must be a name from the list of runs, got {name!r}")
    root = root.resolve()
    path = root / name
    if not path.is_dir():
        raise NotFound(f"no run named {name!r} under the runs folder")
    real = path.resolve()
    if real.parent != root:
        raise Invalid(f"run {name!r} points outside the runs folder; it is not served")
    return real


def _char_config(run: Path) -> dict | None:
    """The run's config if it is a char-model run with a best checkpoint."""
    try:
        config = json.loads((run / "config.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(config, dict) or config.get("task", "charlm") != "charlm":
        return None
    if "vocab" not in config or not (run / "best.eqx").is_file():
        return None
    return config


def list_runs(root: Path) -> list[dict]:
    """Char-model runs directly under ``root``, by name, with their model settings."""
    if not root.is_dir():
        return []
    out = []
    for path in sorted(root.iterdir()):
        try:
            run = resolve(root, path.name)
        except (Invalid, NotFound):
            continue
        config = _char_config(run)
        if config is None:
            continue
        model = config.get("model", {})
        out.append(
            {
                "name": path.name,
                "cell": model.get("cell"),
                "hidden": model.get("hidden"),
                "layers": model.get("layers"),
                "corpus": config.get("train", {}).get("corpus"),
                "inspect": _inside(run, INSPECT),
            }
        )
    return out


def _inside(run: Path, filename: str) -> bool:
    path = run / filename
    return path.is_file() and path.resolve().parent == run


def inspect_page(root: Path, name) -> Path:
    """The run's ``rnnlab inspect`` page, if it has one inside its directory."""
    run = resolve(root, name)
    if not _inside(run, INSPECT):
        raise NotFound(f"run {name!r} has no {INSPECT}; make it with `rnnlab inspect`")
    return run / INSPECT


_lock = threading.Lock()


@functools.lru_cache(maxsize=4)
def _load(run: Path, mtime: float):
    from rnnlab.charlm.checkpoint import load_run

    _, model, vocab = load_run(run)
    return model, vocab


def sample(root: Path, body: dict) -> dict:
    """Text from a run's best model, with a temperature and a prime."""
    import jax

    from rnnlab.charlm.sample import sample as draw
    from rnnlab.errors import UserError

    run = resolve(root, body.get("run"))
    if _char_config(run) is None:
        raise Invalid(f"run {body.get('run')!r} is not a trained char-model run")
    temperature = number(body, "temperature", 0.8, 0.0, 3.0)
    length = number(body, "length", 300, 1, 2000, integer=True)
    seed = number(body, "seed", 0, 0, 2**31 - 1, integer=True)
    prime = body.get("prime", "")
    if not isinstance(prime, str) or len(prime) > 500:
        raise Invalid("prime must be a text of at most 500 characters")
    which = choice(body, "checkpoint", "best", ("best",))
    with _lock:  # one load at a time; sampling itself may overlap
        model, vocab = _load(run, (run / f"{which}.eqx").stat().st_mtime)
    try:
        chars = draw(
            model,
            vocab,
            length=length,
            key=jax.random.key(seed),
            temperature=temperature,
            prime=prime,
        )
        text = "".join(chars)
    except UserError as err:  # a prime character the model has never seen
        raise Invalid(str(err)) from None
    return {"run": run.name, "prime": prime, "text": text, "temperature": temperature}
