"""The training loop of the character model: truncated BPTT over B parallel streams.

One call, :func:`train`, does a whole run: it builds or resumes the run directory,
carries the recurrent state from batch to batch (each row of batch k+1 continues
row k of batch k, as in char-rnn), evaluates on the validation split, keeps the
best checkpoint, writes ``metrics.jsonl`` and a loss-curve PNG, and stops cleanly
on Ctrl-C. Reporting goes through a callback so that the library never prints.
"""

from __future__ import annotations

import dataclasses
import json
import math
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from rnnlab.charlm import checkpoint as ckpt
from rnnlab.charlm.config import RunConfig
from rnnlab.charlm.sample import evaluate, sample
from rnnlab.data import StreamBatches, Vocab, load_corpus, split_ids
from rnnlab.errors import UserError


def make_optimizer(cfg) -> optax.GradientTransformation:
    """Clipping by global norm, then Adam / RMSProp / SGD(+momentum) on a schedule."""
    if cfg.schedule == "cosine":
        warmup = min(cfg.warmup, max(cfg.steps - 1, 0))
        lr = optax.warmup_cosine_decay_schedule(
            0.0, cfg.lr, warmup, max(cfg.steps, warmup + 1), end_value=0.1 * cfg.lr
        )
    else:
        lr = cfg.lr
    opt = {
        "adam": lambda: optax.adam(lr),
        "rmsprop": lambda: optax.rmsprop(lr, decay=0.95),
        "sgd": lambda: optax.sgd(lr, momentum=cfg.momentum or None),
    }[cfg.optimizer]()
    return optax.chain(optax.clip_by_global_norm(cfg.clip), opt) if cfg.clip else opt


def _make_step(optimizer, truncate):
    @eqx.filter_jit(donate="all-except-first")
    def step(key, model, opt_state, carry, x, y):
        def loss_fn(model):
            logits, carry_out = model(x, carry, key=key, truncate=truncate)
            loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
            return loss, carry_out

        (loss, carry), grads = eqx.filter_value_and_grad(loss_fn, has_aux=True)(model)
        updates, opt_state = optimizer.update(grads, opt_state, eqx.filter(model, eqx.is_array))
        model = eqx.apply_updates(model, updates)
        return model, opt_state, carry, loss

    return step


def _check_run_dir(run_dir: Path, config: RunConfig | None, resume: bool) -> RunConfig:
    """The run's config: the saved one (``resume``) or ``config`` for a new directory.

    Touches nothing on disk: every check happens before the first write.
    """
    if resume:
        saved = RunConfig.load(run_dir)
        if config is None:
            return saved
        if config.model != saved.model or config.train.corpus != saved.train.corpus:
            raise UserError(
                f"--resume: the model or corpus differ from those of {run_dir}; "
                "drop those flags or train into a new --out"
            )
        config.vocab = saved.vocab
        return config
    if run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
        what = "a run" if (run_dir / ckpt.CONFIG).exists() else "other files"
        raise UserError(
            f"{run_dir} already holds {what}; use --resume to continue it or pick a new --out"
        )
    return config


