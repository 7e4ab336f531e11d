"""The embedded Reber grammar with H&S 1997's own recipe (issue 18, their experiment 1):
the ``reber-paper`` row of ``bench/fidelity.py``.

The net is ``bench/lstm1997_paper.py``'s: memory blocks whose cells share an input and an
output gate, a fully connected hidden layer (gate-to-gate recurrence), 7 logistic output
units fed by the cells, the squared error against the next symbol (one-hot), and the
paper's truncated gradient. Training is online as in the paper: the weights change after
every symbol. With the truncation, the gradient of a step's error needs only the
derivatives of the cell states by the weights, carried forward (RTRL, as the paper
computes them)::

    P_t = P_{t-1} + d(in_j g_c)/dw        (P = ds/dw, reset with the state at every string)
    dE_t/dw = dE_t/dw|_s + dE_t/ds_t . P_t

The derivatives carried forward were computed with the weights of their own steps, as
in any online RTRL. Settings from the paper: weights in [-0.2, 0.2], output-gate biases
-1, -2, -3 (-4 for a fourth block: our extension), learning rates 0.1, 0.2, 0.5, 3 blocks
of 2 cells or 4 of 1; 30 trials = 3 training/test sets of 256 strings x 10
initialisations; a trial succeeds when every prediction on its training and test strings
is right (the allowed next symbols the most active outputs). Checked every
``--reber-check`` strings, so the counts are rounded up to that.
"""

from __future__ import annotations

import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from lstm1997_paper import init, n_weights, run

LAYOUTS = {"3x2": (3, 2), "4x1": (4, 1)}
PAPER = {("3x2", 0.1): "100 %, 21,730", ("3x2", 0.2): "97 %, 14,060",
         ("3x2", 0.5): "100 %, 8,440", ("4x1", 0.1): "100 %, 39,740",
         ("4x1", 0.5): "97 %, 9,500"}  # fmt: skip


def _increment(p, blocks, cells, s, u, x):
    C = blocks * cells
    a = p["W"] @ x + p["R"] @ u + p["b"]
    gin = jax.nn.sigmoid(a[C : C + blocks])
    return jnp.repeat(gin, cells) * (4 * jax.nn.sigmoid(a[:C]) - 2)


def _outputs(p, blocks, cells, s, u, x):
    """The outputs and the new activations given the new cell states ``s``."""
    C = blocks * cells
    a = p["W"] @ x + p["R"] @ u + p["b"]
    gin, gout = jax.nn.sigmoid(a[C : C + blocks]), jax.nn.sigmoid(a[C + blocks :])
    y = jnp.repeat(gout, cells) * (2 * jax.nn.sigmoid(s) - 1)
    return jax.nn.sigmoid(p["V"] @ y + p["bV"]), jnp.concatenate([y, gin, gout])


def online_string(p, blocks, cells, lr, x, target, n):
    """Train on one string, an update after each of its ``n`` symbols; ``x`` (T, 7),
    ``target`` (T, 7) one-hot. Returns the new weights."""
    C, H = blocks * cells, p["b"].shape[0]
    P0 = jax.tree_util.tree_map(lambda w: jnp.zeros((C, *w.shape)), p)

    def symbol(carry, t):
        p, s, u, P = carry
        inc = _increment(p, blocks, cells, s, u, x[t])
        J = jax.jacrev(_increment)(p, blocks, cells, s, u, x[t])  # (C, *w)
        s_new = s + inc
        P = jax.tree_util.tree_map(lambda a, b: a + b, P, J)

        def err(p, s):
            o, _ = _outputs(p, blocks, cells, s, u, x[t])
            return 0.5 * ((o - target[t]) ** 2).sum()

        g_w, g_s = jax.grad(err, argnums=(0, 1))(p, s_new)
        g = jax.tree_util.tree_map(lambda gw, Pw: gw + jnp.tensordot(g_s, Pw, 1), g_w, P)
        live = t < n
        new = jax.tree_util.tree_map(lambda w, d: jnp.where(live, w - lr * d, w), p, g)
        _, u_new = _outputs(p, blocks, cells, s_new, u, x[t])
        return (new, s_new, u_new, P), None

    carry = (p, jnp.zeros(C), jnp.zeros(H), P0)
    return jax.lax.scan(symbol, carry, jnp.arange(x.shape[0]))[0][0]


