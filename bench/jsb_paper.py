"""JSB chorales with Chung, Gulcehre, Cho & Bengio (2014)'s recipe (issue 18): the
``chorales-paper`` row of ``bench/fidelity.py``.

Their recipe, as the project's checked notes give it: a peephole LSTM of 36 units (Graves
2013's form), a GRU of 46 and a tanh RNN of 100 (about 20K parameters each, counted as
the recurrent layer with a ~100-dimensional input); RMSProp; weight noise of sd 0.075
(Graves 2011: fresh Gaussian noise on the weights at every gradient evaluation); the
gradient's norm clipped at 1; the learning rate the best of 10 log-uniform draws on
validation; early stopping on validation. Here: ``--task chorales --data JSB.json
--cell peephole --optimizer rmsprop --clip 1 --weight-noise 0.075 --first-frame`` (every
chorale's first frame scored), the best-validation weights of ``--jsb-paper-steps``
steps of 16 chorales (the early stopping), and per cell the first ``N`` of one fixed
list of learning rates drawn log-uniformly from ``--jsb-paper-range`` (the same draws
for every cell). The ``N`` nets of a cell train side by side under ``jax.vmap`` (one
process, ~N times cheaper than N runs), from the same initial weights and batches, on
the task's own loss and the engine's optimizer. The run picked on validation is the
paper's number's counterpart (best of N); the mean over the N runs is beside it, and
the test NLL without each chorale's first frame (``frame_nll_rest``) measures what
scoring that frame changes.

Differences that stay: our GRU applies its reset gate after the matmul (Chung et al.'s
before; their footnote found both forms equal), 88 piano keys in and out (theirs 96),
batches of 16 chorales (theirs not checked), RMSProp's decay 0.95.

Resumable: every finished sweep (one cell, its N learning rates) adds one JSON line to
``RUNS/jsb-paper.jsonl``, which a rerun skips; an unfinished sweep resumes from its
checkpoint (``RUNS/jsb-paper-NAME.eqx``, saved at every validation).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

# cell: (units, Chung et al. 2014 Table 2 test NLL, their Table 1 parameter count)
PAPER = {"peephole": (36, 8.67, 19_800), "gru": (46, 8.54, 20_200), "elman": (100, 9.10, 20_100)}
GATES = {"peephole": 4, "gru": 3, "elman": 1}
RATES_SEED = 2014
BUCKET = 48  # a batch is cut to its longest chorale, rounded up to this: few shapes to compile


def learning_rates(low: float, high: float, n: int = 10) -> list[float]:
    """``n`` learning rates drawn log-uniformly from [low, high], one fixed list."""
    rng = np.random.default_rng(RATES_SEED)
    return [float(f"{v:.3g}") for v in np.exp(rng.uniform(np.log(low), np.log(high), n))]


def chung_count(cell: str, hidden: int, inputs: int = 100) -> int:
    """Parameters of the recurrent layer counted as Chung et al.'s Table 1 fits
    (papers-checked item 17): g H (D + H) weights, one bias per gate unit, 3 H peepholes."""
    g = GATES[cell]
    return g * hidden * (inputs + hidden) + g * hidden + (3 * hidden if cell == "peephole" else 0)


def optimizer(lr):
    """The engine's ``--optimizer rmsprop --clip 1`` (:func:`rnnlab.engine.optim.make_optimizer`)
    with a learning rate that may be traced (one per vmapped trial)."""
    return optax.chain(optax.clip_by_global_norm(1.0), optax.rmsprop(lr, decay=0.95))


def step_keys(seed: int, step: int, K: int, B: int) -> jax.Array:
    """(K, B) keys: trial k's per-row keys at ``step`` (its weight noise: the first)."""
    base = jax.random.fold_in(jax.random.key(seed + 2014), step)
    return jax.vmap(lambda k: jax.random.split(jax.random.fold_in(base, k), B))(jnp.arange(K))


def sweep_fns(static, noise: float):
    """The vmapped training step and validation loss of K trials (one learning rate each)
    on the chorales task's own loss (:func:`rnnlab.tasks.chorales.frame_loss_of`)."""
    from rnnlab.tasks.chorales import frame_loss_of

    train_loss, clean_loss = frame_loss_of(None, noise), frame_loss_of(None, 0.0)

    def one(p, s, lr, keys, batch):
        def f(p):
            total, count, _ = train_loss(eqx.combine(p, static), batch, None, keys)
            return total / jnp.maximum(count, 1)  # the engine's mean over frames

        loss, g = jax.value_and_grad(f)(p)
        u, s = optimizer(lr).update(g, s, p)
        return optax.apply_updates(p, u), s, loss

    def val(p, batch):
        total, count, _ = clean_loss(eqx.combine(p, static), batch, None, None)
        return total / count

    step = jax.jit(jax.vmap(one, in_axes=(0, 0, 0, 0, None)))
    return step, jax.jit(jax.vmap(val, in_axes=(0, None)))


