"""Where a training step's time goes, read from XLA's own profile, against the matmul roofline.

Two steps, each the engine's compiled step on every local device (the sharded gradient
``_grad_step``, then the jitted update ``_update``, as ``fit`` runs them):

- ``charlm``: bench/charlm.py's model, embedding 64 -> LSTM 256 -> readout over the
  built-in corpus's 76 characters, next-character cross-entropy, the stream state carried,
  Adam 2e-3 after clipping at 5, batch 32 x 100 steps;
- ``lstm256``: bench/cells.py's step, ``rnnlab.RNN(lstm, 65, 256)``, loss mean(y^2), SGD.

Each program runs under ``jax.profiler``; the trace is read back (``ProfileData``) and every
event of XLA's CPU thunk executor is matched by name to its instruction in the compiled HLO:

- ``matmul``: dot and convolution instructions, and fusions that hold one;
- ``elementwise``: every other instruction of the gradient program (fusions, copies, slices);
- ``loop``: a ``while`` instruction's own time (its body's instructions taken out), also
  given per iteration;
- ``collectives``: all-reduce and its kin (it includes one device waiting for the other);
- ``executor``: the thunk executor's own time between instructions;
- ``optimizer``: the whole update program (clipping included).

Times are per device, scaled to the untraced median of each program. The roofline: the
step's matmul FLOPs (counted from the HLO's dot shapes times their loops' trip counts) at
the machine's matmul rate, measured in the same run as a 1024^3 matmul on every device at
once (``peak``), and at the step's own recurrent shape (``recurrent_shape``).

    python bench/profile_step.py [--repeats 10] [--steps charlm lstm256] [--out FILE]

Prints one JSON object (progress to stderr), with the machine's load average beside it.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import re
import sys
import tempfile
import time

import numpy as np

B, T = 32, 100
COLLECTIVES = ("all-reduce", "all-gather", "reduce-scatter", "all-to-all", "collective-permute")
_INSTR = re.compile(r"^\s*(?:ROOT\s+)?%?([\w.\-]+) = (.*?) ([a-z][\w\-]*)\((.*)$")


def parse_hlo(text):
    """``{name: (opcode, shape, operands, attributes, computation)}``, per computation its
    instructions, and the entry computation's name, from the text of a compiled module.
    Names are unique in a module except fused computations' parameters, which ``shapes``
    (keyed by computation and name) tells apart."""
    instrs, comps, shapes, comp, entry = {}, {}, {}, None, None
    for line in text.splitlines():
        if line.endswith("{") and not line.startswith(" "):  # a computation's header
            head = line.removeprefix("ENTRY ").split()[0]
            comp = head.lstrip("%")
            comps[comp] = []
            entry = comp if line.startswith("ENTRY") else entry
            continue
        m = _INSTR.match(line)
        if m and comp is not None:
            name, shape, op, rest = m.groups()
            operands = re.findall(r"%([\w.\-]+)", rest.split(")")[0])
            instrs[name] = (op, shape, operands, rest, comp)
            shapes[comp, name] = shape
            comps[comp].append(name)
    return instrs, comps, shapes, entry


def _called(rest, key):
    m = re.search(key + r"=%([\w.\-]+)", rest)
    return m.group(1) if m else None


def _dims(shape):
    m = re.match(r"\w+\[([\d,]*)\]", shape)
    return [int(d) for d in m.group(1).split(",") if d] if m else []


def hlo_facts(text):
    """Per instruction: its category; per ``while``: its trip count; and the module's
    matmul FLOPs (2 x output size x contracted size, times the trip counts around it)."""
    instrs, comps, shapes, entry = parse_hlo(text)
    has_dot = {
        c: any(instrs[n][0] in ("dot", "convolution") for n in ns) for c, ns in comps.items()
    }
    times, trips = {c: 0 for c in comps}, {}
    times[entry], todo = 1, [entry]
    while todo:  # propagate how often each computation runs
        c = todo.pop()
        for n in comps[c]:
            op, _, _, rest, _ = instrs[n]
            trip = 1
            if op == "while":
                m = re.search(r'"known_trip_count":\{"n":"(\d+)"', rest)
                trip = trips[n] = int(m.group(1)) if m else 1
            for key in ("calls", "body", "condition", "to_apply"):
                sub = _called(rest, key)
                if sub in comps and not times[sub]:
                    times[sub] = times[c] * (trip if key in ("body", "condition") else 1)
                    todo.append(sub)
    conditions = {_called(v[3], "condition") for v in instrs.values() if v[0] == "while"}
    category, flops = {}, 0
    for n, (op, shape, operands, rest, comp) in instrs.items():
        sub = _called(rest, "calls")
        if comp in conditions:  # a loop's test, run once per iteration
            category[n] = "loop"
        elif op in ("dot", "convolution") or (op == "fusion" and has_dot.get(sub)):
            category[n] = "matmul"
        elif op.startswith(COLLECTIVES):
            category[n] = "collectives"
        elif op == "while":
            category[n] = "loop"
        else:
            category[n] = "elementwise"
        if op == "dot":
            m = re.search(r"lhs_contracting_dims=\{([\d,]*)\}", rest)
            lhs = _dims(shapes[comp, operands[0]])
            k = np.prod([lhs[int(i)] for i in m.group(1).split(",") if i]) if m else 1
            flops += 2 * int(np.prod(_dims(shape))) * int(k) * times[comp]
    return category, trips, flops


def traced_events(fn, calls):
    """The thunk events of ``calls`` runs of ``fn``: ``[(name, start_ns, end_ns)]`` per
    thread line that ran XLA code."""
    import jax

    fn()
    with tempfile.TemporaryDirectory() as tmp:
        with jax.profiler.trace(tmp):
            for _ in range(calls):
                fn()
        (path,) = glob.glob(os.path.join(tmp, "**", "*.xplane.pb"), recursive=True)
        data = jax.profiler.ProfileData.from_file(path)
    lines = []
    for plane in data.planes:
        for line in plane.lines:
            ev = [(e.name, e.start_ns, e.start_ns + e.duration_ns) for e in line.events]
            if any(name == "ThunkExecutor::Execute" for name, _, _ in ev):
                lines.append(sorted(ev, key=lambda e: (e[1], -e[2])))
    return lines


def self_times(lines, category):
    """Nanoseconds by category, each instruction's own time (the instructions nested in it
    taken out); the executor's own time is ``executor``, or ``loop`` inside a ``while``
    (running its body once per iteration). Also how many times each ``while`` ran."""
    out = dict.fromkeys(("matmul", "elementwise", "loop", "collectives", "executor"), 0)
    runs = {}
    for events in lines:
        stack = []  # open frames: [name, start, end, timed, nested timed ns, parent frame]
        for name, start, end in events:
            while stack and stack[-1][2] <= start:
                _close(stack.pop(), out, category)
            base = name.removeprefix("end: ")
            timed = base in category or name == "ThunkExecutor::Execute"
            parent = next((f for f in reversed(stack) if f[3]), None)
            if timed and parent is not None:
                parent[4] += end - start
            if category.get(name) == "loop":
                runs[name] = runs.get(name, 0) + 1
            stack.append([base, start, end, timed, 0, parent])
        while stack:
            _close(stack.pop(), out, category)
    return out, runs


def _close(frame, out, category):
    base, start, end, timed, nested, parent = frame
    own = max(end - start - nested, 0)
    if base in category:
        out[category[base]] += own
    elif base == "ThunkExecutor::Execute":
        in_loop = parent is not None and category.get(parent[0]) == "loop"
        out["loop" if in_loop else "executor"] += own


def median_ms(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def matmul_rates(n_devices, H, repeats):
    """GFLOP/s of every device at once: a 1024^3 matmul each, and 100 dependent products
    of the recurrent shape (B / devices, H) x (H, 4H), as the step's loop does them."""
    import jax
    import jax.numpy as jnp
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    from rnnlab.engine import devices as dev

    mesh = dev.make_mesh(n_devices)
    spec = NamedSharding(mesh, P(dev.AXIS))
    rng = np.random.default_rng(0)

    def rate(f, args, flops):
        ms = median_ms(lambda: jax.block_until_ready(f(*args)), repeats)
        return round(flops / ms / 1e6, 1)

    n = 1024
    a = jax.device_put(rng.standard_normal((n_devices * n, n), np.float32), spec)
    w = jax.device_put(rng.standard_normal((n_devices * n, n), np.float32), spec)

    def per_device(f):
        return jax.jit(jax.shard_map(f, mesh=mesh, in_specs=P(dev.AXIS), out_specs=P(dev.AXIS)))

    big = per_device(lambda a, w: a @ w)
    b = B // n_devices
    h = jax.device_put(rng.standard_normal((n_devices * b, H), np.float32), spec)
    u = jax.device_put(0.05 * rng.standard_normal((n_devices * H, 4 * H), np.float32), spec)

    def chain(h, u):
        return jax.lax.fori_loop(0, T, lambda _, h: jnp.tanh(h @ u)[:, :H], h)

    small = per_device(chain)
    return {
        "peak": rate(big, (a, w), n_devices * 2 * n**3),
        "recurrent_shape": rate(small, (h, u), n_devices * T * 2 * b * H * 4 * H),
    }


