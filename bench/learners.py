"""Learners beyond BPTT (issue 16): cost against n, and learning at equal wall time.

Cost: seconds and compiled memory per step of each learner of ``rnnlab.learn`` for a
leaky Elman cell (every learner applies to it) of n = 8 ... 128 units, one sequence of
16 steps, 8 inputs; the exponent of n fitted over the three largest n, beside the
theory's. Memory is XLA's own account of the compiled chunk (temporaries + outputs).

Learning, each run the same budget of CPU time (``time.process_time`` of the process,
fair on a shared, loaded machine; counted after its first batch, which compiles; the
budget of each task in ``BUDGET``), 3 seeds, mean +- sd, Adam with clipping at 1:

- recall at lag 30, a variant: ``RECALL_SYMBOLS`` = 4 symbols (the task's 8) and the 30
  steps between the cue and the query silent (the task's are distractor symbols, which
  full BPTT itself did not master within minutes here), the layout of
  ``rnnlab.tasks.recall`` otherwise; LSTM ``RECALL_HIDDEN`` = 8 with its forget gates at
  sigmoid(3), batches of 16, the answer at the last step, one update per sequence (the
  online learners are 2-7x dearer per sequence than BPTT here): truncated BPTT
  (k = 10) cannot reach the cue 31 steps back; full BPTT is the reference; the online
  learners carry their traces through the whole sequence;
- adding, T = 100 (the "sum" variant: target X1 + X2, mean predictor MSE ~1/6; LSTM 16);
- a char model, LSTM 64 on Shakespeare (one-hot input, 16 contiguous streams, an update
  every 10 characters for every learner, state and traces carried): truncated BPTT over
  the 10 characters against SnAp-1, UORO and e-prop (RTRL's influence matrix, 128 x 33k
  numbers a stream, is out of reach here).

    nice -n 5 python bench/learners.py --out bench/out/learners.json
    python bench/learners.py --table bench/out/learners.json > bench/out/learners.md
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

import rnnlab  # noqa: E402
from rnnlab import learn  # noqa: E402
from rnnlab.cells.lstm import with_forget_bias  # noqa: E402
from rnnlab.tasks.recall import recall_data  # noqa: E402

SIZES = (8, 16, 32, 64, 128)
REPEATS = 7  # timed calls of a cost row
RECALL_SYMBOLS, RECALL_HIDDEN, RECALL_LAG = 4, 8, 30
BUDGET = {"recall": 25.0, "adding": 12.0, "char": 12.0}  # CPU seconds of training per run
COST_LEARNERS = ("bptt", "rtrl", "uoro", "snap1", "snap2", "rflo", "eprop")
THEORY = {  # exponent of n per step for a dense cell (p ~ n^2): compute, memory
    "bptt": (2, 2), "rtrl": (4, 3), "uoro": (2, 2), "snap1": (2, 2),
    "snap2": (4, 3), "rflo": (2, 2), "eprop": (2, 2),
}  # fmt: skip


def make(name, model, key, truncate=None):
    if name == "tbptt":
        return learn.BPTT(truncate)
    return learn.make_learner(name, model, key=key)


# --- cost -----------------------------------------------------------------------------


def cost_row(name, n, T=16, D=8):
    cell = rnnlab.LeakyElmanCell(D, n, alpha=0.5, key=jax.random.key(n))
    xs = jax.random.normal(jax.random.key(1), (T, D))
    learner = make(name, cell, jax.random.key(2))
    params, static = eqx.partition(cell, eqx.is_array)
    loss = lambda ys: jnp.sum(ys**2)
    f = jax.jit(lambda p, x: learner(eqx.combine(p, static), x, loss)[0])
    mem = f.lower(params, xs).compile().memory_analysis()
    nbytes = int(mem.temp_size_in_bytes + mem.output_size_in_bytes) if mem else None
    jax.block_until_ready(f(params, xs))
    times = []
    for _ in range(REPEATS):  # the fastest of several: other processes only slow a run down
        t = time.perf_counter()
        jax.block_until_ready(f(params, xs))
        times.append(time.perf_counter() - t)
    return {"learner": name, "n": n, "s_per_step": min(times) / T, "bytes": nbytes}


def slope(rows, key):
    big = sorted(rows, key=lambda r: r["n"])[-3:]
    x, y = np.log([r["n"] for r in big]), np.log([r[key] for r in big])
    return float(np.polyfit(x, y, 1)[0])


# --- learning tasks -------------------------------------------------------------------


def cross_entropy(outs, target):
    valid = target >= 0
    logp = jax.nn.log_softmax(outs)
    nll = -jnp.take_along_axis(logp, jnp.maximum(target, 0)[:, None], axis=1)[:, 0]
    return jnp.sum(jnp.where(valid, nll, 0.0)), jnp.sum(valid)


def squared(outs, target):
    value, mask = target[:, 0], target[:, 1]
    return jnp.sum(mask * (outs[:, 0] - value) ** 2), jnp.sum(mask)


def recall_draw(n, rng, S=RECALL_SYMBOLS, lag=RECALL_LAG):
    """``n`` recall sequences with ``S`` symbols: ``rnnlab.tasks.recall``'s layout (the cue
    and its flag, ``lag`` steps, the query flag) with the ``lag`` steps silent, x (n, lag + 2,
    S + 2), and targets (n, lag + 2): the cue's symbol at the last step, -1 elsewhere."""
    data = recall_data(n, lag, rng, symbols=S, distract=False)
    target = np.full((n, lag + 2), -1, np.int32)
    target[:, -1] = data.y
    return data.x, target


