"""Learning without back-propagation through time: forward-mode and local learners.

Each learner maps ``(model, xs, loss_fn, carry)`` -- a cell or a :class:`rnnlab.learn.Network`, one
sequence or chunk (T, D), the loss of its outputs, the carry of the previous chunk --
to ``(grads, carry, loss)``: a gradient estimate shaped like the model and the new
learner state. n is the number of state units (2H for an LSTM), p of parameters.

=======  ==========================  ===============  ==================  ==========
learner  keeps                       memory           compute per step    estimate
=======  ==========================  ===============  ==================  ==========
BPTT     the chunk's activations     O(T n)           O(p)                exact in
                                                                          the chunk
RTRL     influence matrix dh/dtheta  O(n p)           O(n^2 p) = O(n^4)   exact
UORO     a rank-one A B^T of it      O(n + p)         O(p)                unbiased
SnAp-1   its entries on I's pattern  O(p)             O(p) (pointwise)    biased
SnAp-2   its entries on D I's        O(p fan-in)      O(n^2 p) here       biased
RFLO     leak-only local traces      O(p)             O(p)                biased
e-prop   eligibility traces          O(p)             O(p)                biased
=======  ==========================  ===============  ==================  ==========

>>> import jax, jax.numpy as jnp, rnnlab
>>> from rnnlab import learn
>>> cell = rnnlab.LSTMCell(2, 4, key=jax.random.key(0))
>>> xs = jnp.ones((8, 2))
>>> loss_fn = lambda ys: (ys ** 2).sum()
>>> grads, carry, loss = learn.rtrl(cell, xs, loss_fn)
>>> grads, carry, loss = learn.rtrl(cell, xs, loss_fn, carry)  # the next chunk
>>> snap1 = learn.SnAp(cell, 1)  # its pattern, found once
>>> grads, carry, loss = snap1(cell, xs, loss_fn)

:mod:`rnnlab.learn.online` updates the parameters every ``update_every`` steps inside a
stream, carrying the learner state like the hidden state.
"""

from rnnlab.learn._core import Carry, Learner, Network
from rnnlab.learn.bptt import BPTT, bptt
from rnnlab.learn.evidence import EvidenceData, evidence_accumulation
from rnnlab.learn.online import init_carry, make_step, train_online
from rnnlab.learn.rtrl import RTRL, rtrl, rtrl_grad
from rnnlab.learn.traces import RFLO, EProp, SnAp, eprop, random_feedback, rflo, snap1, snap2
from rnnlab.learn.uoro import UORO, uoro

LEARNERS = ("bptt", "rtrl", "uoro", "snap1", "snap2", "rflo", "eprop")


def make_learner(name: str, model, *, truncate=None, feedback=None, key=None):
    """The learner called ``name`` (one of :data:`rnnlab.learn.LEARNERS`) for ``model``; a learner
    that does not apply to the model's cell raises :class:`rnnlab.UserError`.
    ``truncate`` is BPTT's alone; ``feedback`` e-prop's and RFLO's ("symmetric",
    "random" with ``key``, or an array)."""
    from rnnlab.errors import UserError

    if name not in LEARNERS:
        raise UserError(f"unknown learner {name!r}; choose one of {', '.join(LEARNERS)}")
    if truncate is not None and name != "bptt":
        raise UserError(f"truncate applies to the bptt learner, not {name}")
    if feedback is not None and name not in ("rflo", "eprop"):
        raise UserError(f"feedback applies to rflo and eprop, not {name}")
    if name == "bptt":
        return BPTT(truncate)
    if name in ("rtrl", "uoro"):
        learner = RTRL() if name == "rtrl" else UORO()
        learner.init(model)  # RTRL refuses a cell too big for its bound here
        return learner
    if name in ("snap1", "snap2"):
        return SnAp(model, int(name[-1]))
    default = "random" if name == "rflo" else "symmetric"
    cls = RFLO if name == "rflo" else EProp
    return cls(model, default if feedback is None else feedback, key=key)


__all__ = [
    "BPTT",
    "Carry",
    "EProp",
    "EvidenceData",
    "LEARNERS",
    "Learner",
    "Network",
    "RFLO",
    "RTRL",
    "SnAp",
    "UORO",
    "bptt",
    "eprop",
    "evidence_accumulation",
    "init_carry",
    "make_learner",
    "make_step",
    "random_feedback",
    "rflo",
    "rtrl",
    "rtrl_grad",
    "snap1",
    "snap2",
    "train_online",
    "uoro",
]
