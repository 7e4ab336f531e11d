"""``--model esn`` on ``charlm``: the next character from a reservoir's states.

The reservoir reads each character one-hot (``W_in``'s column of that character); a ridge
readout maps the state after it to the next character's one-hot vector. It is fitted in
one pass over the training text read as ``--batch-size`` parallel streams, the state
carried from chunk to chunk (as the gradient path and :func:`rnnlab.charlm.evaluate`
read it), the first ``--washout`` steps of each stream left out.

A least-squares fit of one-hot targets estimates the next character's probabilities
(the conditional mean of a one-hot vector), but not as a distribution: its entries may
be negative and need not sum to 1. The model's logits are ``log(max(y, FLOOR))``, so
that its softmax is ``y`` clipped at ``FLOOR`` and renormalised, scored in nats/char
and sampled (``rnnlab sample``, closed loop: each drawn character is read next) as
any char model.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.layers import RNN
from rnnlab.reservoir import Readout, ReservoirCell, host_stats, solve_ridge_host

FLOOR = 1e-3  # the smallest probability a fitted output gives a character
BLOCK_ROWS = 8192  # feature rows summed at a time (streams x steps)


def logits_of(y: jax.Array) -> jax.Array:
    """Logits whose softmax is the readout's outputs ``y`` (..., V) clipped at ``FLOOR``."""
    return jnp.log(jnp.maximum(y, FLOOR))


class EchoStateLM(eqx.Module):
    """A reservoir over one-hot characters and a readout of the next one, called as
    :class:`rnnlab.charlm.CharLM`: ``model(ids (B, T), states) -> (logits (B, T, V),
    states)``, ``model.init_state(B)``."""

    rnn: RNN
    readout: Readout
    vocab_size: int = eqx.field(static=True)

    def init_state(self, batch_size: int):
        return self.rnn.init_state(batch_size)

    def __call__(self, ids, states=None, *, key=None):
        x = jax.nn.one_hot(ids, self.vocab_size, dtype=self.readout.W_out.dtype)  # (B, T, V)
        ys, states = self.rnn(x, states)  # (B, T, H)
        return logits_of(self.readout(ys)), states

    @property
    def cell(self) -> ReservoirCell:
        return self.rnn.cells[0][0]


def build_lm(m, V: int, seed: int) -> EchoStateLM:
    """A char model over ``V`` characters: the reservoir of model config ``m`` drawn from
    ``seed``, and a zero readout."""
    from rnnlab.tasks._esn import reservoir_of

    cell = reservoir_of(m, V, seed)
    readout = Readout(jnp.zeros((cell.hidden_size, V)), jnp.zeros(V))
    return EchoStateLM(RNN(None, V, None, cells=((cell,),)), readout, V)


@eqx.filter_jit
def _states(model: EchoStateLM, states, ids):
    x = jax.nn.one_hot(ids, model.vocab_size, dtype=model.readout.W_out.dtype)
    return model.rnn(x, states)  # (B, T, H), states


def streams(ids: np.ndarray, batch_size: int, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """``ids`` as :func:`rnnlab.charlm.evaluate` reads them: inputs and next characters,
    (B, L) each, B parallel streams."""
    ids = np.asarray(ids, np.int32)
    B = max(1, min(batch_size, (len(ids) - 1) // (seq_len + 1)))
    L = (len(ids) - 1) // B
    return ids[: B * L].reshape(B, L), ids[1 : B * L + 1].reshape(B, L)


def fit_lm(model: EchoStateLM, ids, *, batch_size: int, seq_len: int, ridge: float,
           washout: int = 0) -> EchoStateLM:  # fmt: skip
    """``model`` with its readout fitted by ridge (ReservoirPy 0.4's convention, float64
    sums) on the text ``ids``: every step of every stream from ``washout`` on. The host
    sums a block while the device runs the reservoir over the next."""
    xs, ys = streams(ids, batch_size, seq_len)
    B, L = xs.shape
    V = model.vocab_size
    T = max(seq_len, -(-BLOCK_ROWS // B))  # steps per block
    states, total, pending = model.init_state(B), None, None
    for t0 in range(0, L, T):
        t1 = min(L, t0 + T)
        feats, states = _states(model, states, jnp.asarray(xs[:, t0:t1]))  # dispatched
        if pending is not None:
            total = _plus(total, _stats(*pending, V))
        keep = np.broadcast_to(np.arange(t0, t1) >= washout, (B, t1 - t0))
        pending = (feats, ys[:, t0:t1], keep)
    total = _plus(total, _stats(*pending, V))
    fitted = solve_ridge_host(total, ridge)
    dtype = model.readout.W_out.dtype
    readout = Readout(jnp.asarray(fitted.W_out, dtype), jnp.asarray(fitted.bias, dtype))
    return eqx.tree_at(lambda m: m.readout, model, readout)


def _stats(feats, next_ids, keep, V):
    return host_stats(feats, np.eye(V)[next_ids], keep)


def _plus(a, b):
    return b if a is None else a + b
