"""Long sequences: memory and time of one training step against T, with and without remat.

Step = forward + backward + SGD update of one LSTM layer through ``rnnlab.unroll``
(batch-first (B, T, D) input, loss mean(y^2)), at T = 1,000 / 10,000 / 100,000,
hidden 256, batch 32, input 65 by default. Each (T, remat) runs in a fresh process so
that its peak RSS is its own. Prints JSON, one row per configuration:

- ``temp_bytes``: XLA's planned scratch memory of the compiled step
  (``memory_analysis()``); ``beyond_io_bytes``: the same less what any method needs
  in proportion to T (the time-major copy of the inputs, the outputs and their
  gradient); with remat it grows like sqrt(T), without it like T;
- ``peak_rss_bytes``: the process's peak resident memory (inputs and JAX included);
- ``seconds_per_step``: median over ``--repeats`` steps after one warm-up step.

A configuration whose planned memory does not fit in the machine's available memory
is not run; its row says so. Target (issue 7): T = 10,000 under 2 GB peak with remat,
time linear in T.

    python bench/long.py [--T 1000 10000 100000] [--hidden 256] [--batch 32]
                         [--input 65] [--cell lstm] [--repeats 3] [--remat both|on|off]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time


def available_bytes() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 1 << 62


def one(args) -> dict:
    """One configuration, in this process."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    import rnnlab

    T, B, D, H = args.one, args.batch, args.input, args.hidden
    remat = args.remat == "on"
    cell = rnnlab.make_cell(args.cell, D, H, key=jax.random.key(0))
    params, static = eqx.partition(cell, eqx.is_inexact_array)

    def step(params, xs):
        def loss(p):
            ys, _ = rnnlab.unroll(eqx.combine(p, static), xs, remat=remat)
            return jnp.mean(ys**2)

        g = jax.grad(loss)(params)
        return jax.tree_util.tree_map(lambda p, g: p - 0.01 * g, params, g)

    xs_shape = jax.ShapeDtypeStruct((B, T, D), jnp.float32)
    compiled = jax.jit(step, donate_argnums=0).lower(params, xs_shape).compile()
    mem = compiled.memory_analysis()
    row = {
        "T": T,
        "remat": remat,
        "temp_bytes": int(mem.temp_size_in_bytes),
        "beyond_io_bytes": int(mem.temp_size_in_bytes) - 4 * T * B * (D + 2 * H),
        "argument_bytes": int(mem.argument_size_in_bytes),
    }
    planned = mem.temp_size_in_bytes + 2 * mem.argument_size_in_bytes
    if planned > 0.9 * available_bytes():
        row["skipped"] = (
            f"needs about {planned / 2**30:.1f} GiB, {available_bytes() / 2**30:.1f} GiB available"
        )
        return row
    xs = jax.random.normal(jax.random.key(1), (B, T, D))
    params = compiled(params, xs)  # warm-up
    jax.block_until_ready(params)
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        params = compiled(params, xs)
        jax.block_until_ready(params)
        times.append(time.perf_counter() - t0)
    times.sort()
    row["seconds_per_step"] = round(times[len(times) // 2], 4)
    row["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--T", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--input", type=int, default=65)
    ap.add_argument("--cell", default="lstm")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--remat", choices=["both", "on", "off"], default="both")
    ap.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")
    if args.one is not None:
        print(json.dumps(one(args)))
        return
    rows = []
    for T in args.T:
        for remat in ("off", "on") if args.remat == "both" else (args.remat,):
            cmd = [sys.executable, __file__, "--one", str(T), "--remat", remat]
            for flag in ("hidden", "batch", "input", "cell", "repeats"):
                cmd += [f"--{flag}", str(getattr(args, flag))]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
                rows.append({"T": T, "remat": remat == "on", "failed": tail[0]})
            else:
                rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), file=sys.stderr)  # progress
    import jax

    out = {
        "benchmark": f"long: one training step of {args.cell} through unroll, "
        f"H={args.hidden}, B={args.batch}, D={args.input}",
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "jax": jax.__version__,
        "machine": f"{platform.machine()} x{os.cpu_count()}",
        "rows": rows,
        "target_T10000_remat_under_2GB": next(
            (
                r["peak_rss_bytes"] < 2e9
                for r in rows
                if r["T"] == 10000 and r["remat"] and "peak_rss_bytes" in r
            ),
            None,
        ),
    }
    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