def train(
    run_dir,
    config: RunConfig | None = None,
    *,
    resume: bool = False,
    report: Callable[[dict], None] = lambda event: None,
) -> dict:
    """Train (or, with ``resume``, continue) the run in ``run_dir``; return a summary.

    ``config.vocab`` is filled in from the corpus. ``report`` receives events:
    ``{"event": "start"|"step"|"eval"|"stop", ...}``.
    """
    run_dir = Path(run_dir)
    config = _check_run_dir(run_dir, config, resume)
    config.model.check()
    config.train.check()
    cfg = config.train
    corpus = load_corpus(cfg.corpus)
    vocab = Vocab.from_text(corpus.text)
    if resume and vocab != Vocab.from_json(config.vocab):
        raise UserError(
            f"the corpus {cfg.corpus!r} no longer has the vocabulary of {run_dir}; "
            "resume with the same corpus or train a new run"
        )
    config.vocab = vocab.to_json()
    splits = split_ids(vocab.encode(corpus.text))
    batches = StreamBatches(splits["train"], cfg.batch_size, cfg.seq_len)
    val_ids = splits["val"][: cfg.eval_chars]
    if len(val_ids) < 2:
        raise UserError(
            f"corpus {cfg.corpus!r} ({len(corpus.text)} chars) is too short to hold out a "
            "validation split; give a longer text"
        )

    optimizer = make_optimizer(cfg)
    model = ckpt.new_model(config)
    opt_state = optimizer.init(eqx.filter(model, eqx.is_array))
    carry = model.init_state(cfg.batch_size)
    start, best, metrics_lines = 0, math.inf, []
    if resume:
        progress = ckpt.read_progress(run_dir)
        start, best = progress["step"], progress["best_val"]
        model, opt_state, carry = ckpt.load_tree(run_dir / ckpt.LAST, (model, opt_state, carry))
        metrics_lines = _read_metrics(run_dir / ckpt.METRICS, upto=start)
    run_dir.mkdir(parents=True, exist_ok=True)  # all checks passed: now write
    ckpt.write_text(run_dir / ckpt.CONFIG, config.to_json())
    step_fn = _make_step(optimizer, cfg.truncate)
    base_key = jax.random.key(cfg.seed + 1)  # distinct from the initialisation key
    report(
        {
            "event": "start",
            "step": start,
            "steps": cfg.steps,
            "chars": len(corpus.text),
            "vocab": vocab.size,
            "corpus": corpus.name,
        }
    )

    def save_state(step):
        ckpt.save_tree(run_dir / ckpt.LAST, (model, opt_state, carry))
        ckpt.write_text(run_dir / ckpt.PROGRESS, json.dumps({"step": step, "best_val": best}))
        ckpt.write_text(run_dir / ckpt.METRICS, "".join(metrics_lines))

    def log(entry):
        metrics_lines.append(json.dumps(entry) + "\n")

    t_start, t_log, chars_since = time.perf_counter(), time.perf_counter(), 0
    step, losses, evaluated = start, [], start
    stop = _StopFlag()
    try:
        while step < cfg.steps and not stop.requested:
            if cfg.minutes is not None and time.perf_counter() - t_start > 60 * cfg.minutes:
                break
            if batches.is_epoch_start(step):
                carry = model.init_state(cfg.batch_size)  # streams restart: forget them
            x, y = batches.get(step)
            key = jax.random.fold_in(base_key, step) if config.model.dropout else None
            model, opt_state, carry, loss = step_fn(key, model, opt_state, carry, x, y)
            step += 1
            chars_since += x.size
            losses.append(loss)
            if step % cfg.log_every == 0 or step == cfg.steps:
                now = time.perf_counter()
                mean = float(jnp.mean(jnp.stack(losses)))
                cps = chars_since / (now - t_log)
                t_log, chars_since, losses = now, 0, []
                log(
                    {
                        "step": step,
                        "loss": mean,
                        "chars_per_s": round(cps, 1),
                        "epoch": batches.epoch(step - 1),
                        "time": round(now - t_start, 2),
                    }
                )
                report({"event": "step", "step": step, "loss": mean, "chars_per_s": cps})
            if step % cfg.eval_every == 0 or step == cfg.steps:
                best = _evaluate(run_dir, config, model, vocab, val_ids, step, best, log, report)
                save_state(step)
                evaluated = step
    except KeyboardInterrupt:  # raised by a ``report`` callback, outside any JAX call
        stop.requested = True
    finally:
        stop.restore()
    interrupted = stop.requested
    if step > evaluated:  # stopped by Ctrl-C or --minutes: best.eqx must see the last steps
        best = _evaluate(run_dir, config, model, vocab, val_ids, step, best, log, report)
    save_state(step)
    _plot(run_dir)
    summary = {"event": "stop", "step": step, "best_val": best, "interrupted": interrupted}
    report(summary)
    return summary


class _StopFlag:
    """Turns Ctrl-C into a flag that the loop checks between steps.

    A KeyboardInterrupt in the middle of a step could leave the model half-updated
    (its buffers are donated to the jitted step), so the first Ctrl-C only asks the
    loop to stop after the current step and save; a second one aborts.
    """

    def __init__(self):
        self.requested = False
        self._old = None
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def restore(self):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
            self._old = None


def _evaluate(run_dir, config, model, vocab, val_ids, step, best, log, report):
    cfg = config.train
    val = evaluate(model, val_ids, batch_size=cfg.batch_size, seq_len=cfg.seq_len)
    text = "".join(
        sample(model, vocab, length=cfg.sample_chars, key=jax.random.key(cfg.seed), temperature=0.8)
    )
    if val < best:
        best = val
        ckpt.save_tree(run_dir / ckpt.BEST, model)
    log({"step": step, "val_loss": val, "best_val": best})
    report({"event": "eval", "step": step, "val_loss": val, "best_val": best, "sample": text})
    return best


def _read_metrics(path: Path, upto: int) -> list[str]:
    """The lines of ``metrics.jsonl`` up to step ``upto`` (later ones were never saved)."""
    if not path.is_file():
        return []
    keep = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        try:
            if json.loads(line)["step"] <= upto:
                keep.append(line)
        except (ValueError, KeyError):
            continue
    return keep


def _plot(run_dir: Path) -> None:
    """Training and validation loss against step, as ``loss.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(line) for line in _read_metrics(run_dir / ckpt.METRICS, upto=math.inf)]
    train = [(r["step"], r["loss"]) for r in rows if "loss" in r]
    val = [(r["step"], r["val_loss"]) for r in rows if "val_loss" in r]
    if not train:
        return
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    ax.plot(*np.array(train).T, label="train", lw=1)
    if val:
        ax.plot(*np.array(val).T, "o-", label="validation", ms=3)
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats/char)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    ckpt.atomic_write(run_dir / ckpt.CURVE, lambda f: fig.savefig(f, format="png"))
    plt.close(fig)


def config_from_flags(base: RunConfig | None = None, **flags) -> RunConfig:
    """``base`` (default: a fresh :class:`RunConfig`) with the given CLI flags applied;
    a flag of ``None`` means "keep what is there"."""
    config = RunConfig() if base is None else base
    for section in (config.model, config.train):
        names = {f.name for f in dataclasses.fields(section)}
        for name, value in flags.items():
            if name in names and value is not None:
                setattr(section, name, value)
    return config
