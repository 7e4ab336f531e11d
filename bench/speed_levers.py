"""Issue 21's speed levers, each timed against the same step without it, in one run.

- ``matmul``: a 1024^3 matmul in float32 against bfloat16 inputs (float32 accumulation),
  one device: whether ``--precision bf16`` could pay on this processor at all;
- ``peephole``: the engine's step of ``rnnlab.RNN(peephole, 65, H)`` (bench/cells.py's
  step: B 32, T 100, loss mean(y^2), SGD) with the gates i, f, g in one tanh pass
  (``OnePass`` below, a lever tried and dropped: it lost) against the cell as it is,
  gate by gate;
- ``charlm``: the engine's step of bench/charlm.py's model (embedding 64 -> LSTM 256 ->
  readout over 76 characters, Adam after clipping at 5, batch 32 x 100, state carried)
  with the levers kept (``kept``: the input projection gathered per token, the arrays
  around the loop time-major) against ``kept`` minus one of them, ``kept`` plus one of
  those tried and dropped (one flat all-reduce of the gradients; the readout's
  cross-entropy fused with its gradient, ``fused_readout`` below), and ``none`` (the
  step before issue 21).

Times are medians in milliseconds, the contenders of a section taking turns (bench/cells.py's
``timeit``); a lever's ratio is the time with it over the time without it (< 1: it wins).

    python bench/speed_levers.py [--repeats 10] [--sections matmul peephole charlm]

Prints one JSON object (progress to stderr), with the cores other processes kept busy.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cells import OtherLoad, engine_step, timeit  # noqa: E402

B, T, E, H, VOCAB = 32, 100, 64, 256, 76


def matmul(repeats):
    import jax
    import jax.numpy as jnp

    n = 1024
    rng = np.random.default_rng(0)
    a, w = (jnp.asarray(rng.standard_normal((n, n), np.float32)) for _ in range(2))
    a16, w16 = a.astype(jnp.bfloat16), w.astype(jnp.bfloat16)
    f32 = jax.jit(lambda a, w: a @ w)
    bf16 = jax.jit(lambda a, w: jnp.dot(a, w, preferred_element_type=jnp.float32))
    ms = timeit(
        {
            "float32": lambda: jax.block_until_ready(f32(a, w)),
            "bfloat16": lambda: jax.block_until_ready(bf16(a16, w16)),
        },
        repeats,
    )
    gflop = {k: round(2 * n**3 / v / 1e6, 1) for k, v in ms.items()}
    return {
        "ms": {k: round(v, 2) for k, v in ms.items()},
        "gflop_s": gflop,
        "ratio": round(ms["bfloat16"] / ms["float32"], 3),
    }


def one_pass():
    """The peephole cell with i, f and g activated in one tanh pass over their three
    blocks (``rnnlab.cells.gates``), their peephole terms added first; o after c."""
    import jax.numpy as jnp

    import rnnlab
    from rnnlab.cells.lstm import gates, sigmoid, tanh  # the cells' own activations

    class OnePass(rnnlab.PeepholeLSTMCell):
        def pointwise(self, state, xp, hp):
            h, c_prev = state
            a, H = xp + hp, self.hidden_size  # (4H,)
            peeps = jnp.concatenate([self.peephole_i, self.peephole_f, jnp.zeros(H)])
            a_ifg = a[: 3 * H] + peeps * jnp.tile(c_prev, 3)  # (3H,)
            i, f, g = gates(a_ifg, i=sigmoid, f=sigmoid, g=tanh)
            c = f * c_prev + i * g
            o = sigmoid(a[3 * H :] + self.peephole_o * c)
            h = o * tanh(c)
            return (h, c), h, {"h": h, "c": c, "i": i, "f": f, "g": g, "o": o}

    return OnePass


def peephole(sizes, n_devices, repeats):
    from rnnlab.engine import make_optimizer

    sgd = make_optimizer("sgd", 0.01)
    out = {}
    for h in sizes:
        fns = {
            "one_pass": engine_step(one_pass(), h, n_devices, sgd),
            "gate_by_gate": engine_step("peephole", h, n_devices, sgd),
        }
        with OtherLoad() as other:
            ms = timeit(fns, repeats)
        out[f"hidden_{h}"] = {
            "ms": {k: round(v, 2) for k, v in ms.items()},
            "ratio": round(ms["one_pass"] / ms["gate_by_gate"], 3),
            "other_processes_cores": other.cores,
        }
        print(f"peephole H {h}: {out[f'hidden_{h}']}", file=sys.stderr, flush=True)
    return out


def fused_readout():
    """``readout_nll(hs, W, b, y)``: the readout's cross-entropy fused with its gradient
    (a ``jax.custom_vjp``), a lever tried and dropped (it lost)."""
    import jax
    import jax.numpy as jnp

    def readout_nll(hs, W, b, y):
        """The next-character cross-entropy of the readout ``logits = hs W^T + b``, fused with
        its gradient: ``nll = logsumexp(logits) - logits[y]`` for ``hs`` (..., O), ``W`` (V, O),
        ``b`` (V,) and labels ``y`` (...). Returns ``nll`` (...).

        The forward pass keeps the probabilities ``p = softmax(logits)`` it computes anyway;
        the backward pass is then ``d logits = g (p - onehot(y))`` with no second softmax,
        and ``dhs = d W``, ``dW = d^T hs``, ``db = sum d``.
        """
        lead = y.shape
        nll = _readout_nll(hs.reshape(-1, hs.shape[-1]), W, b, y.reshape(-1))  # (N,)
        return nll.reshape(lead)

    @jax.custom_vjp
    def _readout_nll(hs, W, b, y):
        return _readout_fwd(hs, W, b, y)[0]

    def _readout_fwd(hs, W, b, y):
        logits = hs @ W.T + b  # (N, V)
        z = logits - jax.lax.stop_gradient(logits.max(axis=-1, keepdims=True))
        e = jnp.exp(z)
        s = e.sum(axis=-1, keepdims=True)  # (N, 1)
        picked = jnp.take_along_axis(z, y[:, None], axis=-1)  # (N, 1)
        nll = (jnp.log(s) - picked)[:, 0]  # (N,)
        return nll, (hs, W, e / s, y)

    def _readout_bwd(res, g):
        hs, W, p, y = res  # p: (N, V)
        d = g[:, None] * (p - jax.nn.one_hot(y, p.shape[-1], dtype=p.dtype))  # (N, V)
        dW = (hs.T @ d).T  # (V, O); hs^T d, then transposed: the row-major product
        return d @ W, dW, d.sum(axis=0), None

    _readout_nll.defvjp(_readout_fwd, _readout_bwd)

    return readout_nll


def charlm_loss(gather, fused, time_major):
    """The char model's summed loss, with or without each lever: the gathered input,
    the fused readout, time-major arrays outside the loop (no (B, T) <-> (T, B) copies)."""
    import jax.numpy as jnp
    import optax

    readout_nll = fused_readout()

    def loss(model, batch, carry, keys):
        x, y = batch
        if gather and time_major:
            hs, carry = model.features(x, carry)  # gathered time-major
        elif gather:  # gathered batch-major: unroll copies it to time-major
            table = model.embedding @ model.rnn.cells[0][0].weight_ih.T  # (V, G)
            hs, carry = model.rnn(table[x], carry, projected=True)
        else:
            hs, carry = model.rnn(model.embedding[x], carry)  # (b, T, O)
        if time_major:  # the readout on (T, b, O): this swap cancels unroll's
            hs, y = jnp.swapaxes(hs, 0, 1), y.T
        if fused:
            nll = readout_nll(hs, model.readout_weight, model.readout_bias, y)
        else:
            logits = hs @ model.readout_weight.T + model.readout_bias
            nll = optax.softmax_cross_entropy_with_integer_labels(logits, y)
        return nll.sum(), y.size, carry

    return loss


def charlm_step(n_devices, gather, fused, flat, time_major):
    """One call: the engine's char-model step (sharded gradient, then Adam)."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    from rnnlab.charlm import CharLM
    from rnnlab.config import ModelConfig
    from rnnlab.engine import devices as dev
    from rnnlab.engine import make_optimizer
    from rnnlab.engine._step import _grad_step, _to_global, _update

    model = CharLM(VOCAB, ModelConfig(cell="lstm", hidden=H, embed=E), key=jax.random.key(0))
    optimizer = make_optimizer("adam", 2e-3, clip=5.0)
    params, static = eqx.partition(model, eqx.is_array)
    mesh = dev.make_mesh(n_devices)
    replicated, sharded = NamedSharding(mesh, P()), NamedSharding(mesh, P(dev.AXIS))
    ids = np.random.default_rng(1).integers(0, VOCAB, (B, T + 1)).astype(np.int32)
    s = {
        "params": _to_global(params, replicated),
        "opt": _to_global(optimizer.init(params), replicated),
        "carry": _to_global(model.init_state(B), sharded),
    }
    batch = _to_global((ids[:, :-1], ids[:, 1:]), sharded)
    key, step = jax.random.key(1), jnp.asarray(0, jnp.int32)
    loss = charlm_loss(gather, fused, time_major)

    def run():
        _, grads, s["carry"] = _grad_step(
            loss, static, mesh, False, s["params"], s["carry"], batch, key, step, flat=flat
        )
        s["params"], s["opt"] = _update(optimizer, grads, s["params"], s["opt"])
        jax.block_until_ready(s["params"])

    return run


