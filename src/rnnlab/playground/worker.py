"""One training of the playground, in its own process: ``python -m rnnlab.playground.worker``.

The server writes the normalised spec (JSON) to stdin and reads events from stdout, one
JSON object a line: ``{"event": "step", "step", "loss"}`` as the engine logs,
``{"event": "init", "seed", "params", "norm", "first"}`` once (the initial weights: their
count, norm and first values, which tell a reset's new weights from the old ones),
``{"event": "val", "step", "loss"}`` at each evaluation (the mean loss on sequences or
points the training never sees: the task's generator at ``seed + 1``; "hello" and a CSV
have no other data, so theirs is the training data),
``{"event": "snapshot", ...}`` (the look inside the model, at most every
``SNAPSHOT_EVERY`` seconds and at the last step, never of a model whose weights are
no longer finite), then ``{"event": "stop", "status"}`` (a diverged run adds the step of
its first non-finite loss, ``diverged_at``, and the engine's one-line ``message``) or
``{"event": "error", "message"}``. A process per training means a run is stopped at
once by ending the process, and a long compile never holds the server up; the server
starts it with one JAX device (``JAX_NUM_CPU_DEVICES=1``) so that it takes one core, and
the worker lowers its own priority (``nice``) so that the server answers first.
"""

from __future__ import annotations

import json
import os
import sys
import time

from rnnlab.playground.limits import finite

SNAPSHOT_EVERY = 0.5  # seconds between two looks inside the model, at least
# A big model's look (hidden 256 over 500 steps: megabytes) waits longer: it may take at
# most a fifth of the worker's time, and the pages receive at most 2 MB of it a second.
SNAPSHOT_SHARE = 0.2
SNAPSHOT_BYTES_PER_S = 2e6
EVALS = 100  # evaluations over a run, at most (each may send a snapshot)


class _Events:
    """Protocol lines on the real stdout; anything else that prints goes to stderr."""

    def __init__(self):
        self.out = os.fdopen(os.dup(1), "w", encoding="utf-8")
        os.dup2(2, 1)

    def __call__(self, event: dict) -> int:
        line = json.dumps(event, allow_nan=False) + "\n"
        self.out.write(line)
        self.out.flush()
        return len(line)


def run(spec: dict, emit) -> dict:
    """Train the spec through the engine, emitting events; returns the stop event."""
    from rnnlab.engine import Settings, fit, io

    problem, look, optimizer, val_loss = _setup(spec, emit)
    emit({"event": "init", "seed": spec["seed"], **_fingerprint(problem.model)})
    steps = spec["steps"]
    every = max(1, steps // EVALS)
    state = {"step": 0, "next": -float("inf"), "looks": 0}

    def evaluate(model):  # no metric: the validation loss, and a look inside at most so often
        emit({"event": "val", "step": state["step"], "loss": finite(val_loss(model))})
        start = time.monotonic()
        if (start >= state["next"] or state["step"] >= steps) and _finite_weights(model):
            size = emit({"event": "snapshot", "step": state["step"], **look(model)})
            # the first look compiles: its time says nothing about the next ones
            took = (time.monotonic() - start) if state["looks"] else 0.0
            gap = max(SNAPSHOT_EVERY, took / SNAPSHOT_SHARE, size / SNAPSHOT_BYTES_PER_S)
            state["next"], state["looks"] = start + gap, state["looks"] + 1
        return {}

    def report(event):
        if event["event"] == "step":
            state["step"] = event["step"]
            emit({"event": "step", "step": event["step"], "loss": finite(event["loss"])})
        elif event["event"] == "start":
            emit({"event": "start", "steps": steps})

    problem.evaluate, problem.metric = evaluate, None
    settings = Settings(
        steps=steps,
        log_every=every,
        eval_every=every,
        seed=spec["seed"],
        devices=1,
        minutes=spec.get("minutes"),
    )
    result = fit(problem, optimizer, settings, report=report)
    if spec.get("model_path"):
        io.save_tree(spec["model_path"], result.model)
    summary = result.summary
    stop = {"event": "stop", "status": summary["status"]}
    if summary["status"] == "diverged":
        stop.update(diverged_at=summary["diverged_at"], message=summary["message"])
    return stop


def _setup(spec: dict, emit):
    """The engine's problem of a normalised spec, the look inside, the optimizer and the
    validation loss (a function of the model)."""
    import numpy as np

    from rnnlab.engine import make_optimizer

    if spec["kind"] == "recurrent":
        from rnnlab.playground import recurrent
        from rnnlab.playground.series import make_set

        table = None if spec.get("table") is None else np.asarray(spec["table"])
        data = make_set(spec["task"], spec["T"], spec["seed"], lag=spec["lag"], table=table)
        held = make_set(spec["task"], spec["T"], spec["seed"] + 1, lag=spec["lag"], table=table)
        problem = recurrent.build(spec, data)
        optimizer = make_optimizer(spec["optimizer"], spec["lr"], clip=spec["clip"] or None)
        exact = spec.get("model_path") and str(spec["model_path"]) + ".traces.npz"
        look = lambda model: recurrent.snapshot(model, data, exact or None)  # noqa: E731
        return problem, look, optimizer, lambda model: recurrent.val_loss(model, held)
    from rnnlab.neuron import make_optimizer as mlp_optimizer
    from rnnlab.playground import neuron_train

    problem, look, setup = neuron_train.build(spec)
    emit({"event": "data", **setup})
    optimizer = mlp_optimizer(spec["optimizer"], spec["lr"], spec["momentum"])
    return problem, look, optimizer, neuron_train.val_loss(spec)


def _fingerprint(model) -> dict:
    """The parameters' count, norm and first four values (of the first array)."""
    import equinox as eqx
    import jax
    import numpy as np

    leaves = [np.asarray(a) for a in jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_array))]
    flat = np.concatenate([a.ravel() for a in leaves])
    return {
        "params": int(flat.size),
        "norm": round(float(np.linalg.norm(flat)), 6),
        "first": [round(float(v), 6) for v in flat[:4]],
    }


def _finite_weights(model) -> bool:
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    leaves = jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_array))
    return all(bool(jnp.isfinite(a).all()) for a in leaves)


NICE = 10  # below the server: the pages stay responsive while two trainings use the cores


def main() -> None:
    os.nice(NICE)
    emit = _Events()
    try:
        spec = json.loads(sys.stdin.read())
        emit(run(spec, emit))
    except Exception as err:  # reported to the page, which shows the line
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        emit({"event": "error", "message": f"{type(err).__name__}: {first}"[:300]})
        raise


if __name__ == "__main__":
    main()
