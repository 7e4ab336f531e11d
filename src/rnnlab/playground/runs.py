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


class Broken(Invalid):
    """A run that cannot be used: its config or checkpoint is corrupt (HTTP 422)."""


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
    """The run's config if it is a char-model run with a best checkpoint.

    A run that claims to be one but cannot be used is :class:`Broken` (its one line
    is listed and answered instead of the model).
    """
    try:
        config = json.loads((run / "config.json").read_text())
    except OSError:
        return None
    except ValueError:
        raise Broken("its config.json is not JSON") from None
    if not isinstance(config, dict):
        raise Broken("its config.json is not a JSON object")
    if config.get("task", "charlm") != "charlm":
        return None
    data = config.get("data", config)
    if not isinstance(data, dict) or "vocab" not in data:
        return None
    if not (run / "best.eqx").is_file():
        return None
    model = config.get("model")
    if not isinstance(model, dict) or not _model_ok(model):
        raise Broken("its config.json has no valid model (cell, hidden, layers)")
    return config


def _model_ok(model: dict) -> bool:
    def whole(v):
        return isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 1 << 20

    cell = model.get("cell")
    ok_cell = isinstance(cell, str) and NAME.fullmatch(cell) is not None
    return ok_cell and whole(model.get("hidden")) and whole(model.get("layers", 1))


def list_runs(root: Path) -> list[dict]:
    """Char-model runs directly under ``root``, by name, with their model settings.

    A broken run is listed with ``broken`` (why) and nothing else, so the page can say so.
    """
    if not root.is_dir():
        return []
    out = []
    for path in sorted(root.iterdir()):
        try:
            run = resolve(root, path.name)
            config = _char_config(run)
        except Broken as err:
            out.append({"name": path.name, "broken": str(err), "inspect": False})
            continue
        except (Invalid, NotFound):
            continue
        if config is None:
            continue
        model = config["model"]
        options = config.get("options", config.get("train", {}))
        out.append(
            {
                "name": path.name,
                "cell": model.get("cell"),
                "hidden": model.get("hidden"),
                "layers": model.get("layers", 1),
                "corpus": options.get("corpus") if isinstance(options, dict) else None,
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
    from rnnlab.tasks import load_run
    from rnnlab.tasks.charlm import vocab_of

    loaded = load_run(run)
    return loaded.model, vocab_of(loaded)


def sample(root: Path, body: dict) -> dict:
    """Text from a run's best model, with a temperature and a prime."""
    import jax

    from rnnlab.charlm.sample import sample as draw
    from rnnlab.errors import UserError

    run = resolve(root, body.get("run"))
    try:
        config = _char_config(run)
    except Broken as err:
        raise Broken(f"run {run.name!r} cannot be used: {err}") from None
    if config is None:
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