def _programs(model, loss, optimizer, batch, carry, n_devices):
    """The engine's two programs on ``n_devices``: ``grad()`` and ``update()`` (each blocks
    until done), and the compiled gradient program's HLO text."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    from rnnlab.engine import devices as dev

    try:  # where issue 15's rewrite puts the compiled step
        from rnnlab.engine._step import _grad_step, _to_global, _update
    except ImportError:
        from rnnlab.engine.loop import _grad_step, _to_global, _update

    params, static = eqx.partition(model, eqx.is_array)
    mesh = dev.make_mesh(n_devices)
    replicated, sharded = NamedSharding(mesh, P()), NamedSharding(mesh, P(dev.AXIS))
    s = {
        "params": _to_global(params, replicated),
        "opt": _to_global(optimizer.init(params), replicated),
        "carry": None if carry is None else _to_global(carry, sharded),
    }
    batch = _to_global(batch, sharded)
    key, step = jax.random.key(1), jnp.asarray(0, jnp.int32)
    args = (loss, static, mesh, False)
    hlo = _grad_step.lower(*args, s["params"], s["carry"], batch, key, step).compile().as_text()

    def grad():
        _, s["grads"], s["carry"] = _grad_step(*args, s["params"], s["carry"], batch, key, step)
        jax.block_until_ready(s["grads"])

    def update():  # params and optimizer state are donated: keep the new ones
        s["params"], s["opt"] = _update(optimizer, s["grads"], s["params"], s["opt"])
        jax.block_until_ready(s["params"])

    grad()
    return grad, update, hlo


def charlm_step(n_devices, vocab):
    """bench/charlm.py's step; forward FLOPs per row and step: input projection, recurrence,
    readout (the backward pass does each twice: the embedding is trained)."""
    import jax

    from rnnlab.charlm import CharLM, lm_loss
    from rnnlab.engine import make_optimizer

    try:  # where issue 15's rewrite puts the configs
        from rnnlab.config import ModelConfig
    except ImportError:
        from rnnlab.charlm.config import ModelConfig

    E, H = 64, 256
    model = CharLM(vocab, ModelConfig(cell="lstm", hidden=H, embed=E), key=jax.random.key(0))
    ids = np.random.default_rng(1).integers(0, vocab, (B, T + 1)).astype(np.int32)
    programs = _programs(
        model,
        lm_loss(None),
        make_optimizer("adam", 2e-3, clip=5.0),
        (ids[:, :-1], ids[:, 1:]),
        model.init_state(B),
        n_devices,
    )
    return programs, 3 * 2 * B * T * (E * 4 * H + H * 4 * H + H * vocab)


def lstm_step(n_devices):
    """bench/cells.py's step; the input needs no gradient, so its projection's backward is
    one product (the weights'), the recurrence's two."""
    import jax
    import jax.numpy as jnp

    import rnnlab
    from rnnlab.engine import make_optimizer

    D, H = 65, 256

    def loss(model, batch, carry, keys):
        ys, _ = model(batch)  # (b, T, H)
        return jnp.sum(ys**2), ys.size, None

    model = rnnlab.RNN("lstm", D, H, key=jax.random.key(0))
    xs = np.random.default_rng(1).standard_normal((B, T, D), dtype=np.float32)
    programs = _programs(model, loss, make_optimizer("sgd", 0.01), xs, None, n_devices)
    return programs, 2 * B * T * (2 * D * 4 * H + 3 * H * 4 * H)


def profile(programs, analytic_flops, n_devices, rates, repeats, calls=3):
    grad, update, hlo = programs
    category, trips, flops = hlo_facts(hlo)
    grad_ms, update_ms = median_ms(grad, repeats), median_ms(update, repeats)
    ns, runs = self_times(traced_events(grad, calls), category)
    total = sum(ns.values())
    ms = {k: grad_ms * v / total for k, v in ns.items()}
    ms["optimizer"] = update_ms
    step_ms = grad_ms + update_ms
    iterations = sum(trips[w] * n for w, n in runs.items() if w in trips) / (n_devices * calls)
    per_device_peak = rates["peak"] / n_devices  # GFLOP/s
    floor_ms = flops / per_device_peak / 1e6
    return {
        "step_ms": round(step_ms, 2),
        "breakdown_ms": {k: round(v, 2) for k, v in ms.items()},
        "breakdown_fraction": {k: round(v / step_ms, 3) for k, v in ms.items()},
        "loop": {
            "while_iterations_per_step": iterations,
            "overhead_us_per_iteration": round(1e3 * ms["loop"] / max(iterations, 1), 2),
            "trip_counts": sorted(trips.values()),
        },
        "matmul_gflop_per_device": round(flops / 1e9, 3),
        "matmul_gflop_analytic_total": round(analytic_flops / 1e9, 3),
        "matmul_gflop_s_achieved": round(flops / ms["matmul"] / 1e6, 1),
        "matmul_fraction_of_peak": round(flops / ms["matmul"] / 1e6 / per_device_peak, 3),
        "roofline_ms": round(floor_ms, 2),
        "roofline_fraction": round(floor_ms / step_ms, 3),
        "traced_device_ms_per_call": round(total / 1e6 / (n_devices * calls), 2),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--steps", nargs="+", default=["charlm", "lstm256"])
    ap.add_argument("--vocab", type=int, default=76, help="the built-in corpus's characters")
    ap.add_argument("--out", help="also write the JSON here")
    args = ap.parse_args(argv)

    from rnnlab.engine import devices as dev

    dev.configure_host_devices()  # every core a JAX device, single-threaded Eigen
    import jax

    n = jax.local_device_count()
    load0 = os.getloadavg()
    rates = matmul_rates(n, 256, args.repeats)
    print(f"matmul GFLOP/s {rates}", file=sys.stderr)
    result = {
        "machine": {
            "processor": platform.processor() or platform.machine(),
            "devices": n,
            "jax": jax.__version__,
            "matmul_gflop_s": rates,
        },
        "steps": {},
    }
    for name in args.steps:
        programs, flops = charlm_step(n, args.vocab) if name == "charlm" else lstm_step(n)
        result["steps"][name] = profile(programs, flops, n, rates, args.repeats)
        print(f"{name}: {json.dumps(result['steps'][name])}", file=sys.stderr)
    result["load_average"] = {"start": round(load0[0], 2), "end": round(os.getloadavg()[0], 2)}
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
