"""rnnlab's char model against a plain PyTorch one, for the same wall time, in one run.

Both: embedding 64 -> LSTM(256) -> linear, Adam 2e-3 (constant), batch 32, sequence
100, gradient clipping 5, truncated BPTT with the state carried across contiguous
batches, trained on the first 90 % of the corpus. Reported: characters per second
(whole run, and steady state) and the cross-entropy on the last 10 % of the text
(nats/char, same streaming evaluation for both) after the same wall time.
rnnlab trains through its engine on every CPU core as a JAX host device (the batch
split over them; ``--devices 1`` for one), torch on its default threads.
Targets (issue 7): rnnlab at least 1.3x torch's chars/s and a lower validation loss.

``--parity`` (issue 7) instead compares learning from each library's own
initialisation: embedding 64 -> LSTM(64) -> linear, Adam 2e-3, clipping 5, batch
16 x 50, the same batches for 300 steps on the first ``--parity-chars`` characters
of the corpus, for several seeds; reported: the test-split cross-entropy in
bits/char of each, averaged over seeds, and their difference (target: within 0.1).
The rnnlab side runs :class:`rnnlab.charlm.CharLM` with its own Optax step, or with
``--via-train`` the library's trainer, the ``charlm`` task's :meth:`rnnlab.tasks.Task.train`.

    python bench/charlm.py [--minutes 4.5] [--corpus shakespeare|PATH]
    python bench/charlm.py --parity [--seeds 5] [--steps 300] [--via-train]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time

import numpy as np

B, T, E, H, LR, CLIP = 32, 100, 64, 256, 2e-3, 5.0


def torch_model(vocab_size, embed, hidden):
    """The plain PyTorch char model, in torch's own initialisation."""
    import torch

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(vocab_size, embed)
            self.lstm = torch.nn.LSTM(embed, hidden, batch_first=True)
            self.out = torch.nn.Linear(hidden, vocab_size)

        def forward(self, x, state=None):
            h, state = self.lstm(self.emb(x), state)
            return self.out(h), state

    return Model()


