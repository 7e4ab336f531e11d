"""The 1997 LSTM as Hochreiter & Schmidhuber trained it (issue 18): memory blocks whose
cells share gates, a fully connected hidden layer (cells and gates read every cell
output and gate activation of the step before), logistic output units fed by the cells
alone, the truncated gradient, online SGD. The ``adding-paper`` row of
``bench/fidelity.py`` (their experiment 4, sec. 5.4).

One step, for blocks j of S cells each (``u`` all hidden activations of t - 1: cell
outputs, input gates, output gates; ``sg`` stops the gradient, the paper's truncation:
errors reach back in time only through the cell states ``s``)::

    a      = W x_t + R sg(u_{t-1}) + b
    in_j   = sigma(a_in_j)        out_j = sigma(a_out_j)        g = 4 sigma(a_c) - 2
    s_t    = s_{t-1} + in_j g     (cell c of block j)
    y_c    = out_j (2 sigma(s_t) - 1)
    output = sigma(V y + b_V)

With 2 inputs, 2 blocks of 2 cells and 1 output this has the paper's 93 weights
(8 hidden units x (2 inputs + 8 recurrent + 1 bias) + 4 + 1).

``adding-paper``: T = 100, lr 0.5, input-gate biases -3 and -6 (the two blocks; sec.
5.4), the other weights in [-0.1, 0.1] (our choice: the paper's range for this
experiment was not checked), squared error at the sequence end, one update per sequence
(online; the error arrives at the end only). The paper's stopping rule: the mean squared
error of the 2,000 most recent training sequences below 0.01 and all of them right
(|error| < 0.04); then 2,560 fresh test sequences. ``--adding-paper-trials`` trials are
trained side by side (vmapped) on their own sequences, each up to
``--adding-paper-seqs``; a trial's rule is checked after every sequence, but it stops
updating only at the end of the chunk of ``CHUNK`` sequences it stopped in.
"""

from __future__ import annotations

import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

CHUNK = 500


def _sig(a):
    return jax.nn.sigmoid(a)


def init(key, n_in: int, blocks: int, cells: int, n_out: int, scale: float,
         in_bias=None, out_bias=None) -> dict:  # fmt: skip
    """Parameters, every weight and bias in U(-scale, scale) but the gate biases given."""
    n_hidden = blocks * cells + 2 * blocks  # cells, input gates, output gates
    k = jax.random.split(key, 5)
    u = lambda kk, shape: jax.random.uniform(kk, shape, minval=-scale, maxval=scale)  # noqa: E731
    b = u(k[2], (n_hidden,))
    C = blocks * cells
    if in_bias is not None:
        b = b.at[C : C + blocks].set(jnp.asarray(in_bias, jnp.float32))
    if out_bias is not None:
        b = b.at[C + blocks :].set(jnp.asarray(out_bias, jnp.float32))
    return {"W": u(k[0], (n_hidden, n_in)), "R": u(k[1], (n_hidden, n_hidden)), "b": b,
            "V": u(k[3], (n_out, C)), "bV": u(k[4], (n_out,))}  # fmt: skip


def n_weights(p: dict) -> int:
    return int(sum(np.prod(a.shape) for a in jax.tree_util.tree_leaves(p)))


def step(p: dict, blocks: int, cells: int, state, x):
    """One step: ``state`` = (s (C,), u (H,)); returns the new state and the outputs."""
    s, u = state
    C = blocks * cells
    a = p["W"] @ x + p["R"] @ jax.lax.stop_gradient(u) + p["b"]  # (H,)
    gin, gout = _sig(a[C : C + blocks]), _sig(a[C + blocks :])  # (blocks,)
    g = 4 * _sig(a[:C]) - 2
    s = s + jnp.repeat(gin, cells) * g
    y = jnp.repeat(gout, cells) * (2 * _sig(s) - 1)
    return (s, jnp.concatenate([y, gin, gout])), _sig(p["V"] @ y + p["bV"])


def run(p: dict, blocks: int, cells: int, xs):
    """Outputs (T, n_out) over ``xs`` (T, n_in) from the zero state."""
    H = p["b"].shape[0]
    state = (jnp.zeros(blocks * cells), jnp.zeros(H))
    return jax.lax.scan(lambda st, x: step(p, blocks, cells, st, x), state, xs)[1]


# ---------------------------------------------------------------------------- adding