def sweep(cell, rates, data, steps, noise, eval_every, seed=0, ckpt=None, log=None, until=None):
    """Train one net per learning rate side by side (the same initial weights and batches
    of 16 chorales, their own noise), keep each one's best validation weights (early
    stopping); return their scores. ``ckpt``: a file to resume from and save to (with the
    CPU seconds spent so far beside it, ``.json``); ``until``: stop at that step and score
    the best weights so far (the checkpoint stays, a later call goes on)."""
    from rnnlab.data import ShuffledBatches
    from rnnlab.models import SequenceTagger

    train, val, test = (data.splits[s] for s in ("train", "val", "test"))
    P, K = train.x.shape[-1], len(rates)
    net = SequenceTagger(P, P, cell=cell, hidden=PAPER[cell][0], key=jax.random.key(seed))
    params, static = eqx.partition(net, eqx.is_inexact_array)
    params = jax.tree_util.tree_map(lambda a: jnp.broadcast_to(a, (K, *a.shape)), params)
    lrs = jnp.asarray(rates, jnp.float32)
    state = jax.vmap(lambda p, lr: optimizer(lr).init(p))(params, lrs)
    train_step, val_loss = sweep_fns(static, noise)
    B = min(16, len(train))  # 16 chorales a batch (fewer in a tiny test file)
    batches = ShuffledBatches((train.x, train.y, train.lengths), B, seed)
    vb = tuple(jnp.asarray(a) for a in (val.x, val.y, val.lengths))
    carry = (params, state, params, jnp.full(K, jnp.inf), jnp.zeros(K, jnp.int32), 0)
    if ckpt is not None and Path(ckpt).is_file():
        carry = eqx.tree_deserialise_leaves(ckpt, carry[:-1] + (jnp.int32(0),))
    params, state, best, best_val, best_step, done = carry
    stop = steps if until is None else min(steps, until)
    spent = _spent(ckpt) - time.process_time()
    for t in range(int(done), stop):
        x, y, n = batches.get(t)
        T = min(x.shape[1], -(-int(n.max()) // BUCKET) * BUCKET)  # padding cut: same sums
        batch = (jnp.asarray(x[:, :T]), jnp.asarray(y[:, :T]), jnp.asarray(n))
        params, state, _ = train_step(params, state, lrs, step_keys(seed, t, K, B), batch)
        if (t + 1) % eval_every == 0 or t + 1 == stop:
            v = val_loss(params, vb)
            better = v < best_val
            best = jax.tree_util.tree_map(
                lambda b, p, m=better: jnp.where(m.reshape((K,) + (1,) * (p.ndim - 1)), p, b),
                best, params,
            )  # fmt: skip
            best_val = jnp.where(better, v, best_val)
            best_step = jnp.where(better, t + 1, best_step)
            if ckpt is not None:
                carry = (params, state, best, best_val, best_step, jnp.int32(t + 1))
                eqx.tree_serialise_leaves(ckpt, carry)
                Path(ckpt).with_suffix(".json").write_text(
                    json.dumps({"cpu_s": spent + time.process_time(), "step": t + 1})
                )
            if log is not None:
                log(t + 1, np.asarray(v))
    cpu = round((spent + time.process_time()) / 60, 2)
    runs = [_scores(eqx.combine(jax.tree_util.tree_map(lambda a, k=k: a[k], best), static),
                    train, test) | {"lr": rates[k], "best_val": round(float(best_val[k]), 4),
                                    "best_step": int(best_step[k])}
            for k in range(K)]  # fmt: skip
    return {"runs": runs, "steps_done": max(int(done), stop), "cpu_minutes": cpu}


def _spent(ckpt) -> float:
    """CPU seconds of the sweep before this call (from the checkpoint's sidecar)."""
    side = None if ckpt is None else Path(ckpt).with_suffix(".json")
    return json.loads(side.read_text())["cpu_s"] if side is not None and side.is_file() else 0.0


def _scores(model, train, test) -> dict:
    from rnnlab.tasks.chorales import baseline_scores, roll_scores

    logits = model(jnp.asarray(test.x), jnp.asarray(test.lengths))  # (N, T, P)
    m = roll_scores(np.asarray(jax.nn.sigmoid(logits)), test, first=True)
    return {"test_frame_nll": round(m["frame_nll"], 4),
            "test_frame_nll_rest": round(m["frame_nll_rest"], 4),
            "test_frame_nll_first": round(m["frame_nll_first"], 4),
            "test_accuracy": round(m["accuracy"], 4), "test_frames": m["frames"],
            "baseline_frame_nll": round(baseline_scores(train, test)["frame_nll"], 4),
            "recurrent_params": int(sum(np.size(a) for a in jax.tree_util.tree_leaves(
                eqx.filter(model.rnn, eqx.is_inexact_array))))}  # fmt: skip


def summary(sweep: dict, cell: str, args) -> dict:
    """The run picked on validation beside the mean of all (test NLL, nats per frame)."""
    hidden, paper, paper_params = PAPER[cell]
    runs = sweep["runs"]
    done = sweep.get("steps_done", args.jsb_paper_steps)  # (lines written before it was kept)
    pick = min(runs, key=lambda r: r["best_val"])
    test = [r["test_frame_nll"] for r in runs]
    rest = [r["test_frame_nll_rest"] for r in runs]
    sd = lambda v: round(float(np.std(v, ddof=1)), 3) if len(v) > 1 else None  # noqa: E731
    return {
        "paper": paper, "hidden": hidden,
        "params_chung_basis": {"paper": paper_params, "ours_at_100_inputs":
                               chung_count(cell, hidden), "ours_at_88_inputs":
                               chung_count(cell, hidden, 88)},
        "recurrent_params": pick["recurrent_params"],
        "learning_rates": len(runs),
        "best_of_n": {"lr": pick["lr"], "val": pick["best_val"],
                      "test_frame_nll": pick["test_frame_nll"],
                      "test_frame_nll_without_first_frames": pick["test_frame_nll_rest"],
                      "test_frame_nll_first_frames": pick["test_frame_nll_first"],
                      "test_accuracy": pick["test_accuracy"]},
        "mean_of_n": {"test_frame_nll": round(float(np.mean(test)), 3), "sd": sd(test),
                      "test_frame_nll_without_first_frames": round(float(np.mean(rest)), 3)},
        "baseline_frame_nll": pick["baseline_frame_nll"],
        "budget": f"{done} steps of 16 chorales ({done * 16 / 229:.0f} epochs)"
        + ("" if done >= args.jsb_paper_steps else
           f" of {args.jsb_paper_steps} (unfinished: a snapshot)")
        + ", best validation checkpoint",
        "cpu_minutes": sweep["cpu_minutes"],
        "command": f"rnnlab train --task chorales --data JSB.json --cell {cell} --hidden "
        f"{hidden} --optimizer rmsprop --lr LR --clip 1 --weight-noise "
        f"{args.jsb_paper_noise:g} --first-frame --batch-size 16 --steps "
        f"{args.jsb_paper_steps} --devices 1",
        "runs": runs,
    }  # fmt: skip


def jsb_paper_row(args, emit) -> dict:
    """Per cell of ``--jsb-paper-cells``, its share of the learning-rate draws (the
    first cell ``--jsb-paper-lrs``, the others ``--jsb-paper-lrs-others``), trained side
    by side in one sweep per cell."""
    from rnnlab.tasks.chorales import jsb_dataset

    data_path = Path(args.jsb)
    if not data_path.is_file():
        sys.exit(f"--jsb {data_path}: no such file (a benchmark-only file; see the README)")
    data = jsb_dataset(data_path, first=True)
    low, high = args.jsb_paper_range
    rates = learning_rates(low, high, max(args.jsb_paper_lrs, args.jsb_paper_lrs_others))
    log = args.runs / "jsb-paper.jsonl"
    done = {}
    if log.is_file() and not args.fresh:
        for line in log.read_text().splitlines():
            r = json.loads(line)
            done[r["name"]] = r
    out = {"paper": "Chung et al. 2014, Table 2: JSB test NLL, best of 10 learning rates "
           "on validation", "data": data_path.name,
           "recipe": f"RMSProp (decay 0.95), weight noise {args.jsb_paper_noise:g}, clip 1, "
           f"learning rates log-uniform in [{low:g}, {high:g}] (fixed draws, seed "
           f"{RATES_SEED}): {rates}, first frame scored, best validation checkpoint "
           f"(checked every {args.jsb_paper_eval} steps), the nets of one cell trained side "
           "by side from the same initial weights and batches", "models": {}}  # fmt: skip
    for n, cell in enumerate(args.jsb_paper_cells):
        mine = rates[: args.jsb_paper_lrs if n == 0 else args.jsb_paper_lrs_others]
        name = f"{cell}-{len(mine)}lrs-noise{args.jsb_paper_noise:g}-{args.jsb_paper_steps}"
        if name not in done:
            ckpt = args.runs / f"jsb-paper-{name}.eqx"

            def show(step, v, cell=cell):
                print(f"chorales-paper {cell}: step {step}, val {v.round(3).tolist()}",
                      file=sys.stderr)  # fmt: skip

            result = sweep(
                cell,
                mine,
                data,
                args.jsb_paper_steps,
                args.jsb_paper_noise,
                args.jsb_paper_eval,
                args.seed,
                ckpt,
                show,
                args.jsb_paper_until,
            )
            result["name"] = name  # fmt: skip
            if result["steps_done"] < args.jsb_paper_steps:  # --jsb-paper-until: a snapshot
                out["models"][cell] = summary(result, cell, args)
                emit(out)
                continue
            done[name] = result
            with log.open("a") as f:
                f.write(json.dumps(done[name]) + "\n")
            ckpt.unlink(missing_ok=True)
            ckpt.with_suffix(".json").unlink(missing_ok=True)
        out["models"][cell] = summary(done[name], cell, args)
        emit(out)
    return out