def charlm(n_devices, repeats):
    kept = {"gather": True, "time_major": True, "flat": False, "fused": False}
    contenders = {"kept": kept, "none": dict.fromkeys(kept, False)}
    for lever, on in kept.items():
        contenders[f"{'without' if on else 'with'}_{lever}"] = kept | {lever: not on}
    fns = {name: charlm_step(n_devices, **on) for name, on in contenders.items()}
    with OtherLoad() as other:
        ms = timeit(fns, repeats)
    ratio = {  # time with the lever over time without it
        k: round(ms["kept"] / ms[f"without_{k}"] if on else ms[f"with_{k}"] / ms["kept"], 3)
        for k, on in kept.items()
    }
    out = {
        "levers_kept": [k for k, on in kept.items() if on],
        "ms": {k: round(v, 2) for k, v in ms.items()},
        "ratio_lever": ratio,
        "ratio_kept_vs_none": round(ms["kept"] / ms["none"], 3),
        "chars_per_s": {k: round(B * T / v * 1e3) for k, v in ms.items()},
        "other_processes_cores": other.cores,
    }
    print(f"charlm: {out}", file=sys.stderr, flush=True)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--sections", nargs="+", default=["matmul", "peephole", "charlm"])
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 256], help="peephole's H")
    args = ap.parse_args(argv)

    from rnnlab.engine import devices as dev

    dev.configure_host_devices()  # before any JAX computation: one device per core
    import jax

    n = dev.choose_devices(B)
    out = {
        "devices": n,
        "jax": jax.__version__,
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "repeats": args.repeats,
    }
    if "matmul" in args.sections:
        with OtherLoad() as other:
            out["matmul_1024"] = matmul(args.repeats)
        out["matmul_1024"]["other_processes_cores"] = other.cores
        print(f"matmul: {out['matmul_1024']}", file=sys.stderr, flush=True)
    if "peephole" in args.sections:
        out["peephole"] = peephole(args.sizes, n, args.repeats)
    if "charlm" in args.sections:
        out["charlm"] = charlm(n, args.repeats)
    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
