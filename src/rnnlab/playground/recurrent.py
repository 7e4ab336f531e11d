"""The Recurrent page's model, loss and the look inside it (run by a worker process).

The model is :class:`rnnlab.RNN` (any cell, 1 to 3 layers) with a linear readout at
every step; truncated BPTT is :func:`rnnlab.unroll`'s ``truncate``; the online learners
of :mod:`rnnlab.learn` (``spec["learner"]``, one layer) train it forward in time. The
look inside (:func:`snapshot`) is, for the probe sequence (row 0 of the task's set):

- every internal of every layer at every step, from :func:`rnnlab.trace_layers`;
- the norm of dL/dh_l(t) of every layer l through time, from
  :func:`rnnlab.layer_grad_norms` with the probe's own loss (its counted steps, through
  the readout), truncation included: the picture shows what training sees;
- the predictions against the targets.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

import rnnlab
from rnnlab.data import ShuffledBatches
from rnnlab.engine import Problem
from rnnlab.playground.series import SeqSet
from rnnlab.playground.specs import cell_of
from rnnlab.playground.traces import save_exact


class SeqModel(eqx.Module):
    """RNN layers and a linear readout: (B, T, D) -> (B, T, O)."""

    rnn: rnnlab.RNN
    readout: eqx.nn.Linear
    classes: int = eqx.field(static=True)  # 0: regression
    truncate: int | None = eqx.field(static=True)

    def __init__(self, cell, D, H, layers, out, *, classes, truncate, key):
        k_rnn, k_out = jax.random.split(key)
        self.rnn = rnnlab.RNN(cell_of(cell), D, H, num_layers=layers, key=k_rnn)
        self.readout = eqx.nn.Linear(self.rnn.output_size, out, key=k_out)
        self.classes = classes
        self.truncate = truncate

    def __call__(self, xs):
        hs, _ = self.rnn(xs, truncate=self.truncate)  # (B, T, H)
        return jax.vmap(jax.vmap(self.readout))(hs)  # (B, T, O)


def per_step_loss(classes: int, out, y):
    """Cross-entropy of class ids, or squared error summed over outputs: (..., T)."""
    if classes:
        return optax.softmax_cross_entropy_with_integer_labels(out, y)
    return jnp.sum((out - y) ** 2, axis=-1)


def seq_loss(model: SeqModel, batch, carry, keys):
    """The engine's loss: summed over the masked targets of the rows, with their count."""
    x, y, mask = batch  # (b, T, D), (b, T[, O]), (b, T)
    per = per_step_loss(model.classes, model(x), y)  # (b, T)
    return jnp.sum(per * mask), jnp.sum(mask), None


def build(spec: dict, data: SeqSet) -> Problem:
    """The engine's problem for a normalised Recurrent spec (see :mod:`.specs`)."""
    model = SeqModel(
        spec["cell"],
        data.x.shape[-1],
        spec["hidden"],
        spec["layers"],
        data.out_size,
        classes=data.classes,
        truncate=spec["truncate"] or None,
        key=jax.random.key(spec["seed"]),
    )
    batch = min(spec["batch"], len(data.x))  # a short CSV may have fewer windows
    problem = Problem(
        model=model,
        loss=seq_loss,
        batches=ShuffledBatches((data.x, data.y, data.mask), batch, spec["seed"]),
        batch_size=batch,
    )
    learner = spec.get("learner", "bptt")
    return problem if learner == "bptt" else online(problem, learner, spec)


def _network(model: SeqModel):
    """The one-layer model as :class:`rnnlab.learn.Network` (its cell and readout)."""
    return rnnlab.learn.Network(model.rnn.cells[0][0], model.readout)


def online(problem: Problem, learner: str, spec: dict) -> Problem:
    """``problem`` trained by an online learner of :mod:`rnnlab.learn` (``rtrl``, ``uoro``,
    ``snap1``, ...): an update every ``update_every`` steps inside the sequences, the
    traces carried from chunk to chunk (:func:`rnnlab.engine.online_problem`); one layer."""
    from rnnlab.engine.online import make_learner_for, online_problem, pad_steps

    classes = problem.model.classes
    made = make_learner_for(learner, _network(problem.model), problem.batch_size, spec["seed"])

    def row(outs, target):  # one row's loss over a chunk: (k, O), ((k[, O]), (k,))
        y, mask = target
        return jnp.sum(per_step_loss(classes, outs, y) * mask), jnp.sum(mask)

    def cut(batch, lo, k):  # the chunk's targets, no mask past T
        _, y, mask = batch
        return pad_steps(y, lo, k), pad_steps(mask, lo, k)

    every = spec.get("update_every", 1)
    return online_problem(problem, made, _network, row, cut, every, spec["seed"])


