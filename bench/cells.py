"""The training step of every rnnlab cell, through the engine, against its torch twin.

Step = forward + backward + update, batch B = 32, T = 100, input 65, loss = mean(y^2)
of rnnlab.RNN(cell, 65, H), at hidden 64 and 256. Three timings per cell and size
(milliseconds, median of repeats after warm-up, the three taking turns):

- ``engine``: exactly the engine's compiled step (``rnnlab.engine.loop``): the
  sharded gradient (``shard_map`` over every local device, ``psum``) then the
  separate jitted SGD update, the default placement of ``fit``;
- ``unroll_1dev``: ``jit`` of grad + SGD of the same model on one device, no
  ``shard_map`` (what :func:`rnnlab.unroll` costs on its own);
- ``reference``: torch's fused twin (``elman`` <-> ``nn.RNN`` tanh, ``lstm`` <->
  ``nn.LSTM``, ``gru`` <-> ``nn.GRU``; ``nn.LSTM`` for the cells without one),
  forward, backward, SGD, with torch's default threads.

Targets: engine <= 1.0x the reference at H 64 and <= 0.8x at H 256; unroll on one
device <= 1.5x. Two more sections: ``crossover`` (the engine's lstm step
on 1 device against all devices at small H: where one device wins, as for the hello
toy, the engine may choose it) and ``placement`` (lstm with Adam: the update in its
own jit, the default, against ``Settings.fuse_update``, inside the sharded step's jit).

    python bench/cells.py [--repeats 20] [--sizes 64 256] [--cells lstm gru ...]
    python bench/cells.py --quick        # a smoke run: few repeats, H 64, three cells

Prints one JSON object, with the cores that other processes kept busy during each
section and row (``clean`` is false when any section had more than 0.2: run it on an
idle machine); progress goes to stderr. The batch is placed on
the devices once, outside the timing (torch does not move its batch either).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import jax.numpy as jnp

B, T, D = 32, 100, 65
TWINS = {"elman": "RNN", "lstm": "LSTM", "gru": "GRU"}
ENGINE_TARGET = {64: 1.0, 256: 0.8}  # max engine / reference, by hidden size
UNROLL_TARGET = 1.5
CLEAN = 0.2  # most cores of other work during a section for its numbers to count


def loss(model, batch, carry, keys):
    """The engine's loss protocol: summed y^2 over this shard's rows, its count, no carry."""
    ys, _ = model(batch)  # (b, T, H)
    return jnp.sum(ys**2), ys.size, None


def timeit(fns, repeats, blocks=5, warmup=3):
    """Median milliseconds of each ``fns[name]()`` (each blocks until its results are ready).

    The contenders run in turns, ``blocks`` blocks of ``repeats / blocks`` calls each
    (after one untimed call), so that slow spells of a shared machine fall on all of
    them alike and every ratio compares like with like.
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    per_block = max(1, -(-repeats // blocks))
    for _ in range(blocks):
        for name, fn in fns.items():
            fn()  # re-warm caches after the other contenders
            for _ in range(per_block):
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    return {name: 1e3 * sorted(t)[len(t) // 2] for name, t in times.items()}


class OtherLoad:
    """Cores kept busy by other processes while a section ran (Linux ``/proc/stat``).

    Oversubscription slows torch's two OpenMP threads far more than single-threaded
    XLA devices (a 10 ms nn.LSTM step took seconds under a load of 11 on 2 cores), so
    a section with more than a few tenths of a core of other work is not a clean number.
    """

    def __enter__(self):
        self.start, self.cores = _cpu_seconds(), None
        return self

    def __exit__(self, *exc):
        end = _cpu_seconds()
        if self.start is not None and end is not None:
            busy, mine, wall = (e - s for e, s in zip(end, self.start, strict=True))
            self.cores = round(max(busy - mine, 0.0) / wall, 2)


def _cpu_seconds():
    """(busy CPU seconds of the machine, CPU seconds of this process, wall seconds)."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:9]]  # user .. steal
    except (OSError, ValueError):
        return None
    busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # minus idle, iowait
    t = os.times()
    return busy, t.user + t.system, time.perf_counter()


def inputs():
    import numpy as np

    return np.random.default_rng(1).standard_normal((B, T, D), dtype=np.float32)


def engine_step(cell, H, n_devices, optimizer, fused=False):
    """One call: the engine's step (``_grad_step`` + ``_update``, or ``_fused_step``) on a mesh."""
    import equinox as eqx
    import jax
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    import rnnlab
    from rnnlab.engine import devices as dev
    from rnnlab.engine._step import _fused_step, _grad_step, _to_global, _update

    model = rnnlab.RNN(cell, D, H, key=jax.random.key(0))
    params, static = eqx.partition(model, eqx.is_array)
    mesh = dev.make_mesh(n_devices)
    replicated, sharded = NamedSharding(mesh, P()), NamedSharding(mesh, P(dev.AXIS))
    state = {
        "params": _to_global(params, replicated),
        "opt": _to_global(optimizer.init(params), replicated),
    }
    batch = _to_global(inputs(), sharded)
    base_key, step = jax.random.key(1), jnp.asarray(0, jnp.int32)

    def run():
        p, o = state["params"], state["opt"]  # donated below: keep only the new ones
        if fused:
            _, p, o, _ = _fused_step(
                loss, static, mesh, False, optimizer, p, o, None, batch, base_key, step
            )
        else:
            _, grads, _ = _grad_step(loss, static, mesh, False, p, None, batch, base_key, step)
            p, o = _update(optimizer, grads, p, o)
        state["params"], state["opt"] = jax.block_until_ready((p, o))

    return run


def unroll_step(cell, H):
    """One call: jit(grad + SGD) of rnnlab.RNN on one device, without the engine's shard_map."""
    import equinox as eqx
    import jax

    import rnnlab

    model = rnnlab.RNN(cell, D, H, key=jax.random.key(0))
    params, static = eqx.partition(model, eqx.is_array)
    xs = jnp.asarray(inputs())

    @jax.jit
    def step(params, xs):
        def mean_loss(p):
            total, count, _ = loss(eqx.combine(p, static), xs, None, None)
            return total / count

        grads = jax.grad(mean_loss)(params)
        return jax.tree_util.tree_map(lambda p, g: p - 0.01 * g, params, grads)

    state = {"params": params}

    def run():
        state["params"] = jax.block_until_ready(step(state["params"], xs))

    return run


def torch_step(kind, H):
    """One call: torch's fused ``nn.RNN`` (tanh), ``nn.LSTM`` or ``nn.GRU``; fwd, bwd, SGD."""
    import torch

    torch.manual_seed(0)
    x = torch.from_numpy(inputs())
    extra = {"nonlinearity": "tanh"} if kind == "RNN" else {}
    model = getattr(torch.nn, kind)(D, H, batch_first=True, **extra)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)

    def run():
        opt.zero_grad()
        model(x)[0].pow(2).mean().backward()
        opt.step()

    return run


def cell_table(cells, sizes, n_all, repeats):
    """Per hidden size and cell: engine, unroll and reference times, ratios, targets."""
    from rnnlab.engine import make_optimizer

    sgd = make_optimizer("sgd", 0.01)
    table = {}
    for H in sizes:
        row = {}
        for cell in cells:
            kind = TWINS.get(cell, "LSTM")
            fns = {
                "ref": torch_step(kind, H),
                "eng": engine_step(cell, H, n_all, sgd),
                "one": unroll_step(cell, H),
            }
            with OtherLoad() as other:
                ms = timeit(fns, repeats)
            ref, eng, one = ms["ref"], ms["eng"], ms["one"]
            target = ENGINE_TARGET.get(H)
            row[cell] = {
                "reference": f"nn.{kind}",
                "reference_ms": round(ref, 2),
                "engine_ms": round(eng, 2),
                "unroll_1dev_ms": round(one, 2),
                "engine_ratio": round(eng / ref, 3),
                "unroll_ratio": round(one / ref, 3),
                "engine_target": target,
                "engine_met": None if target is None else eng / ref <= target,
                "unroll_met": one / ref <= UNROLL_TARGET,
                "other_processes_cores": other.cores,
            }
            print(f"H {H} {cell}: {row[cell]}", file=sys.stderr, flush=True)
        table[f"hidden_{H}"] = row
    return table


def crossover(sizes, n_all, repeats, cell="lstm"):
    """The engine's step on 1 device against ``n_all`` devices at small hidden sizes."""
    from rnnlab.engine import make_optimizer

    sgd = make_optimizer("sgd", 0.01)
    rows, wins_from = {}, None
    for H in sizes:
        fns = {"one": engine_step(cell, H, 1, sgd), "every": engine_step(cell, H, n_all, sgd)}
        one, every = timeit(fns, repeats).values()
        faster = "all" if every < one else "one"
        rows[f"hidden_{H}"] = {
            "one_device_ms": round(one, 2),
            f"{n_all}_devices_ms": round(every, 2),
            "faster": faster,
        }
        if faster == "all" and wins_from is None:
            wins_from = H
        elif faster == "one":
            wins_from = None  # the crossover is above this size
        print(f"crossover H {H}: {rows[f'hidden_{H}']}", file=sys.stderr, flush=True)
    return {"cell": cell, "rows": rows, "all_devices_faster_from_hidden": wins_from}


def placement(sizes, n_all, repeats, cell="lstm"):
    """Adam's update in its own jit (the engine's default) or fused into the sharded step."""
    from rnnlab.engine import make_optimizer

    adam = make_optimizer("adam", 2e-3)
    out = {}
    for H in sizes:
        fns = {
            "separate": engine_step(cell, H, n_all, adam, fused=False),
            "fused": engine_step(cell, H, n_all, adam, fused=True),
        }
        separate, fused = timeit(fns, repeats).values()
        out[f"hidden_{H}"] = {
            "separate_ms": round(separate, 2),
            "fused_ms": round(fused, 2),
            "fused_minus_separate_ms": round(fused - separate, 2),
            "faster": "fused" if fused < separate else "separate",
        }
        print(f"placement H {H}: {out[f'hidden_{H}']}", file=sys.stderr, flush=True)
    return {"cell": cell, "optimizer": "adam", "devices": n_all, "rows": out}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, help="default 20 (--quick: 3)")
    ap.add_argument("--sizes", type=int, nargs="+", help="default 64 256 (--quick: 64)")
    ap.add_argument("--cells", nargs="+", help="default: every cell (--quick: elman lstm gru)")
    ap.add_argument(
        "--crossover-sizes", type=int, nargs="*", help="default 8 16 32 64 (--quick: 16)"
    )
    ap.add_argument("--placement-sizes", type=int, nargs="*", help="default 256 (--quick: 64)")
    ap.add_argument("--quick", action="store_true", help="a smoke run; explicit flags still win")
    args = ap.parse_args(argv)
    defaults = {
        "repeats": (20, 3),
        "sizes": ([64, 256], [64]),
        "cells": (None, ["elman", "lstm", "gru"]),
        "crossover_sizes": ([8, 16, 32, 64], [16]),
        "placement_sizes": ([256], [64]),
    }
    for name, (full, quick) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)

    from rnnlab.engine import devices as dev

    dev.configure_host_devices()  # before any JAX computation: one device per core
    import jax
    import torch

    import rnnlab

    cells = args.cells or list(rnnlab.CELLS)
    unknown = sorted(set(cells) - set(rnnlab.CELLS))
    if unknown:
        ap.error(f"unknown cells {unknown}; choose from {list(rnnlab.CELLS)}")
    n_all = dev.choose_devices(B)
    load = {}
    with OtherLoad() as other:
        table = cell_table(cells, args.sizes, n_all, args.repeats)
    load["cells"] = other.cores
    missed = [
        f"{cell}@{size}:{what}"
        for size, row in table.items()
        for cell, r in row.items()
        for what in ("engine", "unroll")
        if r[f"{what}_met"] is False
    ]
    out = {
        "benchmark": "one training step (fwd+bwd+update), B=32, T=100, D=65, loss mean(y^2)",
        "devices": n_all,
        "jax": jax.__version__,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "machine": f"{platform.machine()} x{dev.cpu_cores()}",
        "repeats": args.repeats,
        "other_processes_cores": load,  # near 0 for clean numbers (see OtherLoad)
        "targets": {
            "engine_vs_reference": {f"hidden_{h}": t for h, t in ENGINE_TARGET.items()},
            "unroll_1dev_vs_reference": UNROLL_TARGET,
        },
        "cells": table,
        "all_targets_met": not missed,
        "missed": missed,
    }
    if args.crossover_sizes:
        with OtherLoad() as other:
            out["crossover"] = crossover(args.crossover_sizes, n_all, args.repeats)
        load["crossover"] = other.cores
    if args.placement_sizes:
        with OtherLoad() as other:
            out["placement"] = placement(args.placement_sizes, n_all, args.repeats)
        load["placement"] = other.cores
    out["clean"] = all(c is not None and c <= CLEAN for c in load.values())
    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
