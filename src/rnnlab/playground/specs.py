"""A training request from a page, checked against the limits and normalised.

The server validates here (422 on a bad value) and hands the normalised dict to a worker
process, which trusts it. CSV text is parsed here too, so a worker receives numbers only.
"""

from __future__ import annotations

from rnnlab.cells import CELLS, make_cell
from rnnlab.engine.config import LEARNERS
from rnnlab.playground.limits import (
    MAX_HIDDEN,
    MAX_LAYERS,
    MAX_STEPS,
    MAX_T,
    Invalid,
    choice,
    number,
    parse_csv,
)
from rnnlab.playground.series import TASKS

SPIKING = ("lif", "alif")  # rnnlab.cells.spiking's LIFCell and ALIFCell: their z is a raster
CELL_NAMES = tuple(CELLS) + SPIKING  # every cell of the library, by the names make_cell takes


def cell_of(name: str):
    """What :class:`rnnlab.RNN` builds a layer from: a name of ``make_cell``, or the class of a
    spiking cell (``lif``, ``alif``)."""
    if name in SPIKING:
        from rnnlab.cells.spiking import ALIFCell, LIFCell

        return LIFCell if name == "lif" else ALIFCell
    return name


RNN_OPTIMIZERS = ("adam", "rmsprop", "sgd", "momentum")
DATASETS = ("xor", "circles", "spirals", "blobs", "csv")
ACTIVATIONS = ("tanh", "sigmoid", "relu", "threshold")
MLP_OPTIMIZERS = ("sgd", "momentum", "adam")
MAX_POINTS = 2000  # points of a generated 2-D data set


def _common(body: dict) -> dict:
    return {
        "steps": number(body, "steps", 300, 1, MAX_STEPS, integer=True),
        "seed": number(body, "seed", 0, 0, 2**31 - 1, integer=True),
        "lr": number(body, "lr", 0.01, 1e-6, 10.0),
    }


def recurrent(body: dict) -> dict:
    """The Recurrent page's request: task, cell, sizes, truncation, optimizer."""
    spec = {
        "kind": "recurrent",
        "task": choice(body, "task", "hello", TASKS),
        "cell": choice(body, "cell", "lstm", CELL_NAMES),
        "hidden": number(body, "hidden", 16, 1, MAX_HIDDEN, integer=True),
        "layers": number(body, "layers", 1, 1, MAX_LAYERS, integer=True),
        "T": number(body, "T", 20, 2, MAX_T, integer=True),
        "lag": number(body, "lag", 3, 1, MAX_T - 1, integer=True),
        # 0: full back-propagation through time; k: gradients within chunks of k steps
        "truncate": number(body, "truncate", 0, 0, MAX_T, integer=True),
        "optimizer": choice(body, "optimizer", "adam", RNN_OPTIMIZERS),
        "batch": number(body, "batch", 16, 1, 64, integer=True),
        "clip": number(body, "clip", 0, 0, 100),
        # bptt (the truncation above), or an online learner of rnnlab.learn (one layer)
        "learner": choice(body, "learner", "bptt", LEARNERS),
        "update_every": number(body, "update_every", 1, 1, MAX_T, integer=True),
        **_common(body),
    }
    _learner_applies(spec)
    if spec["task"] == "echo" and spec["lag"] >= spec["T"]:
        raise Invalid(f"lag must be below T = {spec['T']}, got {spec['lag']}")
    if spec["task"] == "recall" and spec["lag"] + 2 > MAX_T:  # cue, lag distractors, query
        raise Invalid(f"lag must be at most {MAX_T - 2} for recall, got {spec['lag']}")
    if spec["task"] == "csv":
        table = parse_csv(body.get("csv"))
        spec["table"] = table.tolist()
    return spec


def _learner_applies(spec: dict) -> None:
    """An online learner trains one layer, untruncated, of a cell it applies to."""
    learner = spec["learner"]
    if learner == "bptt":
        return
    if spec["layers"] != 1:
        raise Invalid(f"the {learner} learner trains one layer, not {spec['layers']}")
    if spec["truncate"]:
        raise Invalid(f"truncation is BPTT's; the {learner} learner has none (set it to 0)")
    import jax

    from rnnlab.errors import UserError
    from rnnlab.learn import Network, make_learner

    key = jax.random.key(0)
    made = cell_of(spec["cell"])
    cell = made(1, 2, key=key) if callable(made) else make_cell(made, 1, 2, key=key)
    net = Network(cell, out_size=1, key=key)
    try:  # a tiny cell of the kind: whether the learner applies, not its size
        make_learner(learner, net, key=key)
    except UserError as err:
        raise Invalid(str(err)) from None


def mlp(body: dict) -> dict:
    """The Neuron page's request: data set, layers, activation, optimizer."""
    layers = body.get("layers", [8])
    if not isinstance(layers, list) or len(layers) > MAX_LAYERS:
        raise Invalid(f"layers must be a list of at most {MAX_LAYERS} hidden sizes, got {layers!r}")
    sizes = [number({"units": u}, "units", 1, 1, MAX_HIDDEN, integer=True) for u in layers]
    spec = {
        "kind": "mlp",
        "dataset": choice(body, "dataset", "xor", DATASETS),
        "n": number(body, "n", 200, 4, MAX_POINTS, integer=True),
        "noise": number(body, "noise", 0.1, 0, 1),
        "layers": sizes,
        "activation": choice(body, "activation", "tanh", ACTIVATIONS),
        "optimizer": choice(body, "optimizer", "momentum", MLP_OPTIMIZERS),
        "momentum": number(body, "momentum", 0.9, 0, 0.999),
        **_common(body),
    }
    if spec["dataset"] == "csv":
        table = parse_csv(body.get("csv"), min_columns=3)
        labels = table[:, 2]
        if (labels != labels.round()).any() or labels.min() < 0 or labels.max() > 9:
            raise Invalid("csv column 3 must hold class labels 0, 1, ... (at most 10 classes)")
        if len(set(labels.tolist())) < 2:
            raise Invalid("csv needs points of at least two classes")
        spec["table"] = table[:, :3].tolist()
    return spec


def parse(body: dict) -> dict:
    """A training request of either page, by its ``kind``."""
    if not isinstance(body, dict):
        raise Invalid("the request must be a JSON object")
    kind = choice(body, "kind", "recurrent", ("recurrent", "mlp"))
    return recurrent(body) if kind == "recurrent" else mlp(body)