def recall_task(seed, batch=16):
    test = recall_draw(500, np.random.default_rng([99, 1]))

    def evaluate(net):
        outs = net(jnp.asarray(test[0]))[0][:, -1]
        return {"accuracy": float(jnp.mean(jnp.argmax(outs, -1) == test[1][:, -1]))}

    S, H = RECALL_SYMBOLS, RECALL_HIDDEN
    cell = with_forget_bias(rnnlab.LSTMCell(S + 2, H, key=jax.random.key(seed)), 3.0)
    net = learn.Network(cell, out_size=S, key=jax.random.key(seed + 100))
    batches = lambda i: recall_draw(batch, np.random.default_rng([seed, i]))
    return net, batches, cross_entropy, evaluate, RECALL_LAG + 2


def adding_task(seed, batch=16, T=100):
    from rnnlab.tasks.adding import adding_data

    def draw(n, rng):
        d = adding_data(n, T, "sum", rng)
        target = np.zeros((n, T, 2), np.float32)
        target[:, -1] = np.stack([d.y, np.ones(n)], -1)
        return d.x[:, :T], target  # every marker lies in the first T/2 steps

    test = draw(500, np.random.default_rng([99, 2]))

    def evaluate(net):
        outs = net(jnp.asarray(test[0]))[0][:, -1, 0]
        return {"mse": float(jnp.mean((outs - test[1][:, -1, 0]) ** 2))}

    cell = with_forget_bias(rnnlab.LSTMCell(2, 16, key=jax.random.key(seed)), 1.0)
    net = learn.Network(cell, out_size=1, key=jax.random.key(seed + 100))
    batches = lambda i: draw(batch, np.random.default_rng([seed, i]))
    return net, batches, squared, evaluate, T


@functools.cache
def shakespeare(text_chars=2_000_000, val_chars=16_000):
    """Character ids of the first ``text_chars`` (training) and last ``val_chars``."""
    from rnnlab.data import load_corpus

    text = load_corpus("shakespeare").text
    chars = sorted(set(text))
    lookup = {c: i for i, c in enumerate(chars)}
    ids = np.array([lookup[c] for c in text[:text_chars]], np.int32)
    return ids, np.array([lookup[c] for c in text[-val_chars:]], np.int32), len(chars)


def char_task(seed, rows=16, steps=100):
    ids, val, V = shakespeare()
    eye = np.eye(V, dtype=np.float32)
    per_row = len(ids) // rows
    streams = ids[: per_row * rows].reshape(rows, per_row)

    def batches(i):
        a = (i * steps) % (per_row - steps - 1)
        window = streams[:, a : a + steps + 1]
        return eye[window[:, :-1]], window[:, 1:]

    val_rows = val.reshape(8, -1)

    def evaluate(net):
        outs = net(jnp.asarray(eye[val_rows[:, :-1]]))[0]
        nll = -jnp.take_along_axis(jax.nn.log_softmax(outs), val_rows[:, 1:, None], -1)
        return {"nats_per_char": float(jnp.mean(nll))}

    cell = with_forget_bias(rnnlab.LSTMCell(V, 64, key=jax.random.key(seed)), 1.0)
    net = learn.Network(cell, out_size=V, key=jax.random.key(seed + 100))
    return net, batches, cross_entropy, evaluate, 10


TASKS = {
    "recall": (recall_task, ("tbptt", "bptt", "rtrl", "snap1", "uoro", "eprop"), 1e-2),
    "adding": (adding_task, ("tbptt", "rtrl", "snap1", "uoro", "eprop"), 1e-2),
    "char": (char_task, ("tbptt", "snap1", "uoro", "eprop"), 3e-3),
}


def learning_row(task, name, seed, seconds):
    build, _, lr = TASKS[task]
    net, batches, loss_fn, evaluate, update_every = build(seed)
    if name == "tbptt":  # recall/adding: one update per sequence, the gradient cut at 10
        learner = learn.BPTT(10 if task != "char" else None)
    else:
        learner = make(name, net, jax.random.key(seed + 7))
    t, cpu = time.perf_counter(), time.process_time()
    trained, history = learn.train_online(
        net, learner, batches, loss_fn, optax.chain(optax.clip_by_global_norm(1.0),
                                                     optax.adam(lr)),
        update_every=update_every, steps=10**9, seconds=seconds, stream=task == "char",
        untimed=1, clock=time.process_time, key=jax.random.key(seed),
    )  # fmt: skip
    return {
        "task": task, "learner": name, "seed": seed, "batches": len(history),
        **reached(history, SOLVED.get(task)), "budget_cpu_s": seconds,
        "cpu_s": round(time.process_time() - cpu, 1),
        "wall_s": round(time.perf_counter() - t, 1), "last_loss": history[-1]["loss"],
        **evaluate(trained),
    }  # fmt: skip