def torch_evaluate(model, ids, vocab_size, batch_size, seq_len):
    """Nats/char of ``ids``: the same streaming evaluation as rnnlab.charlm.evaluate."""
    import torch

    model.eval()
    nb = max(1, min(batch_size, (len(ids) - 1) // (seq_len + 1)))
    L = (len(ids) - 1) // nb
    xs = torch.from_numpy(ids[: nb * L].reshape(nb, L).astype(np.int64))
    ys = torch.from_numpy(ids[1 : nb * L + 1].reshape(nb, L).astype(np.int64))
    total, state = 0.0, None
    with torch.no_grad():
        for s in range(0, L, seq_len):
            logits, state = model(xs[:, s : s + seq_len], state)
            total += torch.nn.functional.cross_entropy(
                logits.reshape(-1, vocab_size), ys[:, s : s + seq_len].reshape(-1), reduction="sum"
            ).item()
    model.train()
    return total / (nb * L)


def torch_run(train_ids, val_ids, vocab_size, minutes, seed):
    import torch

    from rnnlab.data import StreamBatches

    torch.manual_seed(seed)
    model = torch_model(vocab_size, E, H)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    batches = StreamBatches(train_ids, B, T)
    state, step, t0 = None, 0, time.perf_counter()
    rates, t_last = [], t0
    while time.perf_counter() - t0 < 60 * minutes:
        if batches.is_epoch_start(step):
            state = None
        x, y = (torch.from_numpy(a.astype(np.int64)) for a in batches.get(step))
        logits, state = model(x, state)
        state = tuple(s.detach() for s in state)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab_size), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        opt.step()
        step += 1
        if step % 10 == 0:
            now = time.perf_counter()
            rates.append(10 * B * T / (now - t_last))
            t_last = now
    elapsed = time.perf_counter() - t0
    val = torch_evaluate(model, val_ids, vocab_size, B, T)
    return {
        "steps": step,
        "seconds": round(elapsed, 1),
        "chars_per_s": round(step * B * T / elapsed),
        "steady_chars_per_s": round(float(np.median(rates[1:] or rates or [0]))),
        "val_nats_per_char": round(val, 4),
    }


def train_via_library(corpus, *, hidden, batch, seq, steps, minutes, seed, log_every):
    """Train with the ``charlm`` task (:meth:`rnnlab.tasks.Task.train`); return (summary,
    final model, metric rows).

    Evaluation only at the end, so the run's best checkpoint is its final model.
    """
    from rnnlab.tasks import get_task, load_run

    task = get_task("charlm")
    config = task.config(
        cell="lstm", hidden=hidden, embed=E, corpus=corpus, batch_size=batch, seq_len=seq,
        lr=LR, clip=CLIP, optimizer="adam", schedule="constant", seed=seed, steps=steps,
        minutes=minutes, eval_every=10**9, log_every=log_every,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = os.path.join(tmp, "run")
        summary = task.train(run_dir, config)
        model = load_run(run_dir).model
        with open(os.path.join(run_dir, "metrics.jsonl")) as f:
            rows = [json.loads(x) for x in f]
    return summary, model, rows


def rnnlab_run(corpus, val_ids, minutes, seed):
    from rnnlab.charlm import evaluate

    t0 = time.perf_counter()
    summary, model, rows = train_via_library(
        corpus, hidden=H, batch=B, seq=T, steps=10**9, minutes=minutes, seed=seed, log_every=10
    )
    elapsed = time.perf_counter() - t0
    rates = [r["chars_per_s"] for r in rows if "chars_per_s" in r]
    val = evaluate(model, val_ids, batch_size=B, seq_len=T)
    return {
        "steps": summary["step"],
        "seconds": round(elapsed, 1),
        "chars_per_s": round(summary["step"] * B * T / elapsed),
        "steady_chars_per_s": round(float(np.median(rates[1:] or rates or [0]))),
        "val_nats_per_char": round(val, 4),
    }


# --parity (issue 7): the same 300 steps from each library's own initialisation.
PH, PB, PT, PSTEPS = 64, 16, 50, 300


def parity_torch(train_ids, test_ids, vocab_size, seed, steps):
    """Test nats/char of the plain PyTorch model after ``steps`` clipped-Adam steps."""
    import torch

    from rnnlab.data import StreamBatches

    torch.manual_seed(seed)
    model = torch_model(vocab_size, E, PH)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    batches, state = StreamBatches(train_ids, PB, PT), None
    for step in range(steps):
        if batches.is_epoch_start(step):
            state = None
        x, y = (torch.from_numpy(a.astype(np.int64)) for a in batches.get(step))
        logits, state = model(x, state)
        state = tuple(s.detach() for s in state)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab_size), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        opt.step()
    return torch_evaluate(model, test_ids, vocab_size, PB, PT)


def parity_rnnlab(train_ids, test_ids, vocab_size, seed, steps):
    """The same for :class:`rnnlab.charlm.CharLM`, stepped here with Optax (the loop of
    the charlm task's training: clipping then Adam, state carried, reset at epoch starts)."""
    import equinox as eqx
    import jax
    import optax

    from rnnlab.charlm import CharLM, evaluate
    from rnnlab.config import ModelConfig
    from rnnlab.data import StreamBatches

    model = CharLM(
        vocab_size, ModelConfig(cell="lstm", hidden=PH, embed=E), key=jax.random.key(seed)
    )
    optimizer = optax.chain(optax.clip_by_global_norm(CLIP), optax.adam(LR))
    opt_state = optimizer.init(eqx.filter(model, eqx.is_array))

    @eqx.filter_jit
    def step_fn(model, opt_state, states, x, y):
        def loss_fn(model):
            logits, states_out = model(x, states)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(), states_out

        (_, states), grads = eqx.filter_value_and_grad(loss_fn, has_aux=True)(model)
        updates, opt_state = optimizer.update(grads, opt_state, eqx.filter(model, eqx.is_array))
        return eqx.apply_updates(model, updates), opt_state, states

    batches, states = StreamBatches(train_ids, PB, PT), None
    for step in range(steps):
        if batches.is_epoch_start(step):
            states = model.init_state(PB)
        model, opt_state, states = step_fn(model, opt_state, states, *batches.get(step))
    return evaluate(model, test_ids, batch_size=PB, seq_len=PT)


def parity_rnnlab_train(corpus_path, test_ids, seed, steps):
    """The same through the library's trainer, on the corpus slice written to a file
    (which splits it exactly as :func:`parity_main` does)."""
    from rnnlab.charlm import evaluate

    _, model, _ = train_via_library(
        corpus_path,
        hidden=PH,
        batch=PB,
        seq=PT,
        steps=steps,
        minutes=None,
        seed=seed,
        log_every=steps,
    )
    return evaluate(model, test_ids, batch_size=PB, seq_len=PT)


def parity_main(args):
    from rnnlab.data import Vocab, load_corpus, split_ids

    corpus = load_corpus(args.corpus)
    text = corpus.text[: args.parity_chars]
    vocab = Vocab.from_text(text)
    parts = split_ids(vocab.encode(text))
    bits = 1 / math.log(2)
    rows, t0 = [], time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        corpus_path = os.path.join(tmp, "corpus.txt")
        with open(corpus_path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        for seed in range(args.seed, args.seed + args.seeds):
            if args.via_train:
                ours = parity_rnnlab_train(corpus_path, parts["test"], seed, args.steps)
            else:
                ours = parity_rnnlab(parts["train"], parts["test"], vocab.size, seed, args.steps)
            theirs = parity_torch(parts["train"], parts["test"], vocab.size, seed, args.steps)
            rows.append({"seed": seed, "rnnlab": ours * bits, "torch": theirs * bits})
    ours, theirs = (np.array([r[k] for r in rows]) for k in ("rnnlab", "torch"))
    diff = float(ours.mean() - theirs.mean())
    result = {
        "benchmark": "charlm --parity: test bits/char after the same steps, own initialisation",
        "corpus": f"{corpus.name}, first {len(text):,} chars (vocabulary {vocab.size})",
        "setup": f"embed {E}, LSTM({PH}), batch {PB} x {PT}, Adam {LR} constant, clip {CLIP}",
        "steps": args.steps,
        "rnnlab_side": "charlm task.train" if args.via_train else "CharLM + optax step",
        "per_seed": [{k: round(v, 4) if k != "seed" else v for k, v in r.items()} for r in rows],
        "rnnlab_bits_per_char": {
            "mean": round(float(ours.mean()), 4),
            "std": round(float(ours.std()), 4),
        },
        "torch_bits_per_char": {
            "mean": round(float(theirs.mean()), 4),
            "std": round(float(theirs.std()), 4),
        },
        "difference_bits_per_char": round(diff, 4),
        "target_met": {"within_0.1_bits_per_char": abs(diff) <= 0.1},
        "seconds": round(time.perf_counter() - t0, 1),
    }
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0 if np.isfinite(ours).all() else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=4.5)
    ap.add_argument("--corpus", default="shakespeare")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eigen-threads", action="store_true")
    ap.add_argument("--devices", type=int, default=None, help="JAX host devices (default: cores)")
    ap.add_argument("--parity", action="store_true", help="the learning-parity comparison")
    ap.add_argument("--seeds", type=int, default=5, help="--parity: seeds to average over")
    ap.add_argument("--steps", type=int, default=PSTEPS, help="--parity: training steps")
    ap.add_argument("--parity-chars", type=int, default=500_000, help="--parity: corpus prefix")
    ap.add_argument("--via-train", action="store_true", help="--parity: train with the charlm task")
    args = ap.parse_args(argv)
    if not args.eigen_threads:
        os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false"
    from rnnlab.engine import configure_host_devices

    configure_host_devices(args.devices)  # before JAX starts: one device per core
    if args.parity:
        return parity_main(args)
    import torch

    from rnnlab.data import Vocab, load_corpus, split_ids

    corpus = load_corpus(args.corpus)
    vocab = Vocab.from_text(corpus.text)
    ids = vocab.encode(corpus.text)
    parts = split_ids(ids)
    last_10 = np.concatenate([parts["val"], parts["test"]])  # the last 10 % of the text
    result = {
        "benchmark": "charlm: LSTM(256) char model, same wall time each",
        "corpus": f"{corpus.name} ({len(ids):,} chars, vocabulary {vocab.size})",
        "minutes_each": args.minutes,
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "torch_threads": torch.get_num_threads(),
        "jax_devices": len(__import__("jax").devices()),
        "torch": torch_run(parts["train"], last_10, vocab.size, args.minutes, args.seed),
        "rnnlab": rnnlab_run(args.corpus, last_10, args.minutes, args.seed),
    }
    r, p = result["rnnlab"], result["torch"]
    result["ratio_chars_per_s"] = round(r["chars_per_s"] / p["chars_per_s"], 3)
    result["val_loss_difference"] = round(r["val_nats_per_char"] - p["val_nats_per_char"], 4)
    result["target_met"] = {
        "chars_per_s_at_least_1.3x_torch": r["chars_per_s"] >= 1.3 * p["chars_per_s"],
        "val_loss_lower": r["val_nats_per_char"] < p["val_nats_per_char"],
    }
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0 if math.isfinite(r["val_nats_per_char"]) else 1


if __name__ == "__main__":
    sys.exit(main())
