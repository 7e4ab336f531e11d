"""Spike trains from files: the grasshopper recordings shipped with nitime, and plain text.

Grasshopper data (Rokem et al. 2006, J Neurophysiol 95:2541; CRCNS): intracellular
recordings from an auditory receptor of *Locusta migratoria* driven by a tone whose
amplitude is modulated by Gaussian white noise (cut-off 200 Hz in recording 1, 800 Hz
in recording 2). nitime ships them as ``nitime/data/grasshopper_spike_times{1,2}.txt``:
``#`` header lines, then one spike time per line in **microseconds** (nitime's example
reads them with ``time_unit='us'``). Each recording lasts 10 s: the stimulus files
beside them hold 200,000 samples at 50 us, and the last spikes fall just before 1e7 us.
The loader returns seconds.

Plain text (the ``rnnlab spikes rate`` input): one trial per line, spike times in
seconds separated by spaces or tabs. An empty line is a trial without spikes; empty
lines at the end of the file are ignored.
"""

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnlab.errors import UserError
from rnnlab.spikes._checks import check_train

GRASSHOPPER_DURATION = 10.0  # s, each recording
_US = 1e-6  # s per microsecond, the unit of the files


@dataclass(frozen=True)
class SpikeRecording:
    """One recorded spike train: times (S,) in seconds within [t_start, t_stop], and the
    file's header as ``key: value`` strings."""

    spike_times: np.ndarray
    t_start: float
    t_stop: float
    header: dict[str, str] = field(default_factory=dict)


def _nitime_data_dir() -> Path:
    # find_spec locates the package without importing it (nitime's import is slow).
    spec = importlib.util.find_spec("nitime")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("the grasshopper data need the 'nitime' package: pip install nitime")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def load_grasshopper(recording: int = 1) -> SpikeRecording:
    """Spike times (s) of grasshopper auditory receptor recording 1 or 2 (10 s each).

    >>> rec = load_grasshopper(1)
    >>> rec.spike_times.size, rec.t_stop
    (929, 10.0)
    """
    if recording not in (1, 2):
        raise UserError(f"recording must be 1 or 2, got {recording!r}")
    path = _nitime_data_dir() / f"grasshopper_spike_times{recording}.txt"
    if not path.is_file():
        raise UserError(f"grasshopper data file not found: {path}; reinstall nitime")
    header, values = {}, []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("#"):
            key, _, value = line.lstrip("# ").partition(":")
            header[key.strip()] = value.strip()
        elif line:
            values.append(float(line))
    times = check_train(np.asarray(values) * _US, str(path))
    return SpikeRecording(times, 0.0, GRASSHOPPER_DURATION, header)


def parse_spike_text(text: str, source: str = "input") -> list[np.ndarray]:
    """Trials from text: one line per trial, spike times (s) separated by whitespace."""
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise UserError(f"{source}: no spike trains (the file is empty)")
    trains = []
    for number, line in enumerate(lines, start=1):
        where = f"{source}, line {number}"
        values = []
        for token in line.split():
            try:
                values.append(float(token))
            except ValueError:
                raise UserError(
                    f"{where}: {token[:40]!r} is not a number; "
                    "expected spike times in seconds separated by spaces"
                ) from None
        trains.append(check_train(values, where))
    return trains


def read_spike_times(path) -> list[np.ndarray]:
    """Read a spike-time text file (see the module docstring) into a list of trains."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise UserError(f"{path} is a directory; expected a text file of spike times") from None
    except OSError as err:
        raise UserError(f"cannot read {path}: {err.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise UserError(f"{path} is not UTF-8 text (bad byte at offset {err.start})") from None
    return parse_spike_text(text, str(path))
