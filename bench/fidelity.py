"""The papers' experiments, rerun beside the papers' numbers (issue 9).

    python bench/fidelity.py                         # every row, the default budgets
    python bench/fidelity.py --rows xor reber --out fidelity.json

One row per experiment; budgets are counted as each paper counts them (passes over
the stream, training strings, training sequences, epochs), so a result does not depend
on how busy the machine was; the minutes each run took are reported beside it. JSON
goes to stdout at the end and, with ``--out``, to a file rewritten after every run (an
interrupted bench keeps what it finished; the rows of an existing file that a call does
not rerun are kept; a row finished there is not run again unless ``--fresh``, and the
long paper rows resume their unfinished runs). Training runs land in ``--runs`` (default
``runs/fidelity``); a finished run found there is evaluated again, not retrained
(``--fresh`` retrains). The JSB chorales and War and Peace files are benchmark-only
data, passed by path (``--jsb``, ``--corpus``).

- ``xor``: Elman (1990) temporal XOR at his sizes (1 input, 2 hidden, 1 output, 600
  passes over 3,000 bits), ``--seeds`` seeds, and a larger net beside it; a seed has
  converged when the XOR bit's test error is below half of chance (0.25) while the two
  random bits stay near chance; the figure of error by position mod 3 is in each run.
- ``reber``: embedded Reber grammar, H&S 1997 experiment 1: ``--trials`` trials per
  cell (lstm1997 with the paper's squashing, lstm, elman) and learning rate (as the
  paper's Table 1 lists several), online (one string per update, plain SGD, drawn from
  the 256 training strings), side by side under ``jax.vmap``; a trial
  succeeds when every next-symbol prediction of the 256 training and 256 test strings
  is right (top-k), checked every ``--reber-check`` strings, within ``--reber-strings``.
- ``adding``: H&S 1997 experiment 4, T = 100, the paper's variant: ``--adding-seqs``
  training sequences for an LSTM-32 at torch's initialisation, the same with its forget
  gates started near 1 (``--adding-forget-bias``), and the 1997 cell; test MSE, sequences
  with |error| >= 0.04 of 2,560, against the mean predictor.
- ``chorales``: JSB chorales, Boulanger-Lewandowski split, tanh RNN, LSTM and GRU of
  about 20K parameters (Chung et al. 2014's unit counts), test frame NLL of the best
  validation checkpoint, ``--chorales-seeds`` seeds.
- ``warpeace``: War and Peace, Karpathy et al. 2015's recipe (one-hot input, RMSProp
  2e-3 decay 0.95, batch 100, 100-step unroll, U(-0.08, 0.08) init, lr x 0.95 per epoch
  after the 10th, early stopping on validation) for LSTM, GRU and tanh RNN at the
  parameter counts of LSTM-64 and LSTM-128; test nats/char.

The papers' own recipes (issue 18), run only when named in ``--rows``:

- ``xor-paper``: Elman's logistic units, context copied back, one-step training, plain
  SGD; his RMS error over 12 positions beside ours (``bench/xor_paper.py``);
- ``reber-paper``: H&S 1997's memory blocks, gate-to-gate recurrence, logistic outputs
  with squared error, the truncated gradient, an update after every symbol, 30 trials
  (``bench/reber_paper.py``);
- ``adding-paper``: H&S 1997's 93-weight net, online, the paper's stopping rule, 10
  trials (``bench/lstm1997_paper.py``);
- ``chorales-paper``: Chung et al. 2014's peephole LSTM, GRU and tanh RNN with RMSProp,
  weight noise 0.075, clip 1, the best of N log-uniform learning rates on validation,
  the first frame scored; resumable (``bench/jsb_paper.py``);
- ``warpeace-paper``: Karpathy et al.'s 80/10/10 split, 50 epochs, dropout chosen on
  validation; resumable (``bench/warpeace_paper.py``, ``make fidelity-warpeace``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault(
    "XLA_FLAGS",
    "--xla_cpu_multi_thread_eigen=false --xla_cpu_collective_timeout_seconds=3600 "
    "--xla_cpu_collective_call_terminate_timeout_seconds=3600",
)

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

ROWS = ("xor", "reber", "adding", "chorales", "warpeace")
# The papers' own recipes (issue 18), run only when named in --rows: their long runs
# resume where they stopped.
PAPER_ROWS = ("xor-paper", "reber-paper", "adding-paper", "chorales-paper", "warpeace-paper")
# Rows that resume their own unfinished work: always called (the others, once finished in
# --out, are skipped unless --fresh).
RESUMABLE = ("chorales-paper", "warpeace-paper")
CHANCE = 0.5  # the XOR task's error of p(1) = 1/2


# ---------------------------------------------------------------------------- runs


def _minutes(run_dir: Path) -> float:
    """Training minutes of a finished run from the ``time`` its metrics logged (a resumed
    run's clock starts again at 0: the segments add up)."""
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    total = last = 0.0
    for t in (r["time"] for r in rows if "time" in r):
        if t < last:
            total += last
        last = t
    return round((total + last) / 60, 2)


def _finished(run_dir: Path) -> bool:
    # The engine draws loss.png once a fit has ended (not when it diverged or died).
    return (run_dir / "loss.png").is_file() and (run_dir / "best.eqx").is_file()


def task_run(args, name: str, run_dir: Path, **fields) -> dict:
    """Train ``--task name`` with ``fields`` into ``run_dir`` (or reuse a finished run
    there), then evaluate its best checkpoint on the test split."""
    from rnnlab.tasks import get_task

    task = get_task(name)
    config = task.config(devices=1, **fields)
    if args.fresh or not _finished(run_dir):
        shutil.rmtree(run_dir, ignore_errors=True)
        task.train(run_dir, config)
    result = task.evaluate(run_dir, "test", figures=True)
    return {"run": str(run_dir), "minutes": _minutes(run_dir), **result}


def command(name: str, **flags) -> str:
    """The ``rnnlab train`` command line of one run of a row."""
    words = ["rnnlab train --task", name, "--devices 1"]
    for k, v in flags.items():
        value = "" if v is True else " none" if v is None else f" {v}"
        words.append(f"--{k.replace('_', '-')}{value}")
    return " ".join(words)


# ---------------------------------------------------------------------------- xor


def xor_row(args, emit) -> dict:
    """Elman's net at his sizes over ``--seeds`` seeds, the same for ten times the passes,
    and a larger net beside them."""
    long = 10 * args.xor_passes
    nets = {"elman-2": (2, args.xor_passes), f"elman-2-{long}-passes": (2, long),
            f"elman-{args.xor_hidden}": (args.xor_hidden, args.xor_passes)}  # fmt: skip
    out = {"paper": "Elman 1990, Fig. 3: error low on every third (XOR) bit, near chance "
           "on the others (a figure, no number)", "budget": f"{args.xor_passes} passes over "
           "3,000 bits (Elman: 600)", "nets": {}}  # fmt: skip
    for net, (hidden, passes) in nets.items():
        runs = []
        for seed in range(args.seeds):
            r = task_run(args, "xor", args.runs / f"xor-{net}-s{seed}", hidden=hidden,
                         steps=passes, seed=seed)  # fmt: skip
            m = r["metrics"]
            runs.append({"seed": seed, "minutes": r["minutes"], "converged": _xor_converged(m),
                         **{k: round(m[k], 4) for k in ("error_pos0", "error_pos1",
                                                         "error_pos2")}})  # fmt: skip
            out["nets"][net] = _xor_summary(runs, net, hidden, passes, args)
            emit(out)
    return out


def _xor_converged(m: dict) -> bool:
    return m["error_pos2"] < CHANCE / 2 and min(m["error_pos0"], m["error_pos1"]) > 0.4


def _xor_summary(runs: list, net: str, hidden: int, passes: int, args) -> dict:
    ok = [r for r in runs if r["converged"]]
    mean = {k: round(float(np.mean([r[k] for r in (ok or runs)])), 3)
            for k in ("error_pos0", "error_pos1", "error_pos2")}  # fmt: skip
    return {
        "hidden": hidden,
        "passes": passes,
        "converged": f"{len(ok)}/{len(runs)}",
        "mean_error_by_position_mod_3": mean,
        "of": "converged seeds" if ok else "all seeds",
        "minutes": round(sum(r["minutes"] for r in runs), 2),
        "figure": str(args.runs / f"xor-{net}-s0" / "xor_error_test.png"),
        "command": command("xor", out="DIR", hidden=hidden, steps=passes, seed=0),
        "runs": runs,
    }


# ---------------------------------------------------------------------------- reber

# H&S 1997's LSTMs for this task have a handful of cells in memory blocks that share
# gates (here every cell has its own); their Elman net has 15 hidden units.
REBER_HIDDEN = {"lstm1997": 6, "lstm": 6, "elman": 15}
REBER_PAPER = {
    "lstm1997": "H&S 1997 Table 1 (means of 30 trials): LSTM 97-100 % of trials; 8,440 "
    "strings in its fastest setting (3x2, lr 0.5), 9,500-39,740 in the others; at lr 0.1 "
    "21,730 (3x2) and 39,740 (4x1)",
    "lstm": "Gers et al. 2000 sec. 4.5.1 (forget gates): solves the non-continual "
    "grammar too, about 3x slower with forget bias 1",
    "elman": "H&S 1997 Table 1: Elman nets 0 % within 200,000 strings",
}


def reber_row(args, emit) -> dict:
    """``--trials`` online trials per cell, vmapped; strings until every prediction of
    the training and test strings is right."""
    from rnnlab.tasks import get_task
    from rnnlab.tasks.reber import allowed_mask, one_hot_strings

    strings = get_task("reber").strings(args.seed)
    every = strings["train"] + strings["test"]
    T = max(len(s) for s in every) - 1
    data = one_hot_strings(every)  # (512, T, 7)
    x, y, lengths = (jnp.asarray(a) for a in (data.x, data.y, data.lengths))
    mask = jnp.asarray(allowed_mask(every, T))
    n_train = len(strings["train"])
    out = {"budget": f"{args.reber_strings:,} training strings per trial, checked every "
           f"{args.reber_check:,}", "trials": args.trials, "cells": {}}  # fmt: skip
    for cell in args.reber_cells:
        out["cells"][cell] = {
            "paper": REBER_PAPER.get(cell, ""),
            "hidden": args.reber_hidden or REBER_HIDDEN.get(cell, 6),
            "squash": "paper (4 sigma - 2, 2 sigma - 1)" if cell == "lstm1997" else "tanh",
            "optimizer": "sgd, one string per update, at each learning rate",
        }
        for lr in args.reber_lrs:
            t0 = time.perf_counter()
            seen, right = _reber_trials(args, cell, lr, x, y, lengths, mask, n_train)
            solved = seen[seen > 0]
            out["cells"][cell][f"lr {lr:g}"] = {
                "solved": f"{len(solved)}/{args.trials}",
                "mean_strings_to_solve": int(solved.mean()) if len(solved) else None,
                "strings_to_solve": [int(s) if s > 0 else None for s in seen],
                "steps_right_at_end": [round(float(r), 4) for r in right],
                "minutes": round((time.perf_counter() - t0) / 60, 2),
            }
            emit(out)
    return out


def _reber_trials(args, cell, lr, x, y, lengths, mask, n_train):
    """Train ``--trials`` nets of ``cell`` side by side; return, per trial, the strings
    seen at the first check that found it solved (0: never) and its last step score."""
    from rnnlab.layers import RNN
    from rnnlab.models import SequenceTagger
    from rnnlab.tasks.reber import top_k_right_masked

    K = args.trials
    hidden = args.reber_hidden or REBER_HIDDEN.get(cell, 6)
    kwargs = {"squash": "paper"} if cell == "lstm1997" else {}

    def make(key):
        net = SequenceTagger(7, 7, cell=cell, hidden=hidden, key=key)
        if not kwargs:
            return net
        rnn = RNN(cell, 7, hidden, key=jax.random.fold_in(key, 1), **kwargs)
        return eqx.tree_at(lambda m: m.rnn, net, rnn)

    keys = jax.random.split(jax.random.key(args.seed + 1), K)
    params, static = eqx.partition(eqx.filter_vmap(make)(keys), eqx.is_array)
    opt = optax.sgd(lr)
    opt_state = jax.vmap(opt.init)(params)

    def loss(p, i):
        net = eqx.combine(p, static)
        logits = net(x[i][None], lengths[i][None])[0]  # (T, 7)
        nll = optax.softmax_cross_entropy_with_integer_labels(logits, y[i])
        return jnp.where(jnp.arange(x.shape[1]) < lengths[i], nll, 0.0).sum()

    def update(p, s, i):
        g = jax.grad(loss)(p, i)
        u, s = opt.update(g, s, p)
        return optax.apply_updates(p, u), s

    @jax.jit
    def train(params, opt_state, idx):  # idx (n, K): the string of each update and trial
        def one(carry, i):
            return jax.vmap(update)(*carry, i), None

        return jax.lax.scan(one, (params, opt_state), idx)[0]

    @jax.jit
    def check(params):  # (K,) solved, (K,) fraction of steps right
        def per_trial(p):
            logits = eqx.combine(p, static)(x, lengths)  # (512, T, 7)
            right = top_k_right_masked(logits, mask)
            valid = jnp.arange(x.shape[1])[None, :] < lengths[:, None]
            return right.all(), (right & valid).sum() / valid.sum()

        return jax.vmap(per_trial)(params)

    rng = np.random.default_rng([args.seed, 1997])
    seen = np.zeros(K, int)
    right = np.zeros(K)
    for done in range(args.reber_check, args.reber_strings + 1, args.reber_check):
        idx = rng.integers(0, n_train, size=(args.reber_check, K))
        params, opt_state = train(params, opt_state, jnp.asarray(idx))
        solved, right = (np.asarray(a) for a in check(params))
        seen = np.where((seen == 0) & solved, done, seen)
        print(
            f"reber {cell} lr {lr:g}: {done} strings, solved {solved.sum()}/{K}, steps right "
            f"{right.round(3).tolist()}",
            file=sys.stderr,
        )
        if (seen > 0).all():
            break
    return seen, right


# ---------------------------------------------------------------------------- adding


def adding_row(args, emit) -> dict:
    """H&S 1997 experiment 4 at T = 100, the paper's variant, ``--adding-seqs`` each: the
    forget-gate LSTM at torch's initialisation (f near 1/2), with ``--forget-bias``, and
    the 1997 cell (no forget gate)."""
    steps = args.adding_seqs // args.adding_batch
    out = {
        "paper": "H&S 1997 sec. 5.4, Table 7, T = 100 (means of 10 trials): 1 of 2,560 "
        "test sequences with |error| >= 0.04 (never more than 3) after 74,000 training "
        "sequences; stopping rule: training error < 0.01 and the 2,000 latest right",
        "budget": f"{steps * args.adding_batch:,} training sequences "
        f"({steps} steps of {args.adding_batch})", "models": {},
    }  # fmt: skip
    models = {
        "lstm": {"cell": "lstm", "forget_bias": None},  # torch's initialisation
        f"lstm-forget-bias-{args.adding_forget_bias:g}": {
            "cell": "lstm", "forget_bias": args.adding_forget_bias},
        "lstm1997": {"cell": "lstm1997"},
    }  # fmt: skip
    for name, model in models.items():
        flags = dict(**model, hidden=args.adding_hidden, variant="paper", length=100,
                     batch_size=args.adding_batch, steps=steps, lr=args.adding_lr,
                     clip=args.adding_clip, eval_every=max(1, steps // 20))  # fmt: skip
        runs = []
        for seed in range(args.adding_seeds):
            r = task_run(args, "adding", args.runs / f"adding-{name}-s{seed}", seed=seed, **flags)
            rows = [json.loads(line) for line in (Path(r["run"]) / "metrics.jsonl").open()]
            first = [row["step"] for row in rows if row.get("val_accuracy") == 1.0]
            m = r["metrics"]
            runs.append({"seed": seed, "mse": round(m["mse"], 6), "wrong": m["wrong"],
                         "solved": m["solved"], "minutes": r["minutes"],
                         "sequences_until_validation_all_right": first[0] * args.adding_batch
                         if first else None})  # fmt: skip
            out["models"][name] = {
                "solved": f"{sum(x['solved'] for x in runs)}/{len(runs)}",
                "wrong_of_2560": [x["wrong"] for x in runs],
                "mse": [x["mse"] for x in runs],
                "baseline_mse": round(r["baseline"]["mse"], 5),
                "minutes": round(sum(x["minutes"] for x in runs), 2), "seeds": len(runs),
                "command": command("adding", out="DIR", seed=0, **flags), "runs": runs,
            }  # fmt: skip
            emit(out)
    return out


# ---------------------------------------------------------------------------- chorales

CHUNG = {"elman": (100, 9.10), "lstm": (36, 8.67), "gru": (46, 8.54)}  # units, test NLL


def chorales_row(args, emit) -> dict:
    """JSB chorales with the Boulanger-Lewandowski split: tanh RNN, LSTM, GRU."""
    data = _data_path(args.jsb, "--jsb")
    out = {"paper": "Chung et al. 2014, Table 2: test NLL per frame on JSB chorales, "
           "~20K parameters each", "data": data.name, "models": {}}  # fmt: skip
    epochs = args.chorales_steps * 16 / 229
    for cell in args.chorales_cells:
        hidden, paper = CHUNG[cell]
        flags = dict(cell=cell, hidden=hidden, steps=args.chorales_steps, batch_size=16,
                     lr=args.chorales_lr, eval_every=max(1, args.chorales_steps // 40))  # fmt: skip
        runs = []
        for seed in range(args.chorales_seeds):
            r = task_run(args, "chorales", args.runs / f"jsb-{cell}-s{seed}",
                         data=str(data.resolve()), seed=seed, **flags)  # fmt: skip
            runs.append(r)
            nll = [x["metrics"]["frame_nll"] for x in runs]
            out["models"][cell] = {
                "paper": paper, "frame_nll": round(float(np.mean(nll)), 3),
                "frame_nll_sd": round(float(np.std(nll, ddof=1)), 3) if len(nll) > 1 else None,
                "frame_nll_per_seed": [round(v, 3) for v in nll],
                "accuracy": round(float(np.mean([x["metrics"]["accuracy"] for x in runs])), 3),
                "baseline_frame_nll": round(r["baseline"]["frame_nll"], 3),
                "params": _params(r["run"]), "hidden": hidden,
                "budget": f"{args.chorales_steps} steps of 16 chorales ({epochs:.0f} epochs), "
                "best validation checkpoint",
                "minutes": round(sum(x["minutes"] for x in runs), 2), "seeds": len(runs),
                "command": command("chorales", out="DIR", data="JSB.json", seed=0, **flags),
            }  # fmt: skip
            emit(out)
    return out


def _params(run_dir) -> int:
    from rnnlab.tasks import load_run

    model = load_run(Path(run_dir)).model
    return int(sum(a.size for a in jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_array))))


# ---------------------------------------------------------------------------- warpeace

# (run name, cell, forget-gate bias): char-rnn starts its LSTM forget biases at 1
WARPEACE_MODELS = (("lstm", "lstm", None), ("lstm-fb1", "lstm", 1.0), ("gru", "gru", None),
                   ("elman", "elman", None))  # fmt: skip
KARPATHY = {  # Karpathy et al. 2015, Fig. 1 left, test nats/char, 1 layer
    ("lstm", 64): 1.449, ("lstm", 128): 1.277,
    ("gru", 64): 1.398, ("gru", 128): 1.230,
    ("elman", 64): 1.446, ("elman", 128): 1.417,
}  # fmt: skip


def warpeace_row(args, emit) -> dict:
    """Char models on War and Peace, Karpathy et al. 2015's recipe: LSTM, GRU and tanh
    RNN at two sizes, and the LSTM again with char-rnn's forget-gate bias of 1."""
    from rnnlab.data import Vocab, load_corpus
    from rnnlab.tasks import get_task

    corpus = _data_path(args.corpus, "--corpus")
    V = Vocab.from_text(load_corpus(str(corpus)).text).size
    out = {"paper": "Karpathy, Johnson & Fei-Fei 2015, Fig. 1 (left): test nats/char, "
           "1 layer, LSTM-64 / LSTM-128 and GRU, RNN of the same parameter counts",
           "data": f"{corpus.name}, vocabulary {V}", "models": {}}  # fmt: skip
    for size in args.warpeace_sizes:
        target = _charlm_params("lstm", size, V)
        for name, cell, bias in (m for m in WARPEACE_MODELS if m[0] in args.warpeace_models):
            hidden = _same_size(cell, target, V)
            run_dir = args.runs / f"warpeace-{name}-{size}"
            steps = args.warpeace_epochs * _steps_per_epoch(corpus)
            task = get_task("charlm")
            config = task.config(
                cell=cell, hidden=hidden, onehot=True, init=0.08, forget_bias=bias,
                corpus=str(corpus), seq_len=100, batch_size=100, steps=steps,
                minutes=args.warpeace_minutes, optimizer="rmsprop", lr=2e-3,
                schedule="epoch-decay", eval_every=steps // args.warpeace_epochs, log_every=48,
                devices=1, seed=args.seed,
            )  # fmt: skip
            if args.fresh or not _finished(run_dir):
                shutil.rmtree(run_dir, ignore_errors=True)
                task.train(run_dir, config)
            test, book = _charlm_test(run_dir, args.book_end)
            rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").open()]
            last = max(r["step"] for r in rows)
            out["models"][f"{name}-{size}"] = {
                "paper": KARPATHY[cell, size], "test_nats_per_char": round(test, 3),
                "test_nats_per_char_book_only": None if book is None else round(book, 3),
                "best_val": round(min(r["val_loss"] for r in rows if "val_loss" in r), 3),
                "hidden": hidden, "params": _charlm_params(cell, hidden, V),
                "budget": f"{last} steps = {last / (steps // args.warpeace_epochs):.1f} "
                f"epochs of {args.warpeace_epochs} (paper: 50)",
                "minutes": _minutes(run_dir), "seeds": 1,
                "command": f"rnnlab train --out DIR --corpus warpeace.txt --cell {cell} "
                f"--hidden {hidden} --onehot --init 0.08 "
                + (f"--forget-bias {bias:g} " if bias is not None else "")
                + "--optimizer rmsprop --lr 2e-3 "
                f"--schedule epoch-decay --batch-size 100 --seq-len 100 --steps {steps} "
                f"--minutes {args.warpeace_minutes} --eval-every {steps // args.warpeace_epochs} "
                f"--devices 1",
            }  # fmt: skip
            emit(out)
    return out


def _same_size(cell: str, target: int, vocab: int) -> int:
    """The hidden size whose char model has the parameter count nearest ``target``:
    counted exactly around the root of g H (V + H + 2) + V (H + 1) = target, g the
    cell's number of gate blocks (4 LSTM, 3 GRU, 1 tanh RNN; two bias vectors)."""
    g = {"lstm": 4, "gru": 3}.get(cell, 1)
    a, b, c = g, g * (vocab + 2) + vocab, vocab - target
    guess = round((-b + (b * b - 4 * a * c) ** 0.5) / (2 * a))
    near = range(max(1, guess - 3), guess + 4)
    return min(near, key=lambda h: abs(_charlm_params(cell, h, vocab) - target))


def _charlm_params(cell: str, hidden: int, vocab: int) -> int:
    from rnnlab.charlm.model import CharLM
    from rnnlab.config import ModelConfig

    net = eqx.filter_eval_shape(
        CharLM, vocab, ModelConfig(cell=cell, hidden=hidden, onehot=True), key=jax.random.key(0)
    )
    return int(sum(np.prod(a.shape) for a in jax.tree_util.tree_leaves(net)))


def _steps_per_epoch(corpus: Path, split: str = "90/5/5") -> int:
    from rnnlab.data import StreamBatches, Vocab, load_corpus, split_fractions, split_ids

    text = load_corpus(str(corpus)).text
    ids = split_ids(Vocab.from_text(text).encode(text), split_fractions(split))
    return len(StreamBatches(ids["train"], 100, 100))


def _charlm_test(run_dir: Path, book_end: str) -> tuple[float, float | None]:
    """Test nats/char of the run's best checkpoint, on the whole test split and on the
    test split cut after ``book_end`` (None when the text lacks it): our copy of War and
    Peace carries 7,060 characters of emoticon lines after the book's last words."""
    from rnnlab.charlm.sample import evaluate
    from rnnlab.data import load_corpus, split_fractions, split_ids
    from rnnlab.tasks import load_run
    from rnnlab.tasks.charlm import vocab_of

    run = load_run(run_dir)
    model, vocab = run.model, vocab_of(run)
    text = load_corpus(run.config.options.corpus).text
    test = split_ids(vocab.encode(text), split_fractions(run.config.options.split))["test"]
    whole = float(evaluate(model, test, batch_size=100, seq_len=100))
    end = text.rfind(book_end) if book_end else -1
    if end < 0:
        return whole, None
    cut = len(test) - (len(text) - end - len(book_end))
    return whole, float(evaluate(model, test[:cut], batch_size=100, seq_len=100))


# ---------------------------------------------------------------------------- main


def _data_path(path: Path, flag: str) -> Path:
    if not path.is_file():
        sys.exit(f"{flag} {path}: no such file (a benchmark-only file; see the README)")
    return path


def _layout_lr(text: str) -> tuple[str, float]:
    layout, _, lr = text.partition(":")
    if layout not in ("3x2", "4x1"):
        raise argparse.ArgumentTypeError(f"{text!r}: LAYOUT:LR with LAYOUT 3x2 or 4x1")
    return layout, float(lr)


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", nargs="+", choices=ROWS + PAPER_ROWS, default=list(ROWS))
    p.add_argument("--out", type=Path, help="JSON file, rewritten after every run")
    p.add_argument("--runs", type=Path, default=Path("runs/fidelity"))
    p.add_argument("--fresh", action="store_true", help="retrain runs found in --runs")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--seeds", type=int, default=10, help="xor: seeds per net")
    p.add_argument("--xor-passes", type=int, default=600)
    p.add_argument("--xor-hidden", type=int, default=8, help="xor: the larger net")
    p.add_argument(
        "--xor-paper-lrs",
        type=float,
        nargs="+",
        default=[0.1, 0.5],
        help="xor-paper: SGD learning rates (Elman gives none)",
    )
    p.add_argument("--trials", type=int, default=10, help="reber: trials per cell")
    p.add_argument("--reber-cells", nargs="+", default=["lstm1997", "lstm", "elman"])
    p.add_argument("--reber-strings", type=int, default=100_000)
    p.add_argument("--reber-check", type=int, default=500)
    p.add_argument(
        "--reber-hidden",
        type=int,
        help="reber: units of every cell (default: the paper's, 6 for the LSTMs, 15 for elman)",
    )
    p.add_argument("--reber-lrs", type=float, nargs="+", default=[0.5, 0.1, 0.02])
    p.add_argument(
        "--reber-paper-inits",
        type=int,
        default=10,
        help="reber-paper: initialisations per data set (3 sets; paper: 10)",
    )
    p.add_argument("--reber-paper-strings", type=int, default=60_000)
    p.add_argument(
        "--reber-paper-targets",
        choices=("next", "allowed"),
        default="next",
        help="reber-paper: the next symbol one-hot, or every allowed next symbol",
    )
    p.add_argument(
        "--reber-paper-settings",
        nargs="+",
        type=_layout_lr,
        default=["3x2:0.1", "4x1:0.1", "3x2:0.5", "3x2:0.2", "4x1:0.5"],
        help="reber-paper: LAYOUT:LR pairs (layouts 3x2, 4x1)",
    )
    p.add_argument("--adding-seqs", type=int, default=320_000)
    p.add_argument("--adding-batch", type=int, default=32)
    p.add_argument("--adding-hidden", type=int, default=32)
    p.add_argument("--adding-lr", type=float, default=1e-3)
    p.add_argument("--adding-clip", type=float, default=1.0)
    p.add_argument("--adding-forget-bias", type=float, default=3.0)
    p.add_argument("--adding-seeds", type=int, default=3)
    p.add_argument("--adding-paper-trials", type=int, default=10)
    p.add_argument(
        "--adding-paper-seqs",
        type=int,
        default=200_000,
        help="adding-paper: training sequences a trial at most",
    )
    p.add_argument("--jsb", type=Path, default=Path("../shared/data/jsb-chorales-quarter.json"))
    p.add_argument("--chorales-steps", type=int, default=6000)
    p.add_argument("--chorales-seeds", type=int, default=3)
    p.add_argument("--chorales-cells", nargs="+", default=list(CHUNG), choices=tuple(CHUNG))
    p.add_argument("--chorales-lr", type=float, default=3e-3)
    p.add_argument(
        "--jsb-paper-cells", nargs="+", default=["peephole", "gru", "elman"],
        choices=("peephole", "gru", "elman"),
    )  # fmt: skip
    p.add_argument(
        "--jsb-paper-lrs", type=int, default=10,
        help="chorales-paper: learning rates for the first cell (paper: 10)",
    )  # fmt: skip
    p.add_argument(
        "--jsb-paper-lrs-others", type=int, default=4,
        help="chorales-paper: learning rates for the other cells",
    )  # fmt: skip
    p.add_argument(
        "--jsb-paper-range", type=float, nargs=2, default=[1e-4, 1e-2],
        help="chorales-paper: the log-uniform range of the learning rates",
    )  # fmt: skip
    p.add_argument("--jsb-paper-steps", type=int, default=2000)
    p.add_argument(
        "--jsb-paper-eval", type=int, default=100, help="chorales-paper: validate every N steps"
    )
    p.add_argument("--jsb-paper-noise", type=float, default=0.075)
    p.add_argument(
        "--jsb-paper-until", type=int,
        help="chorales-paper: stop the unfinished sweeps at this step and report them",
    )  # fmt: skip
    p.add_argument("--corpus", type=Path, default=Path("../shared/data/warpeace.txt"))
    p.add_argument("--warpeace-epochs", type=int, default=10)
    p.add_argument("--warpeace-minutes", type=float, default=20.0)
    p.add_argument(
        "--warpeace-models", nargs="+", default=[m[0] for m in WARPEACE_MODELS],
        choices=[m[0] for m in WARPEACE_MODELS],
    )  # fmt: skip
    p.add_argument(
        "--book-end",
        default="a dependence of which we are not\nconscious.",
        help="warpeace: also score the test split cut after this text (the "
        "book's last words; what follows in our copy is not the book)",
    )
    p.add_argument("--wp-split", default="80/10/10", help="warpeace-paper: the split")
    p.add_argument("--wp-epochs", type=int, default=50, help="warpeace-paper: epochs (paper: 50)")
    p.add_argument("--wp-cells", nargs="+", default=["lstm", "gru", "elman"])
    p.add_argument(
        "--wp-size",
        type=int,
        choices=(64, 128),
        default=128,
        help="warpeace-paper: the LSTM size whose parameter count every cell takes",
    )
    p.add_argument(
        "--wp-dropouts",
        type=float,
        nargs="+",
        default=[0.0, 0.25, 0.5],
        help="warpeace-paper: the dropouts tried on validation",
    )
    p.add_argument(
        "--wp-select-epochs",
        type=float,
        default=2.0,
        help="warpeace-paper: epochs of each dropout's short run",
    )
    p.add_argument(
        "--wp-select",
        nargs="+",
        default=["lstm"],
        help="warpeace-paper: cells whose dropout is chosen by short runs (the "
        "others take the LSTM's choice)",
    )
    p.add_argument(
        "--wp-test",
        action="store_true",
        help="warpeace-paper: score unfinished runs' best checkpoints on test too",
    )
    p.add_argument(
        "--warpeace-sizes",
        type=int,
        nargs="+",
        choices=(64, 128),
        default=[128, 64],
        help="warpeace: the LSTM sizes whose parameter counts the rows take",
    )
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse(argv)
    args.runs.mkdir(parents=True, exist_ok=True)
    # An existing --out keeps the rows that this call does not rerun (each row states its
    # own budget; "budgets" holds this call's flags).
    results = json.loads(args.out.read_text()) if args.out and args.out.is_file() else {}
    budgets = {k: v for k, v in vars(args).items() if k not in ("rows", "out")}
    results["budgets"] = json.loads(json.dumps(budgets, default=str))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from jsb_paper import jsb_paper_row
    from lstm1997_paper import adding_paper_row
    from reber_paper import reber_paper_row
    from warpeace_paper import warpeace_paper_row
    from xor_paper import xor_paper_row

    rows = {"xor": xor_row, "reber": reber_row, "adding": adding_row, "chorales": chorales_row,
            "warpeace": warpeace_row, "xor-paper": xor_paper_row,
            "adding-paper": adding_paper_row, "reber-paper": reber_paper_row,
            "chorales-paper": jsb_paper_row,
            "warpeace-paper": warpeace_paper_row}  # fmt: skip

    for name in args.rows:
        if name in results and "wall_minutes" in results[name] and name not in RESUMABLE:
            print(f"{name}: done in {args.out} (--fresh reruns it)", file=sys.stderr)
            if not args.fresh:
                continue
        t0 = time.perf_counter()

        def emit(partial, name=name):
            results[name] = partial
            if args.out is not None:
                tmp = args.out.with_suffix(".tmp")
                tmp.write_text(json.dumps(results, indent=2))
                tmp.replace(args.out)  # atomic: an interrupted bench keeps the last run

        emit(rows[name](args, emit))
        results[name]["wall_minutes"] = round((time.perf_counter() - t0) / 60, 2)
        emit(results[name])
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
