"""Do an MTRNN's slow units switch at the boundaries between primitives? (issue 18 item 3)

Yamashita & Tani (2008) trained a robot on behaviours, each a fixed order of movement
primitives; the fast context units came to encode the primitives and the slow ones the
order, changing where one primitive ends and the next begins (their Fig. 5). rnnlab's
``primitives`` task tags each step of a stream whose primitives come in *random* order,
and a small MTRNN trained on it showed slow units that change only 1.06 times as much
after a boundary as elsewhere (README). This script trains the MTRNN in three settings
and measures, on held-out sequences, each group's mean |h_t - h_{t-1}| in the ``WINDOW``
steps after a boundary over its mean elsewhere (the switching ratio):

- ``tagging``: today's task (random order, a label per step), the paper's units
  (logistic, tau 2/5/70, io-to-io cut) and its 60 fast / 20 slow units;
- ``predict-random``: the paper's objective, the next point of the trajectory (squared
  error), primitives in random order;
- ``predict-behaviours``: the paper's set-up: two behaviours, each a fixed cycle of the
  four primitives (A: circle, figure-eight, up-down, zigzag; B: the reverse), the next
  point predicted, and a learnt initial state per behaviour (the paper's per-sequence
  initial slow state, the code that selects the behaviour);
- ``predict-timed``: the same, but every primitive lasts exactly 3 of its cycles (a
  random start in the behaviour's loop), so when the next primitive comes can be
  predicted from the time spent in this one.

Each with the same net untrained, for reference. Prints one JSON object, writes it and a
figure of the fast and slow units over a test sequence of the last setting.

    python bench/mtrnn_switch.py [--steps 3000] [--out bench/out/mtrnn_switch.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from rnnlab import MTRNNCell, unroll
from rnnlab.tasks.primitives import LENGTH, SHAPES, stream

WINDOW = 10  # steps after a boundary counted as "at the boundary"
SKIP = 60  # first steps left out: the units settle from their initial state (tau 70)
BEHAVIOURS = ((0, 1, 2, 3), (3, 2, 1, 0))
SETTINGS = ("tagging", "predict-random", "predict-behaviours", "predict-timed")
TIMED_CYCLES = 3  # predict-timed: every primitive lasts exactly 3 of its cycles


def data(n: int, seed: int, behaviours: bool, timed: bool = False):
    """``x`` (n, T, 2), labels (n, T) and the behaviour of each row (n,)."""
    rng = np.random.default_rng(seed)
    which = rng.integers(0, len(BEHAVIOURS), n) if behaviours else np.zeros(n, int)
    if timed:
        rows = [_timed(BEHAVIOURS[b], rng) for b in which]
    else:
        rows = [stream(LENGTH, rng, BEHAVIOURS[b] if behaviours else None) for b in which]
    return np.stack([r[0] for r in rows]), np.stack([r[1] for r in rows]), which


def _timed(order, rng):
    """A behaviour whose every primitive lasts TIMED_CYCLES cycles, starting at a random
    point of the cycle of segments: when the next primitive comes is then predictable,
    from the time spent in this one (the paper's robot repeated fixed behaviours)."""
    names = list(SHAPES)
    xs, ys = [], []
    for k in order:
        shape, period = SHAPES[names[k]]
        p = 2 * np.pi * np.arange(TIMED_CYCLES * period) / period
        xs.append(np.column_stack(shape(p)))
        ys.append(np.full(len(p), k))
    x, y = np.concatenate(xs), np.concatenate(ys)
    start = int(rng.integers(len(x)))
    idx = (start + np.arange(LENGTH)) % len(x)
    x = x[idx] + rng.normal(0, 0.05, (LENGTH, 2))
    return x.astype(np.float32), y[idx].astype(np.int32)


class Net(eqx.Module):
    cell: MTRNNCell
    readout: eqx.nn.Linear
    u0: jax.Array  # (behaviours, H): the learnt initial states (zeros when not learnt)

    def __init__(self, outputs: int, key):
        k1, k2 = jax.random.split(key)
        # io units: 16 (the paper's io layer encodes each modality on many units)
        self.cell = MTRNNCell(2, io_size=16, nonlinearity="sigmoid", cut_io_io=True, key=k1)
        self.readout = eqx.nn.Linear(self.cell.hidden_size, outputs, key=k2)
        self.u0 = jnp.zeros((len(BEHAVIOURS), self.cell.hidden_size))

    def __call__(self, x, behaviour):  # x (T, 2) -> outputs (T, O), activations (T, H)
        hs, _ = unroll(self.cell, x, self.u0[behaviour])
        return jax.vmap(self.readout)(hs), hs


def train(setting: str, steps: int, seed: int):
    behaviours = setting in ("predict-behaviours", "predict-timed")
    x, y, b = data(128, seed, behaviours, setting == "predict-timed")
    tagging = setting == "tagging"
    net = Net(len(SHAPES) if tagging else 2, jax.random.key(seed))
    untrained = net

    def loss(net, xb, yb, bb):
        out, _ = jax.vmap(net)(xb, bb)
        if tagging:
            return optax.softmax_cross_entropy_with_integer_labels(out, yb).mean()
        return jnp.mean((out[:, :-1] - xb[:, 1:]) ** 2)  # the next point

    opt = optax.adam(3e-3)
    state = opt.init(eqx.filter(net, eqx.is_array))
    trainable = _trainable(behaviours)

    @eqx.filter_jit
    def step(net, state, xb, yb, bb):
        value, grads = eqx.filter_value_and_grad(loss)(net, xb, yb, bb)
        grads = jax.tree_util.tree_map(lambda g, t: g * t, grads, trainable(grads))
        updates, state = opt.update(grads, state, eqx.filter(net, eqx.is_array))
        return eqx.apply_updates(net, updates), state, value

    rng = np.random.default_rng(seed + 1)
    start, losses = time.perf_counter(), []
    for _ in range(steps):
        idx = rng.choice(len(x), 16, replace=False)
        net, state, value = step(net, state, x[idx], y[idx], b[idx])
        losses.append(float(value))
    return net, untrained, losses, time.perf_counter() - start


def _trainable(learn_u0: bool):
    def mask(tree):
        flags = jax.tree_util.tree_map(lambda _: 1.0, tree)
        return eqx.tree_at(lambda n: n.u0, flags, 1.0 if learn_u0 else 0.0)

    return mask


def ratios(net: Net, x, y, b) -> dict:
    """Each group's mean |dh| in the WINDOW steps after a boundary / elsewhere."""
    _, hs = jax.vmap(net)(jnp.asarray(x), jnp.asarray(b))
    hs = np.asarray(hs)  # (n, T, H)
    io, fast, slow = net.cell.groups
    dh = np.abs(np.diff(hs, axis=1))  # (n, T-1, H): the change into step t + 1
    near = np.zeros(y.shape, bool)
    for row, labels in enumerate(y):
        for t in np.flatnonzero(np.diff(labels)) + 1:  # first step of a new primitive
            near[row, t : t + WINDOW] = True
    near, valid = near[:, 1:], np.arange(1, y.shape[1]) >= SKIP  # past the first transient
    out = {}
    for name, cols in (("fast", slice(io, io + fast)), ("slow", slice(io + fast, None))):
        g = dh[:, :, cols].mean(-1)
        at, rest = g[near & valid], g[~near & valid]
        out[name] = float(at.mean() / rest.mean())
    return out


def figure(net: Net, x, y, b, path: Path, ratio: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rnnlab.engine.io import atomic_write

    _, hs = net(jnp.asarray(x[0]), int(b[0]))
    hs = np.asarray(hs)
    io, fast, slow = net.cell.groups
    fig, axes = plt.subplots(3, 1, figsize=(9, 6.5), sharex=True)
    names = list(SHAPES)
    axes[0].plot(x[0])
    axes[0].set_ylabel("input x, y")
    axes[0].set_title(
        f"behaviour {'AB'[int(b[0])]}: {', '.join(names[k] for k in BEHAVIOURS[b[0]])}"
    )
    axes[1].plot(hs[:, io : io + fast], lw=0.6)
    axes[1].set_ylabel(f"fast units ({ratio['fast']:.2f}x)")
    axes[2].plot(hs[:, io + fast :], lw=0.8)
    axes[2].set_ylabel(f"slow units ({ratio['slow']:.2f}x)")
    axes[2].set_xlabel("step")
    for ax in axes:
        for t in np.flatnonzero(np.diff(y[0])) + 1:
            ax.axvline(t, color="k", ls=":", lw=0.8)
    fig.tight_layout()
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=110))
    plt.close(fig)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=SETTINGS)
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--figure", type=Path, default=None)
    p.add_argument("--merge", action="store_true", help="add to the settings already in --out")
    args = p.parse_args(argv)
    result = {"steps": args.steps, "window": WINDOW, "settings": {}}
    if args.merge and args.out is not None and args.out.exists():
        result = json.loads(args.out.read_text())
    for setting in args.settings:
        net, untrained, losses, seconds = train(setting, args.steps, args.seed)
        behaviours = setting in ("predict-behaviours", "predict-timed")
        x, y, b = data(32, args.seed + 100, behaviours, setting == "predict-timed")
        result["settings"][setting] = {
            "trained": ratios(net, x, y, b),
            "untrained": ratios(untrained, x, y, b),
            "loss_first": float(np.mean(losses[:50])),
            "loss_last": float(np.mean(losses[-50:])),
            "seconds": round(seconds, 1),
            "load": os.getloadavg()[0],
        }
        if args.figure is not None and setting == args.settings[-1]:
            figure(net, x, y, b, args.figure, result["settings"][setting]["trained"])
        if args.out is not None:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