SOLVED = {"recall": 0.05, "adding": 0.01}  # a training loss (mean of 20 batches) that solves


def reached(history, level, window=20):
    """The first batch (and its CPU second) where the mean training loss of the last
    ``window`` batches fell below ``level``; None when it never did."""
    if level is None:
        return {}
    loss = np.array([h["loss"] for h in history])
    mean = np.convolve(loss, np.ones(window) / window, "valid")  # batches window .. end
    hit = np.flatnonzero(mean < level)
    if not hit.size:
        return {"solved_batch": None, "solved_cpu_s": None}
    i = int(hit[0]) + window - 1
    return {"solved_batch": i + 1, "solved_cpu_s": round(history[i]["time"], 2)}


# --- tables ---------------------------------------------------------------------------


def table(results) -> str:
    out = ["| learner | " + " | ".join(f"n={n}" for n in SIZES) + " | exponent (theory) "
           "| memory n=128 | memory exponent (theory) |",
           "|---" * (len(SIZES) + 4) + "|"]  # fmt: skip
    for name in COST_LEARNERS:
        rows = [r for r in results.get("cost", []) if r["learner"] == name]
        if not rows:
            continue
        ms = {r["n"]: f"{1e3 * r['s_per_step']:.3f}" for r in rows}
        big = max(rows, key=lambda r: r["n"])
        c, m = THEORY[name]
        out.append(
            f"| {name} | " + " | ".join(ms.get(n, "—") for n in SIZES)
            + f" | {slope(rows, 's_per_step'):.2f} ({c}) | {big['bytes'] / 2**20:.2f} MiB "
            f"| {slope(rows, 'bytes'):.2f} ({m}) |"
        )  # fmt: skip
    out += ["", "| task (metric) | learner | runs | CPU s a run | batches | metric (mean ± sd) "
            "| solved: runs, CPU s (mean ± sd) |", "|---|---|---|---|---|---|---|"]  # fmt: skip
    for task, (_, names, _) in TASKS.items():
        for name in names:
            rows = [
                r for r in results.get("learning", []) if (r["task"], r["learner"]) == (task, name)
            ]
            if not rows:
                continue
            metric = next(k for k in ("accuracy", "mse", "nats_per_char") if k in rows[0])
            v = np.array([r[metric] for r in rows])
            sd = v.std(ddof=1) if len(v) > 1 else float("nan")
            b = "/".join(str(r["batches"]) for r in rows)
            cpu = rows[0].get("budget_cpu_s") or f"{results.get('seconds', '?')} wall"
            out.append(f"| {task} ({metric}) | {name} | {len(rows)} | {cpu} | {b} | "
                       f"{v.mean():.3f} ± {sd:.3f} | {solved(rows)} |")  # fmt: skip
    return "\n".join(out)


def solved(rows) -> str:
    """How many runs solved (``SOLVED``) and their CPU seconds to it, or a dash."""
    if "solved_cpu_s" not in rows[0]:
        return "—"
    t = np.array([r["solved_cpu_s"] for r in rows if r["solved_cpu_s"] is not None])
    if not t.size:
        return f"0/{len(rows)}"
    sd = f" ± {t.std(ddof=1):.1f}" if t.size > 1 else ""
    return f"{t.size}/{len(rows)}, {t.mean():.1f}{sd}"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="bench/out/learners.json")
    p.add_argument("--seconds", type=float, help="CPU seconds of training a run (default: BUDGET)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--parts", nargs="+", default=["cost", *TASKS], choices=["cost", *TASKS])
    p.add_argument("--table", metavar="JSON", help="print the Markdown tables of a result file")
    args = p.parse_args(argv)
    if args.table:
        with open(args.table) as f:
            print(table(json.load(f)))
        return
    results = {"cost": [], "learning": [], "load": os.getloadavg()}
    if os.path.exists(args.out):
        with open(args.out) as f:
            results.update(json.load(f))

    def save():
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(results, f, indent=1)
        os.replace(tmp, args.out)

    if "cost" in args.parts:
        results["cost"] = []
        for n in SIZES:
            for name in COST_LEARNERS:
                results["cost"].append(cost_row(name, n))
                print(json.dumps(results["cost"][-1]), flush=True)
                save()
    for task in (t for t in TASKS if t in args.parts):
        results["learning"] = [r for r in results["learning"] if r["task"] != task]
        for seed in range(args.seeds):
            for name in TASKS[task][1]:
                budget = args.seconds or BUDGET[task]
                results["learning"].append(learning_row(task, name, seed, budget))
                print(json.dumps(results["learning"][-1]), flush=True)
                save()
    results["load_after"] = os.getloadavg()
    save()
    print(table(results))


if __name__ == "__main__":
    sys.exit(main())
