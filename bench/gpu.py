"""The LSTM and peephole-LSTM training step on a GPU: rnnlab against cuDNN and torch eager.

Step = forward + backward + SGD of one recurrent layer over T = 100 steps, input 65,
loss mean(y^2), at batch 16 / 64 / 256 and hidden 256 / 1024. Timings in
milliseconds per step, the median of ``--repeats`` after warm-up, every step
synchronised (``block_until_ready``, ``torch.cuda.synchronize``):

- ``rnnlab_lstm``, ``rnnlab_peephole``: ``jit`` of grad + SGD of
  ``rnnlab.RNN("lstm" | "peephole", 65, H)``, parameters donated;
- ``cudnn_lstm``: ``torch.nn.LSTM`` on CUDA, cuDNN's fused kernel (it has no peephole
  form: it is the bar a custom cell has to reach);
- ``torch_eager_lstm``, ``torch_eager_peephole``: the same cells written as a Python
  loop over time in eager torch, what a torch user writes for a cell that
  ``nn.LSTM`` lacks (input projection hoisted out of the loop, as cuDNN and rnnlab
  do). Before timing, the eager loop is checked to compute what rnnlab's cell does.

Ratios are rnnlab / reference (below 1: rnnlab is faster). ``--precision tf32``
(default) lets all three use TF32 tensor cores for float32 matmuls (JAX's and
cuDNN's default; torch's matmul flag is switched on to match); ``float32`` forbids
it everywhere.

It runs from the source tree beside the machine's own CUDA builds of JAX and torch,
without installing rnnlab (it needs ``equinox`` too):

    PYTHONPATH=src python bench/gpu.py [--sizes 256 1024] [--batches 16 64 256]
    PYTHONPATH=src python bench/gpu.py --device cpu --sizes 8 --batches 2 --repeats 1

Prints one JSON object; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import sys
import time

import numpy as np

T, D, LR = 100, 65, 0.01


def fail(message: str) -> None:
    print(f"bench/gpu.py: {message}", file=sys.stderr)
    sys.exit(2)


def inputs(batch: int) -> np.ndarray:
    return np.random.default_rng(1).standard_normal((batch, T, D), dtype=np.float32)


def median_ms(step, sync, repeats: int, warmup: int) -> float:
    """Median milliseconds of ``step(); sync()``."""
    for _ in range(warmup):
        step()
        sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


# ---- rnnlab (JAX) ----------------------------------------------------------------


def rnnlab_ms(cell, batch, hidden, device, repeats, warmup):
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    import rnnlab

    model = rnnlab.RNN(cell, D, hidden, key=jax.random.key(0))
    params, static = eqx.partition(model, eqx.is_array)
    params = jax.device_put(params, device)
    xs = jax.device_put(inputs(batch), device)  # (B, T, D), placed once, outside the timing

    @functools.partial(jax.jit, donate_argnums=0)
    def step(params, xs):
        def loss(p):
            ys, _ = eqx.combine(p, static)(xs)  # (B, T, H)
            return jnp.mean(ys**2)

        grads = jax.grad(loss)(params)
        return jax.tree_util.tree_map(lambda p, g: p - LR * g, params, grads)

    state = {"params": params}

    def run():
        state["params"] = step(state["params"], xs)

    return median_ms(run, lambda: jax.block_until_ready(state["params"]), repeats, warmup)


# ---- torch -------------------------------------------------------------------------


def eager_lstm(hidden, peephole):
    """An LSTM (with peepholes: Gers & Schmidhuber 2000) as a Python loop over time."""
    import torch

    class EagerLSTM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            k = hidden**-0.5
            u = lambda *shape: torch.nn.Parameter(torch.empty(*shape).uniform_(-k, k))
            self.weight_ih, self.weight_hh = u(4 * hidden, D), u(4 * hidden, hidden)
            self.bias_ih, self.bias_hh = u(4 * hidden), u(4 * hidden)
            if peephole:
                self.peephole_i, self.peephole_f, self.peephole_o = (u(hidden) for _ in "ifo")

        def forward(self, x):  # (B, T, D) -> (B, T, H)
            xp = torch.nn.functional.linear(x, self.weight_ih, self.bias_ih + self.bias_hh)
            h = c = x.new_zeros(x.shape[0], hidden)
            ys = []
            for t in range(x.shape[1]):
                a = xp[:, t] + h @ self.weight_hh.T  # (B, 4H), gates i, f, g, o
                a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
                if peephole:
                    a_i, a_f = a_i + self.peephole_i * c, a_f + self.peephole_f * c
                i, f, g = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_g)
                c = f * c + i * g
                o = torch.sigmoid(a_o + self.peephole_o * c if peephole else a_o)
                h = o * torch.tanh(c)
                ys.append(h)
            return torch.stack(ys, dim=1)

    return EagerLSTM()


def torch_ms(kind, batch, hidden, device, repeats, warmup):
    """``kind``: "cudnn" (nn.LSTM), "eager_lstm" or "eager_peephole"."""
    import torch

    torch.manual_seed(0)
    if kind == "cudnn":
        lstm = torch.nn.LSTM(D, hidden, batch_first=True).to(device)
        model = lambda x: lstm(x)[0]
        params = list(lstm.parameters())
    else:
        module = eager_lstm(hidden, peephole=kind == "eager_peephole").to(device)
        model, params = module, list(module.parameters())
    opt = torch.optim.SGD(params, lr=LR)
    x = torch.from_numpy(inputs(batch)).to(device)

    def run():
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()

    sync = torch.cuda.synchronize if device.type == "cuda" else lambda: None
    return median_ms(run, sync, repeats, warmup)


def check_eager_loop(peephole: bool) -> float:
    """max |eager loop - rnnlab| of the outputs on CPU, same weights, tiny sizes."""
    import jax
    import torch

    import rnnlab

    H, B = 8, 3
    xs = inputs(B)[:, :7]  # (B, 7, D)
    with jax.default_device(jax.devices("cpu")[0]):
        layer = rnnlab.RNN("peephole" if peephole else "lstm", D, H, key=jax.random.key(1))
        ours = np.asarray(layer(jax.numpy.asarray(xs))[0])  # (B, 7, H)
    cell = layer.cells[0][0]
    module = eager_lstm(H, peephole)
    with torch.no_grad():
        for name, _ in module.named_parameters():
            getattr(module, name).copy_(torch.from_numpy(np.array(getattr(cell, name))))
        theirs = module(torch.from_numpy(xs)).numpy()
    return float(np.abs(ours - theirs).max())


# ---- main --------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", choices=("gpu", "cpu"), default="gpu")
    ap.add_argument("--batches", type=int, nargs="+", default=[16, 64, 256])
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 1024], help="hidden sizes")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--precision", choices=("tf32", "float32"), default="tf32")
    args = ap.parse_args(argv)

    try:
        import equinox  # noqa: F401
        import jax
        import torch
    except ImportError as err:
        fail(f"needs jax, torch and equinox ({err}); e.g. pip install equinox==0.13.8")
    try:
        import rnnlab
    except ImportError as err:
        fail(f"cannot import rnnlab ({err}); run from the repository with PYTHONPATH=src")

    if args.device == "gpu":
        try:
            jax_device = jax.devices("gpu")[0]
        except RuntimeError:
            fail(
                "JAX sees no GPU (a CUDA build of jaxlib is needed); use --device cpu to smoke-test"
            )
        if not torch.cuda.is_available():
            fail("torch sees no CUDA device (a CUDA build of torch is needed)")
        torch_device = torch.device("cuda")
    else:
        jax_device, torch_device = jax.devices("cpu")[0], torch.device("cpu")
    tf32 = args.precision == "tf32"
    jax.config.update("jax_default_matmul_precision", "default" if tf32 else "highest")
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32

    checks = {
        "eager_lstm_max_abs_diff": check_eager_loop(peephole=False),
        "eager_peephole_max_abs_diff": check_eager_loop(peephole=True),
    }
    if max(checks.values()) > 1e-4:
        fail(f"the eager torch loop does not compute rnnlab's cell: {checks}")

    timing = {"repeats": args.repeats, "warmup": args.warmup}
    rows = {}
    for H in args.sizes:
        for B in args.batches:
            ms = {
                "rnnlab_lstm": rnnlab_ms("lstm", B, H, jax_device, **timing),
                "rnnlab_peephole": rnnlab_ms("peephole", B, H, jax_device, **timing),
                "cudnn_lstm": torch_ms("cudnn", B, H, torch_device, **timing),
                "torch_eager_lstm": torch_ms("eager_lstm", B, H, torch_device, **timing),
                "torch_eager_peephole": torch_ms("eager_peephole", B, H, torch_device, **timing),
            }
            row = {f"{k}_ms": round(v, 3) for k, v in ms.items()}
            row["ratio_lstm_vs_cudnn"] = round(ms["rnnlab_lstm"] / ms["cudnn_lstm"], 3)
            row["ratio_peephole_vs_cudnn"] = round(ms["rnnlab_peephole"] / ms["cudnn_lstm"], 3)
            row["ratio_lstm_vs_eager"] = round(ms["rnnlab_lstm"] / ms["torch_eager_lstm"], 3)
            row["ratio_peephole_vs_eager"] = round(
                ms["rnnlab_peephole"] / ms["torch_eager_peephole"], 3
            )
            rows[f"B{B}_H{H}"] = row
            print(f"B {B} H {H}: {row}", file=sys.stderr, flush=True)

    cuda = torch_device.type == "cuda"
    out = {
        "benchmark": f"one training step (fwd+bwd+SGD), T={T}, D={D}, loss mean(y^2)",
        "device": {
            "jax": str(jax_device.device_kind),
            "torch": torch.cuda.get_device_name() if cuda else platform.processor() or "cpu",
        },
        "versions": {
            "jax": jax.__version__,
            "torch": torch.__version__,
            "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version() if cuda else None,
            "rnnlab": rnnlab.__version__,
        },
        "cudnn_lstm_is": "torch.nn.LSTM on cuDNN" if cuda else "torch.nn.LSTM on CPU (no cuDNN)",
        "precision": args.precision,
        "repeats": args.repeats,
        "checks": checks,
        "rows": rows,
    }
    json.dump(out, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
