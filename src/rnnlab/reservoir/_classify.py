"""Sequence classification with a ridge readout: from the last state, or at every step."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from rnnlab.errors import UserError
from rnnlab.reservoir._esn import ESN, accumulate, readout_features, run_reservoir
from rnnlab.reservoir._readout import host_stats, solve_ridge_host

MODES = ("last", "every")


class Classifier(eqx.Module):
    """An :class:`ESN` whose readout scores classes. ``mode="last"``: one prediction per
    sequence, from the state after its last step (sequence-to-vector); ``"every"``: a
    prediction at every step, each trained towards the sequence's label
    (transduction). ReservoirPy's Japanese-vowels tutorial shows both."""

    esn: ESN
    mode: str = eqx.field(static=True)

    def scores(self, xs, *, lengths=None):
        """Class scores: (B, C) for ``"last"``, (B, T, C) for ``"every"``."""
        xs = jnp.asarray(xs)
        if self.mode == "every":
            return self.esn(xs, lengths=lengths)[0]
        return self.esn.readout(_last_features(self.esn, xs, lengths))

    def predict(self, xs, *, lengths=None):
        """Labels: (B,) for ``"last"``, (B, T) for ``"every"`` (-1 on padding)."""
        pred = jnp.argmax(self.scores(xs, lengths=lengths), axis=-1)
        if self.mode == "every" and lengths is not None:
            pred = jnp.where(
                jnp.arange(xs.shape[1])[None] < jnp.asarray(lengths)[:, None], pred, -1
            )
        return pred

    def accuracy(self, xs, labels, *, lengths=None) -> float:
        """The fraction of sequences (``"last"``) or of valid steps (``"every"``) whose
        predicted label is right."""
        pred, labels = np.asarray(self.predict(xs, lengths=lengths)), np.asarray(labels)
        if self.mode == "last":
            return float(np.mean(pred == labels))
        valid = pred >= 0
        return float(np.sum((pred == labels[:, None]) & valid) / np.sum(valid))


@eqx.filter_jit
def _last_features_jit(reservoir, xs, lengths, input_to_readout):
    _, final = run_reservoir(reservoir, xs, lengths=lengths)
    x_last = final[-1] if isinstance(final, list) else final  # a deep ESN: the last layer
    n = xs.shape[1] if lengths is None else lengths
    u_last = xs[jnp.arange(xs.shape[0]), jnp.asarray(n) - 1]  # (B, D)
    return readout_features(x_last, u_last, input_to_readout)


def _last_features(esn: ESN, xs, lengths):
    lengths = None if lengths is None else jnp.asarray(lengths)
    return _last_features_jit(esn.reservoir, xs, lengths, esn.input_to_readout)


def fit_classifier(
    reservoir,
    xs,
    labels,
    *,
    n_classes: int | None = None,
    lengths=None,
    mode: str = "last",
    ridge: float = 0.0,
    warmup: int = 0,
    input_to_readout: bool = False,
    bias: str = "centred",
) -> Classifier:
    """Fit a ridge readout that classifies the sequences ``xs`` (B, T, D) (valid up to
    ``lengths``, each started from the zero state) into ``labels`` (B,) in
    ``[0, n_classes)``, against one-hot targets. ``warmup`` steps of each sequence are
    left out of an ``"every"`` fit (ReservoirPy's ``fit(warmup=...)``).

    The two set-ups of ReservoirPy's tutorial 5 (Japanese vowels):
    ``fit_classifier(ReservoirCell(12, 500, spectral_radius=0.05, ...), ..., mode="every",
    ridge=1e-1, warmup=2, input_to_readout=True)`` and ``fit_classifier(ReservoirCell(12,
    500, spectral_radius=0.9, leak_rate=0.1, ...), ..., mode="last", ridge=1e-6)``.
    """
    if mode not in MODES:
        raise UserError(f"mode must be last or every, got {mode!r}")
    xs, labels = jnp.asarray(xs), np.asarray(labels)
    if xs.ndim != 3 or labels.shape != xs.shape[:1]:
        raise UserError(
            f"fit_classifier takes xs (B, T, D) and labels (B,), got {xs.shape}, {labels.shape}"
        )
    C = int(labels.max()) + 1 if n_classes is None else int(n_classes)
    if labels.min() < 0 or labels.max() >= C:
        raise UserError(f"labels must lie in [0, {C}), got [{labels.min()}, {labels.max()}]")
    onehot = jnp.asarray(np.eye(C)[labels])  # (B, C)
    if mode == "every":
        targets = jnp.broadcast_to(onehot[:, None], xs.shape[:2] + (C,))  # (B, T, C)
        stats, _ = accumulate(
            reservoir,
            xs,
            targets,
            lengths=lengths,
            warmup=warmup,
            input_to_readout=input_to_readout,
            host=True,
        )
    else:
        lengths_ = None if lengths is None else jnp.asarray(lengths)
        feats = _last_features_jit(reservoir, xs, lengths_, bool(input_to_readout))
        stats = host_stats(feats, onehot)
    readout = solve_ridge_host(stats, ridge, bias=bias)
    return Classifier(ESN(reservoir, readout, bool(input_to_readout)), mode)