@eqx.filter_jit
def _inside(model: SeqModel, xs, y, mask):
    """Traces of every layer, gradient norms through time (L, T) and outputs (T, O) for
    one sequence ``xs`` (T, D)."""
    ys, traces = rnnlab.trace_layers(model.rnn, xs)  # (T, H), [{name: (T, H)}]
    readout = jax.vmap(model.readout)

    def probe_loss(hs):  # the probe's loss from the top layer's outputs (T, H)
        return jnp.sum(per_step_loss(model.classes, readout(hs), y) * mask)

    grads = rnnlab.layer_grad_norms(model.rnn, xs, probe_loss, truncate=model.truncate)
    return traces, grads, readout(ys)


VAL_ROWS = 64  # sequences of the validation set that are scored


@eqx.filter_jit
def _mean_loss(model: SeqModel, x, y, mask):
    total, count, _ = seq_loss(model, (x, y, mask), None, None)
    return total / jnp.maximum(count, 1.0)


def val_loss(model: SeqModel, held: SeqSet) -> float:
    """The mean loss per counted target on the first VAL_ROWS sequences of ``held``."""
    n = VAL_ROWS
    return float(_mean_loss(model, *(jnp.asarray(a[:n]) for a in (held.x, held.y, held.mask))))


MAX_STEPS_SHOWN = 128  # columns of a heatmap sent to the page
MAX_UNITS_SHOWN = 32  # rows: 4,096 cells at most per trace


def snapshot(model: SeqModel, data: SeqSet, exact_to=None) -> dict:
    """What the page draws below the loss curve, for the probe sequence (row 0). Where
    the traces are pooled, their exact values go to the file ``exact_to`` (``.npz``, one
    array (T, H) per ``"{layer}_{name}"``) for the page's read-out (:func:`.traces.exact_value`)."""
    xs, y, mask = (jnp.asarray(a[0]) for a in (data.x, data.y, data.mask))
    traces, grads, out = _inside(model, xs, y, mask)
    T, H = next(iter(traces[0].values())).shape
    if exact_to is not None and (T > MAX_STEPS_SHOWN or H > MAX_UNITS_SHOWN):
        save_exact(exact_to, traces)
    valid = np.asarray(mask) > 0
    if data.classes:
        prob = np.asarray(jax.nn.softmax(out, axis=-1))  # (T, K)
        pred = prob.argmax(-1).astype(float)
        target = np.asarray(y, float)
        p_target = prob[np.arange(len(target)), np.asarray(y)]
    else:
        pred, target = np.asarray(out)[:, 0], np.asarray(y)[:, 0]
        p_target = None
    return {
        "layers": [{k: _r(pool(np.asarray(v))) for k, v in sorted(t.items())} for t in traces],
        "pooled": {
            "steps": -(-T // MAX_STEPS_SHOWN),
            "units": -(-H // MAX_UNITS_SHOWN),
            "T": T,
            "H": H,
        },
        "grad_norms": _r(grads),
        "input": _r(xs),
        "prediction": _r(pred),
        "target": _r(np.where(valid, target, np.nan)),
        "p_target": None if p_target is None else _r(p_target),
        "mask": valid.tolist(),
        "classes": data.classes,
        "labels": data.labels,
        "truncate": model.truncate or 0,
    }


def pool(a: np.ndarray) -> np.ndarray:
    """A trace (T, H) as the screen can show it: blocks of k steps x m units averaged, so
    that at most MAX_STEPS_SHOWN x MAX_UNITS_SHOWN cells are sent (k = ceil(T / 128),
    m = ceil(H / 32); the last blocks may be short). A NaN in a block makes it NaN.
    """
    T, H = a.shape
    k, m = -(-T // MAX_STEPS_SHOWN), -(-H // MAX_UNITS_SHOWN)
    if k == m == 1:
        return a
    Tp, Hp = -(-T // k), -(-H // m)  # pooled sizes
    padded = np.zeros((Tp * k, Hp * m))
    count = np.zeros((Tp * k, Hp * m))
    padded[:T, :H], count[:T, :H] = a, 1.0
    total = padded.reshape(Tp, k, Hp, m).sum((1, 3))
    return total / count.reshape(Tp, k, Hp, m).sum((1, 3))  # (Tp, Hp)


def _r(a):
    """An array as nested lists of floats (6 decimals: enough for a picture and a check;
    NaN and the infinities of a model on its way to diverge become None, which JSON can
    carry)."""
    a = np.round(np.asarray(a, np.float64), 6)
    finite = np.isfinite(a)
    if finite.all():
        return a.tolist()
    return np.where(finite, a, None).tolist()
