"""``--task numbers``: English number words into French ones (sequence to sequence).

"ninety-seven" -> "quatre-vingt-dix-sept", character by character, for numbers from 0
to 999,999 (num2words writes both sides; see :mod:`rnnlab.tasks._numbers` for the
split, which keeps every test number out of training). The model is
:class:`rnnlab.models.Seq2Seq` (``--attention luong`` or ``none``), trained by teacher
forcing; evaluation decodes greedily or by beam search (``--beam K``) and reports exact
match and character error rate beside the word-by-word dictionary translation.
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import optax

from rnnlab.config import option
from rnnlab.data.batching import ShuffledBatches
from rnnlab.engine import Problem, io
from rnnlab.models._seq2seq import ATTENTION, Seq2Seq, beam_search, greedy
from rnnlab.tasks import _numbers as data
from rnnlab.tasks._supervised import forget_biased
from rnnlab.tasks._task import Criterion, Data, Sample, Task
from rnnlab.tasks.registry import register


@dataclasses.dataclass
class NumbersOptions:
    """The options of ``numbers``: the attention and the size of the training set."""

    attention: str = option(
        "luong", "Attention over the encoder: luong (global, after each decoder step), "
        "bahdanau (additive, before each step) or none.", choices=ATTENTION, fixed=True,
    )  # fmt: skip
    size: int = option(
        20000, "Training pairs (validation and test: a tenth, 10 to 1,000).", ge=1, le=200_000,
        fixed=True,
    )  # fmt: skip


def seq2seq_loss(model, batch, carry, keys):
    """Summed NLL of every target symbol (EOS included, padding not) under teacher
    forcing, and their count."""
    src, src_len, tgt, tgt_len = batch  # (b, S), (b,), (b, T), (b,)
    logits = model(src, src_len, tgt, tgt_len)  # (b, T, V)
    mask = jnp.arange(tgt.shape[1])[None, :] < tgt_len[:, None]  # (b, T)
    nll = optax.softmax_cross_entropy_with_integer_labels(logits, tgt)
    return jnp.where(mask, nll, 0.0).sum(), mask.sum(), carry


@eqx.filter_jit
def _nll(model, batch):
    total, count, _ = seq2seq_loss(model, batch, None, None)
    return total, count


def _chunks(arrays, chunk: int = 250):
    """(valid rows (chunk,) bool, arrays' rows) in chunks of one size (the last one
    padded with row 0): one compile for any number of rows."""
    n = len(arrays[0])
    chunk = min(chunk, n)
    for i in range(0, n, chunk):
        idx = np.arange(i, i + chunk)
        yield idx < n, tuple(a[np.where(idx < n, idx, 0)] for a in arrays)


def nll_per_symbol(model, pairs: data.Pairs) -> float:
    """Teacher-forced NLL per target symbol (EOS included), in nats."""
    total = count = 0.0
    for valid, (src, src_len, tgt, tgt_len) in _chunks(pairs.arrays):
        t, c = _nll(model, (src, src_len, tgt, tgt_len * valid))  # padding rows count 0
        total, count = total + float(t), count + float(c)
    return total / count


def translate(model, src, src_len, beam: int = 1) -> np.ndarray:
    """Decoded target ids (N, MAX_LEN): greedy for ``beam == 1``, else beam search."""
    out = []
    for valid, (s, sl) in _chunks((src, src_len)):
        if beam == 1:
            tokens, _, _ = greedy(model, s, sl, data.MAX_LEN)
        else:
            tokens, _ = beam_search(model, s, sl, data.MAX_LEN, beam)
        out.append(np.asarray(tokens)[valid])
    return np.concatenate(out)


@register
class Numbers(Task):
    name = "numbers"
    pattern = "sequence-to-sequence"
    source = "num2words 0..999,999, English -> French words; test numbers unseen (hash split)"
    metric = "exact match, CER"
    baseline = "word-by-word dictionary"
    figures = ("attention map",)
    Options = NumbersOptions
    model_fields = ("model", "cell", "hidden", "layers", "embed", "forget_bias")
    truncates = False
    defaults = {"hidden": 128, "batch_size": 64, "steps": 2000, "eval_every": 200}
    criterion = Criterion("exact_match", margin=0.3)
    eval_flags = ("beam",)
    sample_flags = ("prime", "beam")

    def load_data(self, config) -> Data:
        return Data(data.load(config.options.size))

    def build_model(self, config, info=None) -> Seq2Seq:
        import jax

        m = config.model
        model = Seq2Seq(
            data.EN.size, data.FR.size, cell=m.cell, hidden=m.hidden, embed=m.embed,
            layers=m.layers, attention=config.options.attention,
            key=jax.random.key(config.train.seed),
        )  # fmt: skip
        return model if m.forget_bias is None else forget_biased(model, m.forget_bias)

    def loss(self, config):
        return seq2seq_loss

    def problem(self, model, pairs: Data, config) -> Problem:
        """Teacher-forced NLL per target symbol picks the best checkpoint; greedy exact
        match on the validation split is reported beside it."""
        train, val = pairs.splits["train"], pairs.splits["val"]
        batch = min(config.train.batch_size, len(train))

        def validate(model):
            pred = [data.FR.decode(t) for t in translate(model, *val.arrays[:2])]
            exact = data.text_scores(pred, val.french)["exact_match"]
            return {"val_loss": nll_per_symbol(model, val), "val_exact_match": exact}

        return Problem(
            model=model, loss=seq2seq_loss,
            batches=ShuffledBatches(train.arrays, batch, config.train.seed), batch_size=batch,
            evaluate=validate, unit="pairs", loss_label="NLL per French character (nats)",
        )  # fmt: skip

    def metrics(self, run, pairs: Data, split, *, beam=None, **options):
        """Exact match, CER and the NLL per symbol of the model, decoded with ``beam``
        (none: greedy)."""
        part = pairs.split(split)
        tokens = translate(run.model, *part.arrays[:2], beam=beam or 1)
        pred = [data.FR.decode(t) for t in tokens]
        metrics = {**data.text_scores(pred, part.french), "loss": nll_per_symbol(run.model, part)}
        return metrics, pred

    def baseline_metrics(self, run, pairs: Data, split, **options):
        """:func:`rnnlab.tasks._numbers.word_by_word` (it has no probabilities: no loss)."""
        part = pairs.split(split)
        return data.text_scores([data.word_by_word(e) for e in part.english], part.french)

    def write_figures(self, run, pairs: Data, split, pred):
        """With attention, ``attention_<split>.png`` shows three examples."""
        if run.config.options.attention == "none":
            return []
        path = run.dir / f"attention_{split}.png"
        attention_figure(path, run.model, pairs.split(split), pred, split)
        return [path]

    def sample(self, run, *, prime="", beam=None, **options) -> Sample:
        """The French for ``prime`` (English number words or digits)."""
        source = data.parse_source(prime)
        src, src_len = data.EN.encode([source])
        return Sample([data.FR.decode(translate(run.model, src, src_len, beam=beam or 1)[0])])


def attention_figure(path, model, pairs: data.Pairs, pred: list[str], split: str, k: int = 3):
    """Attention weights (French output characters x English input characters) of ``k``
    examples from the shortest to the longest, read along the model's own output."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = min(k, len(pairs))
    by_length = np.argsort([len(e) for e in pairs.english], kind="stable")
    rows = by_length[np.linspace(0, len(pairs) - 1, k).astype(int)]
    pred = [pred[r][: data.MAX_LEN - 1] for r in rows]  # one that never ended, cut for EOS
    tgt, tgt_len = data.FR.encode(pred, eos=True)
    src, src_len = (a[rows] for a in pairs.arrays[:2])
    _, a = model(src, src_len, tgt, tgt_len, return_attention=True)  # (k, T, S)
    fig, axes = plt.subplots(
        k, 1, figsize=(10, 1.5 + 0.12 * tgt_len.sum()), squeeze=False,
        gridspec_kw={"height_ratios": tgt_len},  # one height per output character
    )  # fmt: skip
    for i, (r, ax) in enumerate(zip(rows, axes[:, 0], strict=True)):
        S, T = int(src_len[i]), int(tgt_len[i])
        ax.imshow(np.asarray(a[i, :T, :S]), cmap="Greys", vmin=0, vmax=1, aspect="auto")
        ax.set_xticks(range(S), list(pairs.english[r]), fontsize=6)
        ax.set_yticks(range(T), list(pred[i]) + ["<end>"], fontsize=6)
        ax.set_title(f"{pairs.numbers[r]}: {pred[i]!r} (reference {pairs.french[r]!r})", fontsize=8)
    fig.suptitle(f"numbers, {split} split: attention of each French character", fontsize=9)
    fig.tight_layout()
    io.atomic_write(path, lambda f: fig.savefig(f, format="png"))
    plt.close(fig)
