"""Who said this sentence, with a pretrained language model (issue 18 item 4).

The ``speakers`` task trains an RNN from scratch on 70 speeches per character and stays
below a bag-of-words naive Bayes (README: 0.14 against 0.22). Here, as ULMFiT does
(Howard & Ruder 2018), a character-level LSTM is first trained as a language model on
the plays' text *without* the validation and test scenes (every scene that holds one of
their speeches is left out, so no test speech, nor its scene, is seen), then frozen; each
speech is read by it, its states averaged over the speech and taken at the last
character, and a multinomial logistic regression on those features (L2 weight chosen on
the validation split) names the speaker. Same balanced splits as the task (70/12/13
speeches a character). Beside it: the task's naive Bayes on the same test split, the
majority class, and the same classifier on the untrained twin's features (what the
pretraining adds).

Prints one JSON object and writes it (``--out``).

    python bench/speakers_transfer.py [--minutes 10] [--hidden 256] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from rnnlab.tasks.speakers import MAX_LEN, all_speeches, split_scenes, talkative

LAMBDAS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)  # L2 weights tried on the validation split


def corpus_and_splits():
    """The pretraining text (speeches outside the val/test scenes), and per split the
    speeches' texts and classes, as the ``speakers`` task draws them."""
    speeches = all_speeches()
    who = talkative(speeches)
    rows = split_scenes(speeches, who)
    held = {speeches[i][:2] for s in ("val", "test") for i in rows[s]}  # (play, scene)
    text = "\n\n".join(sp[3] for sp in speeches if sp[:2] not in held)
    cls = {w: c for c, w in enumerate(who)}
    splits = {}
    for s, idx in rows.items():
        labels = np.array([cls[speeches[i][0], speeches[i][2]] for i in idx])
        splits[s] = ([speeches[i][3] for i in idx], labels)
    return text, splits


def pretrain(text: str, folder: Path, minutes: float, hidden: int, seed: int) -> Path:
    from rnnlab.cli import main

    corpus = folder / "pretrain.txt"
    corpus.write_text(text, encoding="utf-8")
    run = folder / f"lm-{seed}"
    args = ["train", "--task", "charlm", "--corpus", str(corpus), "--out", str(run),
            "--hidden", str(hidden), "--minutes", f"{minutes:g}", "--seed", str(seed),
            "--sample-chars", "0"]  # fmt: skip
    try:
        main(args)
    except SystemExit as exit_:
        if exit_.code:
            raise
    return run


def features(model, vocab, texts) -> np.ndarray:
    """(N, 2 H): each speech's states averaged over its characters and at its last one."""
    L = MAX_LEN["char"]
    known = set(vocab.decode(np.arange(vocab.size)))
    ids = np.zeros((len(texts), L), np.int32)
    lengths = np.zeros(len(texts), np.int32)
    for k, t in enumerate(texts):
        t = "".join(ch for ch in t if ch in known)[:L]
        ids[k, : len(t)] = vocab.encode(t)
        lengths[k] = max(len(t), 1)

    @jax.jit
    def one(ids):  # (B, L) -> (B, L, O)
        xs = jax.nn.one_hot(ids, vocab.size) if model.embedding is None else model.embedding[ids]
        hs, _ = model.rnn(xs)
        return hs

    out = []
    for lo in range(0, len(texts), 64):
        hs = np.asarray(one(jnp.asarray(ids[lo : lo + 64])))  # (b, L, O)
        n = lengths[lo : lo + 64]
        mask = np.arange(L)[None, :] < n[:, None]
        mean = (hs * mask[..., None]).sum(1) / n[:, None]
        last = hs[np.arange(len(n)), n - 1]
        out.append(np.concatenate([mean, last], 1))
    return np.concatenate(out)


