"""Training the character model: truncated BPTT over B parallel streams, through the engine.

:func:`train` builds the pieces that are particular to a char model (corpus,
vocabulary, contiguous stream batches, validation loss and a sample at every
evaluation) and hands them to :func:`rnnlab.engine.fit`, which owns the loop, the
devices and the run directory. Each row of batch k+1 continues row k of batch k, so
the recurrent state is carried from batch to batch (as in char-rnn).
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable
from pathlib import Path

import jax
import optax

from rnnlab.charlm import checkpoint as ckpt
from rnnlab.charlm.config import RunConfig
from rnnlab.charlm.sample import evaluate, sample
from rnnlab.data import StreamBatches, Vocab, load_corpus, split_ids
from rnnlab.engine import Problem, Settings, check_new_run_dir, fit, optimizer_of
from rnnlab.engine.devices import process_index
from rnnlab.errors import UserError


@functools.cache
def lm_loss(truncate: int | None):
    """The summed next-character cross-entropy of a batch, carrying the stream state.

    One function per ``truncate`` (cached): it is a static argument of the engine's
    compiled step.
    """

    def loss(model, batch, carry, keys):
        x, y = batch  # (b, T) ids each
        logits, carry = model(x, carry, key=keys, truncate=truncate)  # (b, T, V)
        nll = optax.softmax_cross_entropy_with_integer_labels(logits, y)
        return nll.sum(), y.size, carry

    return loss


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
    if process_index() == 0:  # other processes of a group find the directory made by it
        check_new_run_dir(run_dir)
    return config


def train(
    run_dir,
    config: RunConfig | None = None,
    *,
    resume: bool = False,
    report: Callable[[dict], None] = lambda event: None,
) -> dict:
    """Train (or, with ``resume``, continue) the run in ``run_dir``; return a summary.

    ``config.vocab`` is filled in from the corpus. ``report`` receives the engine's
    events (``start``, ``step``, ``eval`` with a text sample, ``stop``). The summary has
    ``step``, ``best_val`` (nats/char), ``status`` (``done``, ``interrupted``,
    ``time`` or ``diverged``) and, when diverged, ``message``.
    """
    run_dir = Path(run_dir)
    config = _check_run_dir(run_dir, config if resume else (config or RunConfig()), resume)
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
    model = ckpt.new_model(config)

    def validate(model):
        val = evaluate(model, val_ids, batch_size=cfg.batch_size, seq_len=cfg.seq_len)
        key = jax.random.key(cfg.seed)
        text = "".join(sample(model, vocab, length=cfg.sample_chars, key=key, temperature=0.8))
        return {"val_loss": val, "sample": text}

    problem = Problem(
        model=model,
        loss=lm_loss(cfg.truncate),
        batches=batches,
        batch_size=cfg.batch_size,
        init_carry=model.init_state,
        evaluate=validate,
        stochastic=config.model.dropout > 0,
        items_per_step=cfg.batch_size * cfg.seq_len,
        unit="chars",
        loss_label="cross-entropy (nats/char)",
    )
    settings = Settings.of(cfg)

    def relay(event):
        if event["event"] == "start":
            event = {**event, "chars": len(corpus.text), "vocab": vocab.size, "corpus": corpus.name}
        report(event)

    result = fit(
        problem,
        optimizer_of(cfg, steps_per_epoch=len(batches)),
        settings,
        run_dir=run_dir,
        config={"task": "charlm", **json.loads(config.to_json())},
        resume=resume,
        report=relay,
    )
    s = result.summary
    summary = {
        "step": s["step"],
        "best_val": s["best"],
        "status": s["status"],
        "interrupted": s["status"] == "interrupted",
    }
    if "message" in s:
        summary["message"] = s["message"]
    return summary


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
