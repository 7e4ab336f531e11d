"""Tasks whose steps are token ids (words, characters): a vocabulary from the training
split, ids stored as floats in the tasks' one array layout (N, T, 1), and an embedding
layer in front of the model."""

from __future__ import annotations

import collections
import dataclasses

import jax
import numpy as np

from rnnlab.config import option
from rnnlab.tasks._data import Dataset, SeqData
from rnnlab.tasks._supervised import SupervisedTask

PAD, UNK = "<pad>", "<unk>"


def build_vocab(sequences, cap: int) -> list[str]:
    """``[PAD, UNK]`` and then the ``cap - 2`` most frequent tokens of ``sequences`` (ties
    in sorted order, so the vocabulary is the same on every machine)."""
    counts = collections.Counter(t for seq in sequences for t in seq)
    ranked = sorted(counts, key=lambda t: (-counts[t], t))
    return [PAD, UNK, *ranked[: max(0, cap - 2)]]


def encode(sequences, vocab: list[str], labels=None, max_len: int | None = None) -> SeqData:
    """Token sequences -> :class:`SeqData` with ids in ``x`` (N, T, 1) (unknown tokens get
    id 1, padding 0), cut to ``max_len``; ``labels`` is one int per sequence or one list
    per sequence (one label per token)."""
    index = {t: i for i, t in enumerate(vocab)}
    cut = [list(seq)[:max_len] for seq in sequences]
    lengths = np.array([len(seq) for seq in cut], np.int32)
    T = int(lengths.max())
    x = np.zeros((len(cut), T, 1), np.float32)
    for row, seq in enumerate(cut):
        x[row, : len(seq), 0] = [index.get(t, 1) for t in seq]
    if labels is None or np.ndim(labels[0]) == 0:
        y = np.asarray(labels if labels is not None else np.zeros(len(cut)), np.int32)
    else:
        y = np.zeros((len(cut), T), np.int32)
        for row, tags in enumerate(labels):
            y[row, : lengths[row]] = list(tags)[: lengths[row]]
    return SeqData(x, y, lengths)


@dataclasses.dataclass
class TokenDataset(Dataset):
    """A :class:`Dataset` of ids: not standardised, and ``info`` (``config.json``) keeps
    the vocabulary."""

    vocab: list[str] = dataclasses.field(default_factory=list)

    def info(self) -> dict:
        info = super().info()
        return {
            **info,
            "mean": [0.0],
            "std": [1.0],
            "vocab_size": len(self.vocab),
            "vocab": self.vocab,
        }


@dataclasses.dataclass
class TokenOptions:
    """The options of a task over token ids."""

    vocab: int = option(
        4000, "Keep the N most frequent training tokens (the rest share the unknown id).",
        ge=3, fixed=True,
    )  # fmt: skip


class TokenTask(SupervisedTask):
    """A supervised task over token ids: the configured model behind an embedding."""

    Options = TokenOptions
    model_fields = (*SupervisedTask.model_fields, "embed")

    def build_model(self, config, info):
        from rnnlab.models import Embedded

        E = config.model.embed
        body = super().build_model(config, {**info, "features": E})
        key = jax.random.fold_in(jax.random.key(config.train.seed), 1)
        return Embedded(info["vocab_size"], E, body, key=key)