def logistic(train_x, train_y, test_x, lam: float, classes: int) -> np.ndarray:
    """Multinomial logistic regression with an L2 weight ``lam`` (L-BFGS, optax); the
    predicted class of each test row."""
    X, y = jnp.asarray(train_x), jnp.asarray(train_y)
    W, b = _fit_logistic(X, y, jnp.float32(lam), classes)
    return np.asarray(jnp.argmax(jnp.asarray(test_x) @ W + b, 1))


@functools.partial(jax.jit, static_argnums=(3,))
def _fit_logistic(X, y, lam, classes: int):
    def loss(p):
        W, b = p
        ce = optax.softmax_cross_entropy_with_integer_labels(X @ W + b, y).mean()
        return ce + lam * jnp.sum(W**2)

    opt = optax.lbfgs()
    params = (jnp.zeros((X.shape[1], classes)), jnp.zeros(classes))
    value_and_grad = optax.value_and_grad_from_state(loss)

    def step(carry, _):
        params, state = carry
        value, grad = value_and_grad(params, state=state)
        updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=loss)
        return (optax.apply_updates(params, updates), state), None

    (params, _), _ = jax.lax.scan(step, (params, opt.init(params)), None, length=300)
    return params


def classify(feats: dict, ys: dict) -> dict:
    mu, sd = feats["train"].mean(0), feats["train"].std(0) + 1e-6
    z = {s: (f - mu) / sd for s, f in feats.items()}
    C = int(ys["train"].max()) + 1
    val = {lam: float((logistic(z["train"], ys["train"], z["val"], lam, C) == ys["val"]).mean())
           for lam in LAMBDAS}  # fmt: skip
    best = max(LAMBDAS, key=lambda lam: (val[lam], lam))  # ties: the stronger weight
    test = logistic(z["train"], ys["train"], z["test"], best, C)
    return {
        "lambda": best,
        "val_accuracy": val[best],
        "test_accuracy": float((test == ys["test"]).mean()),
    }


def naive_bayes() -> dict:
    from rnnlab.tasks import get_task
    from rnnlab.tasks.speakers import naive_bayes_scores

    task = get_task("speakers")
    data = task.load_data(task.config())
    sp = data.splits
    return naive_bayes_scores(sp["train"], sp["test"], data.info()["vocab_size"])


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=10.0, help="pretraining, per seed")
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    from rnnlab.tasks import load_run
    from rnnlab.tasks.charlm import vocab_of

    text, splits = corpus_and_splits()
    ys = {s: y for s, (_, y) in splits.items()}
    result = {
        "pretraining_chars": len(text),
        "speeches": {s: len(y) for s, y in ys.items()},
        "naive_bayes_test_accuracy": naive_bayes()["accuracy"],
        "majority": 1 / (int(ys["train"].max()) + 1),
        "minutes": args.minutes,
        "hidden": args.hidden,
        "seeds": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            start = time.perf_counter()
            run_dir = pretrain(text, Path(tmp), args.minutes, args.hidden, seed)
            run = load_run(run_dir)
            vocab = vocab_of(run)
            progress = json.loads((run_dir / "progress.json").read_text())
            row = {"lm_val_nats_per_char": progress["best"], "lm_steps": progress["step"]}
            for name, model in (("pretrained", run.model), ("untrained", _untrained(run))):
                feats = {s: features(model, vocab, t) for s, (t, _) in splits.items()}
                row[name] = classify(feats, ys)
            row["seconds"] = round(time.perf_counter() - start, 1)
            row["load"] = os.getloadavg()[0]
            result["seeds"][seed] = row
            if args.out is not None:
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(json.dumps(result, indent=1))
    accs = [r["pretrained"]["test_accuracy"] for r in result["seeds"].values()]
    result["pretrained_test_mean"], result["pretrained_test_sd"] = (
        float(np.mean(accs)),
        float(np.std(accs)),
    )
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return result


def _untrained(run):
    """The same net at its initialisation (the run's task and config, its seed)."""
    return run.task.build_model(run.config, run.info)


if __name__ == "__main__":
    main()
