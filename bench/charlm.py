"""rnnlab's char model against a plain PyTorch one, for the same wall time, in one run.

Both: embedding 64 -> LSTM(256) -> linear, Adam 2e-3 (constant), batch 32, sequence
100, gradient clipping 5, truncated BPTT with the state carried across contiguous
batches, trained on the first 90 % of the corpus. Reported: characters per second
(whole run, and steady state) and the cross-entropy on the last 10 % of the text
(nats/char, same streaming evaluation for both) after the same wall time.
Target (issue 3): rnnlab at least as many chars/s and no worse validation loss.

    python bench/charlm.py [--minutes 4.5] [--corpus shakespeare|PATH]
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


def torch_run(train_ids, val_ids, vocab_size, minutes, seed):
    import torch

    from rnnlab.data import StreamBatches

    torch.manual_seed(seed)

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(vocab_size, E)
            self.lstm = torch.nn.LSTM(E, H, batch_first=True)
            self.out = torch.nn.Linear(H, vocab_size)

        def forward(self, x, state=None):
            h, state = self.lstm(self.emb(x), state)
            return self.out(h), state

    model = Model()
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

    # the same streaming evaluation as rnnlab.charlm.evaluate
    model.eval()
    nb = max(1, min(B, (len(val_ids) - 1) // (T + 1)))
    L = (len(val_ids) - 1) // nb
    xs = torch.from_numpy(val_ids[: nb * L].reshape(nb, L).astype(np.int64))
    ys = torch.from_numpy(val_ids[1 : nb * L + 1].reshape(nb, L).astype(np.int64))
    total, state = 0.0, None
    with torch.no_grad():
        for s in range(0, L, T):
            logits, state = model(xs[:, s : s + T], state)
            total += torch.nn.functional.cross_entropy(
                logits.reshape(-1, vocab_size), ys[:, s : s + T].reshape(-1), reduction="sum"
            ).item()
    return {
        "steps": step,
        "seconds": round(elapsed, 1),
        "chars_per_s": round(step * B * T / elapsed),
        "steady_chars_per_s": round(float(np.median(rates[1:] or rates or [0]))),
        "val_nats_per_char": round(total / (nb * L), 4),
    }


def rnnlab_run(corpus, val_ids, minutes, seed):
    import equinox as eqx

    from rnnlab.charlm import RunConfig, evaluate, make_optimizer, train
    from rnnlab.charlm import checkpoint as ckpt

    config = RunConfig()
    config.model.cell, config.model.hidden, config.model.embed = "lstm", H, E
    t = config.train
    t.corpus, t.batch_size, t.seq_len, t.lr, t.clip = corpus, B, T, LR, CLIP
    t.optimizer, t.schedule, t.seed = "adam", "constant", seed
    t.steps, t.minutes, t.eval_every, t.log_every = 10**9, minutes, 10**9, 10
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = os.path.join(tmp, "run")
        t0 = time.perf_counter()
        summary = train(run_dir, config)
        elapsed = time.perf_counter() - t0
        config = RunConfig.load(run_dir)
        model = ckpt.new_model(config)
        opt_state = make_optimizer(config.train).init(eqx.filter(model, eqx.is_array))
        model, _, _ = ckpt.load_tree(
            os.path.join(run_dir, ckpt.LAST), (model, opt_state, model.init_state(B))
        )
        rows = [json.loads(x) for x in open(os.path.join(run_dir, ckpt.METRICS))]
    rates = [r["chars_per_s"] for r in rows if "chars_per_s" in r]
    val = evaluate(model, val_ids, batch_size=B, seq_len=T)
    return {
        "steps": summary["step"],
        "seconds": round(elapsed, 1),
        "chars_per_s": round(summary["step"] * B * T / elapsed),
        "steady_chars_per_s": round(float(np.median(rates[1:] or rates or [0]))),
        "val_nats_per_char": round(val, 4),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=4.5)
    ap.add_argument("--corpus", default="shakespeare")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eigen-threads", action="store_true")
    args = ap.parse_args(argv)
    if not args.eigen_threads:
        os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false"
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
        "torch": torch_run(parts["train"], last_10, vocab.size, args.minutes, args.seed),
        "rnnlab": rnnlab_run(args.corpus, last_10, args.minutes, args.seed),
    }
    r, p = result["rnnlab"], result["torch"]
    result["ratio_chars_per_s"] = round(r["chars_per_s"] / p["chars_per_s"], 3)
    result["val_loss_difference"] = round(r["val_nats_per_char"] - p["val_nats_per_char"], 4)
    result["target_met"] = {
        "chars_per_s_at_least_torch": r["chars_per_s"] >= p["chars_per_s"],
        "val_loss_no_worse": r["val_nats_per_char"] <= p["val_nats_per_char"] + 1e-3,
    }
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0 if math.isfinite(r["val_nats_per_char"]) else 1


if __name__ == "__main__":
    sys.exit(main())
