"""Piano rolls out: note names, a minimal Standard MIDI File writer (and reader), a PNG.

A piano roll is a (T, 128) bool array: ``roll[t, m]`` says that MIDI pitch ``m`` (60 is
middle C, C4) sounds in frame ``t``. A pitch held over consecutive frames is one note,
as in the JSB chorales, where a repeated note cannot be told from a held one.

>>> note_numbers("C4 E-4 G#4 Bb3")
[60, 63, 68, 58]
>>> note_name(61)
'C#4'
>>> roll = np.zeros((2, 128), bool); roll[:, 60] = True
>>> read_midi(midi_bytes(roll))["notes"]   # (pitch, start tick, end tick)
[(60, 0, 960)]
"""

from __future__ import annotations

import re
import struct

import numpy as np

from rnnlab.errors import UserError

TICKS = 480  # per quarter note
_STEPS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_NAMES = ("C", "C#", "D", "E-", "E", "F", "F#", "G", "G#", "A", "B-", "B")
_NOTE = re.compile(r"^([A-Ga-g])([#b-]*)(-?\d)$")


def note_numbers(text: str) -> list[int]:
    """MIDI numbers of space-separated note names (``C4`` = 60; ``#`` sharp, ``b`` or ``-``
    flat, as music21 writes them); a bad name is a :class:`UserError`."""
    out = []
    for name in text.split():
        m = _NOTE.match(name)
        if not m:
            raise UserError(f"bad note name {name!r}; write notes like C4, F#3 or B-4")
        step, acc, octave = m.groups()
        sharps = acc.count("#")
        out.append(12 * (int(octave) + 1) + _STEPS[step.upper()] + sharps - (len(acc) - sharps))
    return out


def note_name(midi: int) -> str:
    return f"{_NAMES[midi % 12]}{midi // 12 - 1}"


def notes_of(roll: np.ndarray, ticks_per_frame: int) -> list[tuple[int, int, int]]:
    """(pitch, start tick, end tick) of every note of ``roll`` (T, 128), a held pitch
    being one note, sorted by start then pitch."""
    padded = np.pad(roll.astype(np.int8), ((1, 1), (0, 0)))  # (T + 2, 128)
    edges = np.diff(padded, axis=0)  # +1 at an onset frame, -1 one past the last frame
    notes = []
    for pitch in range(roll.shape[1]):
        on, off = np.flatnonzero(edges[:, pitch] == 1), np.flatnonzero(edges[:, pitch] == -1)
        notes += [
            (pitch, a * ticks_per_frame, b * ticks_per_frame) for a, b in zip(on, off, strict=True)
        ]
    return sorted(notes, key=lambda n: (n[1], n[0]))


def _varlen(n: int) -> bytes:
    """A MIDI variable-length quantity: 7 bits a byte, the high bit set on all but the last."""
    out = [n & 0x7F]
    while n > 0x7F:
        n >>= 7
        out.append(0x80 | (n & 0x7F))
    return bytes(reversed(out))


def midi_bytes(roll: np.ndarray, *, quarters_per_frame: float = 1.0, bpm: float = 80.0) -> bytes:
    """A format-0 Standard MIDI File of ``roll`` (T, 128): one track, one tempo, piano,
    velocity 80. Note-offs come before note-ons at the same tick, so a note that ends
    where another of the same pitch starts is not cut short."""
    ticks_per_frame = round(TICKS * quarters_per_frame)
    events = []  # (tick, order, status, pitch, velocity)
    for pitch, start, end in notes_of(roll, ticks_per_frame):
        events += [(start, 1, 0x90, pitch, 80), (end, 0, 0x80, pitch, 0)]
    tempo = round(60_000_000 / bpm)  # microseconds per quarter note
    track = b"\x00\xff\x51\x03" + tempo.to_bytes(3, "big") + b"\x00\xc0\x00"
    now = 0
    for tick, _, status, pitch, velocity in sorted(events):
        track += _varlen(tick - now) + bytes((status, pitch, velocity))
        now = tick
    track += b"\x00\xff\x2f\x00"  # end of track
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS)
    return header + b"MTrk" + struct.pack(">I", len(track)) + track


def read_midi(data: bytes) -> dict:
    """The division, tempo and notes (pitch, start tick, end tick) of a single-track file
    as :func:`midi_bytes` writes it (running status and other tracks are not read)."""
    if data[:4] != b"MThd":
        raise ValueError("not a Standard MIDI File")
    _, fmt, ntrks, division = struct.unpack(">IHHH", data[4:14])
    if data[14:18] != b"MTrk":
        raise ValueError("no track chunk after the header")
    (length,) = struct.unpack(">I", data[18:22])
    track, i, now, tempo, open_, notes = data[22 : 22 + length], 0, 0, None, {}, []
    while i < len(track):
        delta = 0
        while True:
            delta = (delta << 7) | (track[i] & 0x7F)
            i += 1
            if not track[i - 1] & 0x80:
                break
        now += delta
        status = track[i]
        if status == 0xFF:
            kind, size = track[i + 1], track[i + 2]
            if kind == 0x51:
                tempo = int.from_bytes(track[i + 3 : i + 6], "big")
            i += 3 + size
        elif status & 0xF0 in (0x80, 0x90):
            pitch, velocity = track[i + 1], track[i + 2]
            if status & 0xF0 == 0x90 and velocity > 0:
                open_[pitch] = now
            else:
                notes.append((pitch, open_.pop(pitch), now))
            i += 3
        else:  # program change, channel pressure: one data byte
            i += 2
    notes.sort(key=lambda n: (n[1], n[0]))
    return {"format": fmt, "tracks": ntrks, "division": division, "tempo": tempo, "notes": notes}


def piano_roll_png(path, roll: np.ndarray, title: str, quarters_per_frame: float = 1.0) -> None:
    """The sounding pitches of ``roll`` (T, 128) against time in quarter notes, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rnnlab.engine import io

    used = np.flatnonzero(roll.any(0))
    lo, hi = (used.min() - 2, used.max() + 2) if len(used) else (58, 62)
    fig, ax = plt.subplots(figsize=(max(6.0, min(20.0, 0.12 * len(roll))), 4), dpi=100)
    ax.imshow(
        roll[:, lo : hi + 1].T, origin="lower", aspect="auto", cmap="Greys", interpolation="none",
        extent=(0, len(roll) * quarters_per_frame, lo - 0.5, hi + 0.5),
    )  # fmt: skip
    cs = [m for m in range(lo, hi + 1) if m % 12 == 0]
    ax.set_yticks(cs, [note_name(m) for m in cs])
    ax.set_xlabel("time (quarter notes)")
    ax.set_ylabel("pitch")
    ax.set_title(title)
    fig.tight_layout()
    io.atomic_write(path, lambda f: fig.savefig(f, format="png"))
    plt.close(fig)
