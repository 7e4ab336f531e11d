"""The cell finder and gate saturation: which units track what, and how often gates
sit at their ends."""

from __future__ import annotations

import dataclasses

import numpy as np

# The sigmoid gates of rnnlab's cells (LSTM family: i f o; GRU: r z); their values lie
# in (0, 1), so "saturated" means near 0 or near 1 (Karpathy et al. 2015, Sec. 4.2).
GATES = ("i", "f", "o", "r", "z")


@dataclasses.dataclass(frozen=True)
class Found:
    """A unit that tracks a detector: Pearson correlation ``r`` of internal ``name``
    (``c``, ``h``, a gate) of unit ``unit`` in layer ``layer`` with the detector."""

    detector: str
    layer: int
    name: str
    unit: int
    r: float


def correlations(acts: np.ndarray, signal: np.ndarray) -> np.ndarray:
    """Pearson correlation of every column of ``acts`` (T, H) with ``signal`` (T,); 0 for
    a constant column or a constant signal (nothing to explain).

    .. math:: r_k = \\frac{\\sum_t (a_{tk} - \\bar a_k)(s_t - \\bar s)}
                         {\\sqrt{\\sum_t (a_{tk} - \\bar a_k)^2 \\sum_t (s_t - \\bar s)^2}}
    """
    a = np.asarray(acts, np.float64)
    s = np.asarray(signal, np.float64)
    a = a - a.mean(0)
    s = s - s.mean()
    den = np.sqrt((a * a).sum(0) * (s * s).sum())
    num = s @ a  # (H,)
    return np.where(den > 1e-12, num / np.where(den > 1e-12, den, 1.0), 0.0)


def find_cells(layers, detectors: dict, *, names=("c", "h"), top: int = 3):
    """For each detector, the ``top`` units whose activation correlates most (in absolute
    value) with it, over every layer and every internal in ``names`` that the layers have.

    ``layers``: a list of ``{name: (T, H)}`` (:attr:`Trace.layers`); ``detectors``:
    ``{name: (T,)}`` (:func:`detect`). Returns ``{detector: [Found, ...]}``, best first; a
    detector that is constant over the text (no quotes in the text, say) finds nothing.
    """
    out = {}
    for det, signal in detectors.items():
        found = []
        if np.ptp(signal) == 0:
            out[det] = found
            continue
        for layer, internals in enumerate(layers):
            for name in names:
                if name not in internals:
                    continue
                r = correlations(internals[name], signal)
                for k in np.argsort(-np.abs(r))[:top]:
                    found.append(Found(det, layer, name, int(k), float(r[k])))
        out[det] = sorted(found, key=lambda f: -abs(f.r))[:top]
    return out


def saturation(layers, *, low: float = 0.1, high: float = 0.9) -> dict:
    """The fraction of steps each gate unit spends left-saturated (``< low``) and
    right-saturated (``> high``), as Karpathy, Johnson & Fei-Fei (2015, arXiv v2, Fig. 3) plot it.

    Returns ``{(layer, gate): (left (H,), right (H,))}`` for every sigmoid gate
    (:data:`GATES`) that the layers expose.
    """
    out = {}
    for layer, internals in enumerate(layers):
        for gate in GATES:
            if gate in internals:
                g = np.asarray(internals[gate])
                out[(layer, gate)] = ((g < low).mean(0), (g > high).mean(0))
    return out
