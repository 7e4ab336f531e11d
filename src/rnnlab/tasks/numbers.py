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
from pathlib import Path

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import optax

from rnnlab.engine import Problem, Settings, check_new_run_dir, fit, io, optimizer_of
from rnnlab.errors import UserError
from rnnlab.models._seq2seq import ATTENTION, Seq2Seq, beam_search, greedy
from rnnlab.tasks import _numbers as data
from rnnlab.tasks._supervised import TaskConfig, read_config
from rnnlab.tasks.registry import register


@dataclasses.dataclass
class NumbersConfig(TaskConfig):
    """A ``numbers`` run: the sequence tasks' fields plus the seq2seq ones."""

    task: str = "numbers"
    hidden: int = 128
    embed: int = 32
    attention: str = "luong"
    size: int = 20000  # training pairs; validation and test get a tenth (10 to 1000)
    batch_size: int = 64
    steps: int = 2000
    eval_every: int = 200

    def check(self, models) -> None:
        super().check(models)
        if self.attention not in ATTENTION:
            raise UserError(f"--attention must be one of {', '.join(ATTENTION)}, got "
                            f"{self.attention!r}")  # fmt: skip
        if self.dropout:
            raise UserError("--dropout does not apply to --task numbers (its Seq2Seq has none)")
        for name in ("embed", "size"):
            if getattr(self, name) < 1:
                raise UserError(f"--{name} must be >= 1, got {getattr(self, name)}")


def seq2seq_loss(model, batch, carry, keys):
    """Summed NLL of every target symbol (EOS included, padding not) under teacher
    forcing, and their count."""
    src, src_len, tgt, tgt_len = batch  # (b, S), (b,), (b, T), (b,)
    logits = model(src, src_len, tgt, tgt_len)  # (b, T, V)
    mask = jnp.arange(tgt.shape[1])[None, :] < tgt_len[:, None]  # (b, T)
    nll = optax.softmax_cross_entropy_with_integer_labels(logits, tgt)
    return jnp.where(mask, nll, 0.0).sum(), mask.sum(), carry


class PairBatches:
    """Shuffled batches of pairs, a pure function of the step (exact resume)."""

    def __init__(self, pairs: data.Pairs, batch_size: int, seed: int):
        self.arrays, self.batch_size, self.seed = pairs.arrays, batch_size, seed
        self.per_epoch = len(pairs) // batch_size

    def epoch(self, step: int) -> int:
        return step // self.per_epoch

    def get(self, step: int):
        e, i = divmod(step, self.per_epoch)
        perm = np.random.default_rng([self.seed, e]).permutation(len(self.arrays[0]))
        rows = perm[i * self.batch_size : (i + 1) * self.batch_size]
        return tuple(a[rows] for a in self.arrays)


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
class Numbers:
    name = "numbers"
    pattern = "sequence-to-sequence"
    source = "num2words 0..999,999, English -> French words; test numbers unseen (hash split)"
    metric = "exact match, CER"
    baseline = "word-by-word dictionary"
    models = ("rnn",)
    figures = ("attention map",)
    config_class = NumbersConfig
    decodes = True  # eval and sample take --beam

    def build_model(self, config: NumbersConfig) -> Seq2Seq:
        import jax

        return Seq2Seq(
            data.EN.size, data.FR.size, cell=config.cell, hidden=config.hidden,
            embed=config.embed, layers=config.layers, attention=config.attention,
            key=jax.random.key(config.seed),
        )  # fmt: skip

    def problem(self, model, train: data.Pairs, val: data.Pairs, config) -> Problem:
        """Teacher-forced NLL per target symbol picks the best checkpoint; greedy exact
        match on the validation split is reported beside it."""
        batch = min(config.batch_size, len(train))

        def validate(model):
            pred = [data.FR.decode(t) for t in translate(model, *val.arrays[:2])]
            exact = data.text_scores(pred, val.french)["exact_match"]
            return {"val_loss": nll_per_symbol(model, val), "val_exact_match": exact}

        return Problem(
            model=model, loss=seq2seq_loss, batches=PairBatches(train, batch, config.seed),
            batch_size=batch, evaluate=validate, unit="pairs",
            loss_label="NLL per French character (nats)",
        )  # fmt: skip

    def train(self, run_dir, config: NumbersConfig, *, resume=False, report=lambda e: None):
        run_dir = Path(run_dir)
        config.check(self.models)
        if not resume:
            check_new_run_dir(run_dir)
        splits = data.load(config.size)
        problem = self.problem(self.build_model(config), splits["train"], splits["val"], config)
        optimizer = optimizer_of(config, steps_per_epoch=problem.batches.per_epoch)
        settings = Settings.of(config)
        sizes = {k: len(v) for k, v in splits.items()}
        saved = {"task": self.name, "config": dataclasses.asdict(config), "data": {"sizes": sizes}}
        report({"event": "data", "task": self.name, "sizes": sizes})
        result = fit(
            problem, optimizer, settings, run_dir=run_dir, config=saved, resume=resume,
            report=report,
        )  # fmt: skip
        if result.summary["status"] != "diverged" and (run_dir / io.BEST).is_file():
            self.evaluate(run_dir, "val", figures=True)
        return result.summary

    def load_run(self, run_dir):
        saved = read_config(run_dir)
        config = NumbersConfig(**saved["config"])
        return config, io.load_tree(Path(run_dir) / io.BEST, self.build_model(config))

    def evaluate(self, run_dir, split: str = "test", *, figures: bool = True, beam: int = 1):
        """``{"task", "split", "metrics", "baseline"}``: exact match, CER and the NLL per
        symbol of the best checkpoint, decoded with ``beam`` (1: greedy); the baseline
        is :func:`rnnlab.tasks._numbers.word_by_word` (it has no probabilities: no loss).
        With ``figures`` and attention, ``attention_<split>.png`` shows three examples."""
        if split not in data.SPLITS:
            raise UserError(f"--split must be one of {', '.join(data.SPLITS)}, got {split!r}")
        if beam < 1:
            raise UserError(f"--beam must be >= 1, got {beam}")
        run_dir = Path(run_dir)
        config, model = self.load_run(run_dir)
        pairs = data.load(config.size)[split]
        tokens = translate(model, *pairs.arrays[:2], beam=beam)
        pred = [data.FR.decode(t) for t in tokens]
        metrics = {**data.text_scores(pred, pairs.french), "loss": nll_per_symbol(model, pairs)}
        base = data.text_scores([data.word_by_word(e) for e in pairs.english], pairs.french)
        if figures and config.attention != "none":
            attention_figure(run_dir / f"attention_{split}.png", model, pairs, pred, split)
        return {"task": self.name, "split": split, "metrics": metrics, "baseline": base}

    def sample(self, run_dir, prime: str, beam: int = 1) -> str:
        """The French for ``prime`` (English number words or digits)."""
        if beam < 1:
            raise UserError(f"--beam must be >= 1, got {beam}")
        source = data.parse_source(prime)
        _, model = self.load_run(run_dir)
        src, src_len = data.EN.encode([source])
        return data.FR.decode(translate(model, src, src_len, beam=beam)[0])


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
