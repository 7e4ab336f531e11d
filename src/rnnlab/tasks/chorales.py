"""``--task chorales``: Bach's 371 chorales as piano rolls, next frame from the frames so far.

The chorales are music21's corpus (``music21/corpus/bach``, the Riemenschneider
numbering of ``music21.corpus.chorales.Iterator``), parsed once and cached in
``$RNNLAB_CACHE``. A frame is a quarter note (as in the JSB chorales of Boulanger-Lewandowski
et al. 2012) or, with ``--resolution sixteenth``, a 16th note; a pitch is on in a frame
when some part sounds it at the frame's start (a shorter note that begins and ends
between two frame starts is not seen). Inputs and targets are the frames of the pitch
range that the corpus uses; the output at frame t gives, for every pitch, the logit of
its sounding in frame t + 1 (a one-to-many generator once it feeds itself).

Loss and metric (Boulanger-Lewandowski et al. 2012): the frame NLL, the sum over pitches
of the Bernoulli NLL, in nats per predicted frame; and the accuracy of Bay et al. 2009,
TP / (TP + FP + FN) over every predicted frame, a pitch predicted on when its probability
is at least 0.5. Baselines: every pitch independently on with its training frequency
(``frame_nll``), repeating the previous frame (``accuracy``), and a two-state chain per
pitch, P(on | on or off before) counted on the training split (``markov_frame_nll``).

``--data FILE.json`` reads the JSB chorales in the form that Boulanger-Lewandowski et al.
(2012) split them (``{"train", "valid", "test"}``, each a list of pieces, a piece a list
of quarter-note frames, a frame a list of the MIDI pitches sounding) and keeps their
split; frames then cover the piano's 88 keys, A0 to C8, as in that paper.

Two options of Chung et al. (2014)'s recipe: ``--first-frame`` scores every chorale's
first frame too (predicted from a silent frame before it: one more scored frame per
chorale; without it, frames 1..T-1 are scored), and ``--weight-noise SD`` trains on the
gradient at the weights plus fresh N(0, SD^2) noise (:mod:`rnnlab.tasks._weight_noise`;
theirs 0.075).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.metadata
import json
import logging
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from rnnlab.config import option
from rnnlab.engine import io
from rnnlab.errors import UserError
from rnnlab.tasks import _midi
from rnnlab.tasks._data import SeqData, split_rows
from rnnlab.tasks._nextstep import RawDataset, start, step
from rnnlab.tasks._supervised import SupervisedTask, predict_logits
from rnnlab.tasks._task import Criterion, Sample
from rnnlab.tasks._weight_noise import noise_key, noisy
from rnnlab.tasks.registry import register

_log = logging.getLogger(__name__)
RESOLUTIONS = {"quarter": 1.0, "sixteenth": 0.25}  # quarter notes per frame
_CACHE_VERSION = 1


@dataclasses.dataclass
class ChoralesOptions:
    """The options of ``chorales``: the frame length, or a JSB file of your own."""

    resolution: str = option(
        "quarter", "A frame is a quarter or a sixteenth note.", choices=("quarter", "sixteenth"),
        fixed=True,
    )  # fmt: skip
    data: str | None = option(
        None, "A JSB chorales JSON file (train, valid, test: pieces of frames of MIDI pitches; "
        "their split is kept) instead of music21's corpus.", fixed=True, path=True,
    )  # fmt: skip
    first_frame: bool = option(
        False, "Score each chorale's first frame too, predicted from a silent frame before it "
        "(default: frames 1..T-1).", fixed=True,
    )  # fmt: skip
    weight_noise: float = option(
        0.0, "Train on the gradient at the weights plus fresh Gaussian noise of this sd at "
        "every batch (Graves 2011; Chung et al. 2014: 0.075).", ge=0, le=10, fixed=True,
    )  # fmt: skip


def chorale_names() -> list[str]:
    """The 371 chorales in Riemenschneider order (``bach/bwv269``, ...)."""
    music21 = _music21()
    return list(music21.corpus.chorales.Iterator(returnType="filename"))


def _music21():
    try:
        import music21
    except ImportError:
        raise UserError("--task chorales needs music21: pip install 'music21==10.5.1'") from None
    return music21


def parse_chorale(name: str, quarters_per_frame: float = 1.0) -> np.ndarray:
    """The piano roll (T, 128) bool of one chorale of music21's corpus: frame t holds the
    pitches that sound at time t * ``quarters_per_frame`` (quarter notes from the start)."""
    score = _music21().corpus.parse(name)
    notes = [
        (float(n.offset), float(n.offset + n.duration.quarterLength), p.midi)
        for n in score.flatten().notes
        if n.duration.quarterLength > 0  # grace notes take no time
        for p in n.pitches
    ]
    end = max(b for _, b, _ in notes)
    roll = np.zeros((int(np.ceil(end / quarters_per_frame - 1e-9)), 128), bool)
    times = np.arange(len(roll)) * quarters_per_frame
    for a, b, midi in notes:
        roll[(times >= a - 1e-9) & (times < b - 1e-9), midi] = True
    return roll


def load_rolls(resolution: str = "quarter", *, cache_dir=None) -> tuple[list[str], list]:
    """(names, piano rolls) of every chorale of :func:`chorale_names`, parsed on first use
    (about a minute) and then read from ``cache_dir`` (default ``$RNNLAB_CACHE``)."""
    from rnnlab.data.corpus import default_cache_dir

    if resolution not in RESOLUTIONS:
        raise UserError(f"--resolution must be quarter or sixteenth, got {resolution!r}")
    names = chorale_names()
    what = f"{_CACHE_VERSION} {resolution} {importlib.metadata.version('music21')} {names}"
    key = hashlib.sha256(what.encode()).hexdigest()[:12]
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = folder / f"chorales-{resolution}-{key}.npz"
    try:
        with np.load(path) as z:
            flat, lengths = z["rolls"], z["lengths"]
        return names, np.split(np.unpackbits(flat, axis=1).astype(bool), np.cumsum(lengths)[:-1])
    except (OSError, KeyError, ValueError):
        pass
    rolls = [parse_chorale(n, RESOLUTIONS[resolution]) for n in names]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        packed = np.packbits(np.concatenate(rolls), axis=1)  # (sum T, 16) uint8
        lengths = np.array([len(r) for r in rolls])
        io.atomic_write(path, lambda f: np.savez_compressed(f, rolls=packed, lengths=lengths))
    except (OSError, UserError) as err:
        _log.warning("could not cache the chorales in %s: %s", folder, err)
    return names, rolls


PIANO = (21, 108)  # A0..C8, the 88 keys of Boulanger-Lewandowski et al. (2012)
JSB_SPLITS = {"train": "train", "val": "valid", "test": "test"}


def jsb_dataset(path, first: bool = False) -> RawDataset:
    """The JSB chorales of a JSON file with the Boulanger-Lewandowski split (module
    docstring), as piano rolls over the 88 piano keys (``first``: see :func:`roll_dataset`)."""
    try:
        pieces = json.loads(Path(path).read_text(encoding="utf-8"))
        rolls, splits = [], {}
        for ours, theirs in JSB_SPLITS.items():
            begin = len(rolls)
            for piece in pieces[theirs]:
                roll = np.zeros((len(piece), 128), bool)
                for t, frame in enumerate(piece):
                    pitches = [int(p) for p in frame]
                    if not all(0 <= p < 128 for p in pitches):
                        raise ValueError(f"pitch outside 0..127 in {pitches}")
                    roll[t, pitches] = True
                rolls.append(roll)
            splits[ours] = np.arange(begin, len(rolls))
    except OSError as err:
        raise UserError(f"--data {path}: cannot read it ({err.strerror})") from None
    except (ValueError, KeyError, TypeError, IndexError) as err:
        raise UserError(
            f"--data {path} is not a JSB chorales JSON file with train, valid and test lists "
            f"of pieces of frames of MIDI pitches 0..127 ({type(err).__name__}: {err})"
        ) from None
    if any(len(r) < 2 for r in rolls) or min(len(v) for v in splits.values()) == 0:
        raise UserError(f"--data {path}: every split needs pieces of at least two frames")
    return roll_dataset(rolls, splits, *PIANO, first=first)


def roll_dataset(
    rolls: list, splits: dict[str, np.ndarray], low: int, high: int, first: bool = False
) -> RawDataset:
    """Inputs frames 0..T-2 and targets frames 1..T-1 of pitches ``low..high``, padded;
    with ``first``, a silent frame and then frames 0..T-2 in, frames 0..T-1 out."""
    T = max(len(r) for r in rolls) - (0 if first else 1)

    def part(rows):
        x = np.zeros((len(rows), T, high - low + 1), np.float32)
        y = np.zeros_like(x)
        for i, r in enumerate(rows):
            band = rolls[r][:, low : high + 1]  # (T_r, P)
            if first:
                band = np.concatenate([np.zeros_like(band[:1]), band])
            x[i, : len(band) - 1], y[i, : len(band) - 1] = band[:-1], band[1:]
        lengths = [len(rolls[r]) - (0 if first else 1) for r in rows]
        return SeqData(x, y, np.array(lengths, np.int32))

    names = [_midi.note_name(m) for m in range(low, high + 1)]
    return RawDataset({k: part(v) for k, v in splits.items()}, names)


@functools.cache
def frame_loss_of(truncate: int | None = None, weight_noise: float = 0.0):
    """Summed frame NLL (every pitch's Bernoulli NLL, summed) over the valid frames, BPTT
    truncated to ``truncate`` steps; with ``weight_noise`` > 0, at the weights plus noise
    of that sd (:func:`rnnlab.tasks._weight_noise.noisy`, drawn from ``keys``)."""
    kw = {} if truncate is None else {"truncate": truncate}

    def loss(model, batch, carry, keys):
        x, y, lengths = batch  # (b, T, P), (b, T, P), (b,)
        if weight_noise > 0:
            model = noisy(model, noise_key(keys), weight_noise)
        logits = model(x, lengths, key=keys, **kw)  # (b, T, P)
        mask = jnp.arange(y.shape[1])[None, :] < lengths[:, None]  # (b, T)
        nll = optax.sigmoid_binary_cross_entropy(logits, y).sum(-1)  # (b, T)
        return jnp.where(mask, nll, 0.0).sum(), mask.sum(), carry

    return loss


frame_loss = frame_loss_of(None)


def roll_scores(p_on: np.ndarray, data: SeqData, first: bool = False) -> dict:
    """``frame_nll`` (nats per frame) and ``accuracy`` TP / (TP + FP + FN) of the
    probabilities ``p_on`` (N, T, P) of every pitch sounding, over the valid frames, and
    ``frames`` scored; with ``first`` (step 0 predicts each piece's first frame), also
    the NLL of the first frames alone and of the others (``frame_nll_first``,
    ``frame_nll_rest``)."""
    valid = data.valid()  # (N, T)
    p = np.clip(p_on, 1e-7, 1 - 1e-7)
    nll_all = -np.where(data.y > 0.5, np.log(p), np.log1p(-p)).sum(-1)  # (N, T)
    p, y = p[valid], data.y[valid] > 0.5  # (frames, P)
    on = p >= 0.5
    tp, fp, fn = (on & y).sum(), (on & ~y).sum(), (~on & y).sum()
    out = {"frame_nll": float(nll_all[valid].mean()), "accuracy": float(tp / max(tp + fp + fn, 1)),
           "frames": int(valid.sum())}  # fmt: skip
    if first:
        rest = valid.copy()
        rest[:, 0] = False
        out["frame_nll_first"] = float(nll_all[valid[:, 0], 0].mean())
        out["frame_nll_rest"] = float(nll_all[rest].mean())
    return out


def baseline_scores(train: SeqData, data: SeqData) -> dict:
    """The baselines of the module docstring, counted on ``train`` (add-one smoothed)."""
    tv, dv = train.valid(), data.valid()
    freq = (train.y[tv].sum(0) + 1) / (tv.sum() + 2)  # (P,)
    base = roll_scores(np.broadcast_to(freq, data.y.shape), data)
    prev, nxt = train.x[tv] > 0.5, train.y[tv] > 0.5  # (frames, P)
    p_after_on = ((prev & nxt).sum(0) + 1) / (prev.sum(0) + 2)
    p_after_off = ((~prev & nxt).sum(0) + 1) / ((~prev).sum(0) + 2)
    markov = np.where(data.x > 0.5, p_after_on, p_after_off)
    repeat = roll_scores(np.where(dv[..., None], data.x, 0.0), data)
    return {
        "frame_nll": base["frame_nll"],
        "accuracy": repeat["accuracy"],
        "markov_frame_nll": roll_scores(markov, data)["frame_nll"],
    }


@register
class ChoralesTask(SupervisedTask):
    name = "chorales"
    pattern = "one-to-many (next frame)"
    source = "music21: 371 Bach chorales, quarter (or 16th) frames"
    metric = "frame NLL, accuracy"
    baseline = "pitch frequencies / repeat frame"
    head = "tag"
    Options = ChoralesOptions
    defaults = {"hidden": 128, "steps": 1000, "eval_every": 100}
    criterion = Criterion("frame_nll", higher=False, margin=1.5)
    figures = ()
    sample_flags = ("prime", "length", "temperature", "seed", "argmax", "out")

    def check(self, config, given=None) -> None:
        super().check(config, given)
        if config.options.data is not None and config.options.resolution != "quarter":
            raise UserError("--data (JSB chorales) holds quarter-note frames only; drop "
                            "--resolution")  # fmt: skip

    def load_data(self, config) -> RawDataset:
        o = config.options
        if o.data is not None:
            return jsb_dataset(o.data, o.first_frame)
        _, rolls = load_rolls(o.resolution)
        used = np.flatnonzero(np.any([r.any(0) for r in rolls], axis=0))
        return roll_dataset(rolls, split_rows(len(rolls)), int(used[0]), int(used[-1]),
                            first=o.first_frame)  # fmt: skip

    def loss(self, config):
        return frame_loss_of(config.learn.truncate, config.options.weight_noise)

    def problem(self, model, data, config):
        problem = super().problem(model, data, config)
        if config.options.weight_noise > 0:  # the noise is drawn from the per-row keys
            problem.stochastic = True
        return problem

    def validate(self, val: SeqData, config):
        def validate(model):
            s = roll_scores(_probs(model, val), val)
            return {"val_loss": s["frame_nll"], "val_accuracy": s["accuracy"]}

        return validate

    def metrics(self, run, data, split, **options):
        part = data.split(split)
        return roll_scores(_probs(run.model, part), part, run.config.options.first_frame), None

    def baseline_metrics(self, run, data, split, **options):
        return baseline_scores(data.splits["train"], data.split(split))

    def sample(self, run, *, prime="", length=None, temperature=1.0, seed=0, argmax=False,
               out=None, **options):  # fmt: skip
        """Frames from a first chord (``prime``, note names): each next frame drawn pitch by
        pitch from Bernoulli(sigmoid(logit / temperature)), or with ``argmax`` every pitch
        whose probability is at least 0.5. Writes ``out`` (MIDI, default ``sample.mid`` in
        the run) and a piano-roll PNG beside it; the frames as text."""
        qpf = RESOLUTIONS[run.config.options.resolution]
        length = round(64 / qpf) if length is None else length
        if length < 1 or temperature <= 0:
            raise UserError("--length must be >= 1 and --temperature > 0 for chorales")
        names = run.info["class_names"]
        low = _midi.note_numbers(names[0])[0]
        chord = _midi.note_numbers(prime or "C3 G3 E4 C5")
        bad = [_midi.note_name(m) for m in chord if not low <= m < low + len(names)]
        if bad:
            raise UserError(
                f"--prime notes {bad} lie outside the chorales' {names[0]}..{names[-1]}"
            )
        frame = np.zeros(len(names), np.float32)
        frame[np.array(chord) - low] = 1
        frames, rng = [frame], np.random.default_rng(seed)
        logits, states = start(run.model, frame[None])
        for _ in range(length - 1):
            p = jax.nn.sigmoid(logits / temperature)
            frame = (p >= 0.5 if argmax else rng.random(len(p)) < p).astype(np.float32)
            frames.append(frame)
            logits, states = step(run.model, states, frame)
        roll = np.zeros((length, 128), bool)
        roll[:, low : low + len(names)] = np.array(frames) > 0.5
        out = run.dir / "sample.mid" if out is None else Path(out)
        png = out.with_suffix(".png")
        data = _midi.midi_bytes(roll, quarters_per_frame=qpf)
        io.atomic_write(out, lambda f: f.write(data))
        title = f"chorales sample from {' '.join(_midi.note_name(m) for m in chord)}, seed {seed}"
        _midi.piano_roll_png(png, roll, title, qpf)
        text = "\n".join(" ".join(names[i] for i in np.flatnonzero(f)) or "-" for f in frames)
        return Sample([text], [out, png])


def _probs(model, data: SeqData) -> np.ndarray:
    return np.asarray(jax.nn.sigmoid(predict_logits(model, data)))
