"""Back-propagation through time as a learner of the same form as the online ones, the
reference they are measured against.

Within a chunk the gradient is exact (reverse mode through ``rnnlab.unroll``); the
state that enters the chunk is a constant, so a stream learnt chunk by chunk with an
update after each is truncated BPTT with the chunk as its window.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from rnnlab.errors import UserError
from rnnlab.learn._core import Carry, parts
from rnnlab.unroll import unroll


class BPTT(eqx.Module):
    """BPTT over each chunk: ``learner(model, xs, loss_fn, carry)`` -> ``(grads, carry,
    loss)``, as :class:`rnnlab.learn.Learner`.

    ``truncate=k`` cuts the gradient within the chunk into windows of k steps counted
    back from the chunk's last step, so that a loss at the end sees exactly its last k
    steps (Williams & Peng 1990's BPTT(k) for that loss); None: the whole chunk.

    Memory: O(T n) activations for a chunk of T steps (O(k n) live per window is not
    exploited: the windows share one compiled backward pass). Compute per step: about
    two forward steps, O(p).
    """

    truncate: int | None = eqx.field(static=True, default=None)

    def __check_init__(self):
        t = self.truncate
        if t is not None and (not isinstance(t, int) or isinstance(t, bool) or t < 1):
            raise UserError(f"truncate must be a positive integer or None, got {t!r}")

    def init(self, model, key=None) -> Carry:
        cell, _ = parts(model)
        return Carry(cell.init_state(), None)

    def _outputs(self, model, xs, state):
        cell, readout = parts(model)
        T, k = xs.shape[0], self.truncate or xs.shape[0]
        bounds = list(range(T, 0, -k))[::-1]  # window ends, counted back from T
        starts = [0, *bounds[:-1]]
        ys = []
        for a, b in zip(starts, bounds, strict=True):
            out, state = unroll(cell, xs[a:b], jax.tree_util.tree_map(jax.lax.stop_gradient, state))
            ys.append(out)
        ys = jnp.concatenate(ys)
        return (ys if readout is None else jax.vmap(readout)(ys)), state

    def __call__(self, model, xs, loss_fn, carry=None, *, has_aux=False):
        carry = self.init(model) if carry is None else carry
        f = loss_fn if has_aux else (lambda outs: (loss_fn(outs), None))

        def total(model):
            outs, final = self._outputs(model, xs, carry.state)
            loss, aux = f(outs)
            return loss, (aux, final)

        (loss, (aux, final)), grads = eqx.filter_value_and_grad(total, has_aux=True)(model)
        final = jax.tree_util.tree_map(jax.lax.stop_gradient, final)
        return grads, Carry(final, None), ((loss, aux) if has_aux else loss)


def bptt(model, xs, loss_fn, carry=None, *, truncate=None, has_aux=False):
    """BPTT over the chunk ``xs`` (T, D): ``(grads, carry, loss)`` (see
    :class:`rnnlab.learn.BPTT`)."""
    return BPTT(truncate)(model, xs, loss_fn, carry, has_aux=has_aux)