def reber_paper_row(args, emit) -> dict:
    from rnnlab.tasks import get_task
    from rnnlab.tasks.reber import allowed_mask, one_hot_strings, top_k_right_masked

    sets, inits = 3, args.reber_paper_inits
    K = sets * inits
    data = []
    for d in range(sets):
        st = get_task("reber").strings(args.seed + d)
        data.append(st["train"] + st["test"])
    T = max(len(s) for strings in data for s in strings) - 1
    enc = [one_hot_strings(s) for s in data]
    pad = lambda a: np.pad(a, [(0, 0), (0, T - a.shape[1])] + [(0, 0)] * (a.ndim - 2))  # noqa: E731
    X = jnp.asarray(np.stack([pad(e.x) for e in enc]))  # (3, 512, T, 7)
    N = jnp.asarray(np.stack([e.lengths for e in enc]))  # (3, 512)
    M = jnp.asarray(np.stack([allowed_mask(s, T) for s in data]))  # (3, 512, T, 7)
    if args.reber_paper_targets == "allowed":  # every allowed next symbol 1 (a variant)
        Y = M.astype(jnp.float32)
    else:  # the next symbol, one-hot
        Y = jnp.asarray(np.stack([np.eye(7, dtype=np.float32)[pad(e.y)] for e in enc]))
    which = np.repeat(np.arange(sets), inits)  # the data set of each trial
    out = {"paper": "H&S 1997 Table 1 (means of 30 trials): 3x2 lr 0.1 100 %, 21,730 strings; "
           "4x1 lr 0.1 100 %, 39,740; fastest 3x2 lr 0.5 100 %, 8,440",
           "recipe": "blocks sharing gates, gate-to-gate recurrence, logistic outputs and "
           "squared error, truncated gradient (RTRL), an update after every symbol, weights "
           "in [-0.2, 0.2], output-gate biases -1/-2/-3(/-4)", "trials": K,
           "targets": args.reber_paper_targets,
           "budget": f"{args.reber_paper_strings:,} strings a trial, checked every "
           f"{args.reber_check}", "settings": {}}  # fmt: skip
    for name, lr in args.reber_paper_settings:
        blocks, cells = LAYOUTS[name]
        keys = jax.random.split(jax.random.key(args.seed + 11), K)
        bias = [-1.0 - j for j in range(blocks)]
        params = jax.vmap(lambda k, b=blocks, c=cells, o=bias: init(k, 7, b, c, 7, 0.2,
                                                                     out_bias=o))(keys)  # fmt: skip

        @jax.jit
        def train(params, idx, blocks=blocks, cells=cells, lr=lr):  # idx (n, K)
            def one(p, i, k):
                return online_string(p, blocks, cells, lr, X[k, i], Y[k, i], N[k, i])

            def body(params, i):
                return jax.vmap(one)(params, i, jnp.asarray(which)), None

            return jax.lax.scan(body, params, idx)[0]

        @jax.jit
        def check(params, blocks=blocks, cells=cells):
            def one(p, k):
                outs = jax.vmap(lambda x: run(p, blocks, cells, x))(X[k])  # (512, T, 7)
                return top_k_right_masked(outs, M[k]).all()

            return jax.vmap(one)(params, jnp.asarray(which))

        t0, seen = time.perf_counter(), np.zeros(K, int)
        rng = np.random.default_rng([args.seed, 1997])
        for done in range(args.reber_check, args.reber_paper_strings + 1, args.reber_check):
            params = train(params, jnp.asarray(rng.integers(0, 256, (args.reber_check, K))))
            solved = np.asarray(check(params))
            seen = np.where((seen == 0) & solved, done, seen)
            print(f"reber-paper {name} lr {lr:g}: {done} strings, solved {(seen > 0).sum()}/{K}",
                  file=sys.stderr)  # fmt: skip
            if (seen > 0).all():
                break
        ok = seen[seen > 0]
        out["settings"][f"{name} lr {lr:g}"] = {
            "paper": PAPER.get((name, lr), ""), "solved": f"{len(ok)}/{K}",
            "mean_strings_to_solve": int(ok.mean()) if len(ok) else None,
            "strings_to_solve": [int(s) if s else None for s in seen],
            "weights": n_weights(jax.tree_util.tree_map(lambda a: a[0], params)),
            "minutes": round((time.perf_counter() - t0) / 60, 2),
        }  # fmt: skip
        emit(out)
    return out