def _adding_chunk(blocks, cells, lr):
    def loss(p, x, y, n):
        out = run(p, blocks, cells, x)[n - 1, 0]
        return 0.5 * (out - y) ** 2, out - y

    def one(p, xs, ys, ns, active):
        def body(p, seq):
            (_, err), g = jax.value_and_grad(loss, has_aux=True)(p, *seq)
            new = jax.tree_util.tree_map(lambda w, d: w - lr * d, p, g)
            return jax.tree_util.tree_map(lambda a, b: jnp.where(active, a, b), new, p), err

        return jax.lax.scan(body, p, (xs, ys, ns))

    return jax.jit(jax.vmap(one))


def _test_errors(blocks, cells):
    def one(p, xs, ns):
        outs = jax.vmap(lambda x: run(p, blocks, cells, x))(xs)[..., 0]  # (N, T)
        return outs[jnp.arange(xs.shape[0]), ns - 1]

    return jax.jit(jax.vmap(one, in_axes=(0, None, None)))


def adding_paper_row(args, emit) -> dict:
    from rnnlab.tasks.adding import TOLERANCE, adding_data

    K, T, blocks, cells = args.adding_paper_trials, 100, 2, 2
    keys = jax.random.split(jax.random.key(args.seed + 1997), K)
    params = jax.vmap(lambda k: init(k, 2, blocks, cells, 1, 0.1, in_bias=[-3.0, -6.0]))(keys)
    chunk = _adding_chunk(blocks, cells, 0.5)
    rngs = [np.random.default_rng([args.seed, 4, k]) for k in range(K)]
    recent = [np.zeros(0) for _ in range(K)]
    stopped = np.zeros(K, int)  # sequences until the stopping rule (0: not yet)
    seen, t0 = 0, time.perf_counter()
    weights = n_weights(jax.tree_util.tree_map(lambda a: a[0], params))
    out = {"paper": "H&S 1997 sec. 5.4, Table 7, T = 100: 74,000 training sequences until "
           "the stopping rule; test: 1 of 2,560 wrong (mean of 10 trials), never more than 3",
           "recipe": f"2 blocks of 2 cells, {weights} weights, gate-to-gate recurrence, "
           "truncated gradient, lr 0.5, input-gate biases -3/-6, online (one sequence an "
           "update), the paper's stopping rule", "trials": K}  # fmt: skip
    while seen < args.adding_paper_seqs and (stopped == 0).any():
        data = [adding_data(CHUNK, T, "paper", r) for r in rngs]
        xs = jnp.asarray(np.stack([d.x for d in data]))
        ys = jnp.asarray(np.stack([d.y for d in data]))
        ns = jnp.asarray(np.stack([d.lengths for d in data]))
        params, errs = chunk(params, xs, ys, ns, jnp.asarray(stopped == 0))
        errs = np.asarray(errs)  # (K, CHUNK): output - target of every training sequence
        for k in np.flatnonzero(stopped == 0):
            both = np.concatenate([recent[k], errs[k]])
            for i in range(len(recent[k]), len(both)):
                last = both[max(0, i - 1999) : i + 1]
                if len(last) == 2000 and (last**2).mean() < 0.01 and (
                        np.abs(last) < TOLERANCE).all():  # fmt: skip
                    stopped[k] = seen + i - len(recent[k]) + 1
                    break
            recent[k] = both[-1999:]
        seen += CHUNK
        if seen % 10_000 == 0:
            mse = [round(float((r[-2000:] ** 2).mean()), 4) for r in recent]
            print(f"adding-paper: {seen} sequences, stopped {stopped.tolist()}, recent MSE {mse}",
                  file=sys.stderr)  # fmt: skip
    test = adding_data(2560, T, "paper", np.random.default_rng([args.seed, 4, 999]))
    pred = np.asarray(_test_errors(blocks, cells)(params, jnp.asarray(test.x),
                                                  jnp.asarray(test.lengths)))  # fmt: skip
    wrong = (np.abs(pred - test.y[None]) >= TOLERANCE).sum(1)  # (K,)
    done = stopped[stopped > 0]
    out.update({
        "stopped": f"{len(done)}/{K}", "budget": f"{args.adding_paper_seqs:,} sequences a trial",
        "sequences_until_stop": [int(s) if s else None for s in stopped],
        "mean_sequences_until_stop": int(done.mean()) if len(done) else None,
        "wrong_of_2560": wrong.tolist(), "mean_wrong": round(float(wrong.mean()), 2),
        "max_wrong": int(wrong.max()),
        "test_mse": [round(float(((p - test.y) ** 2).mean()), 5) for p in pred],
        "minutes": round((time.perf_counter() - t0) / 60, 2),
    })  # fmt: skip
    emit(out)
    return out
