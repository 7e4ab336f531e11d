r"""Spiking recurrent cells: leaky integrate-and-fire (LIF) and adaptive LIF (ALIF) neurons.

The lecture's integrate-and-fire neuron (:mod:`rnnlab.spikes` simulates one in continuous
time) as a recurrent cell on a grid of steps, in the form that Bellec et al. train with
back-propagation through time and with e-prop ("Long short-term memory and
learning-to-learn in networks of spiking neurons", NeurIPS 2018; "A solution to the
learning dilemma for recurrent networks of spiking neurons", Nat. Commun. 11:3625, 2020):
the membrane ``v`` integrates its inputs with leak ``alpha`` and is reset by subtraction
after a spike ``z``; the spike is a threshold unit.

The threshold ``H`` has no useful derivative. Training goes through a *surrogate*
(pseudo-)derivative: :func:`rnnlab.neuron.threshold` keeps the exact step forward and
uses the derivative of a sigmoid of steepness ``slope`` backward, here scaled by a height
``damping`` (e-prop's dampening of the pseudo-derivative; NEST's ``eprop_iaf`` defaults it
to 0.3), which keeps gradients through many steps from growing:

    dz/dv = damping * slope * s (1 - s) / v_th,   s = sigma(slope (v - A) / v_th).

The reset subtracts ``v_th z_{t-1}`` with ``z`` held constant for differentiation (the
e-prop LIF eligibility trace ``psi_j zbar_i`` leaves the reset out in the same way). Time
constants are counted in steps; without refractory periods.

Spikes read like any spike train of :mod:`rnnlab.spikes`:
:func:`rnnlab.cells.spiking.spike_trains` turns a raster ``(T, N)`` of 0/1 into spike times.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.cells._base import Cell
from rnnlab.errors import UserError


def _spike(a: jax.Array, slope: float, damping: float) -> jax.Array:
    """``H(a)`` forward (exactly 0 or 1); ``damping * slope * sigma'(slope a)`` backward."""
    from rnnlab.neuron import threshold  # on first use: rnnlab.neuron loads matplotlib

    s = threshold(a, slope)
    return jax.lax.stop_gradient(s) + damping * (s - jax.lax.stop_gradient(s))


def _check(**values) -> None:
    for name, value in values.items():
        if not (isinstance(value, int | float) and math.isfinite(value)):
            raise UserError(f"{name} must be a finite number, got {value!r}")
    if values["tau"] < 1:
        raise UserError(f"tau must be >= 1 step, got {values['tau']}")
    if values["threshold"] <= 0 or values["slope"] <= 0 or values["damping"] < 0:
        raise UserError("threshold and slope must be > 0 and damping >= 0")


class LIFCell(Cell):
    r"""Leaky integrate-and-fire neurons, one step (Bellec et al. 2018, 2020).

    .. math::
        v_t = \alpha v_{t-1} + W x_t + U z_{t-1} + b - v_{th} z_{t-1}, \qquad
        z_t = H\left(\frac{v_t - v_{th}}{v_{th}}\right)

    with ``alpha = exp(-1 / tau)`` (``tau`` in steps), ``H`` the step with the surrogate
    derivative of the module docstring, the reset term not differentiated. ``W`` is
    ``weight_ih`` (H, D), ``U`` ``weight_hh`` (H, H); no bias by default. Weights start
    as N(0, 1/D) and N(0, 1/H) (Bellec et al.'s scaling by the fan-in).

    State: ``(v, z)``, each (H,); ``hidden`` (what ``U`` reads) and output: the spikes ``z``.
    Traces: ``v``, ``z`` and ``h`` (``z`` again, the name every cell's output has in
    :mod:`rnnlab.inspect`).

    >>> import jax, rnnlab
    >>> from rnnlab.cells.spiking import LIFCell
    >>> cell = LIFCell(4, 8, key=jax.random.key(0))
    >>> zs, (v, z) = rnnlab.unroll(cell, jax.numpy.ones((20, 4)))
    >>> zs.shape
    (20, 8)
    """

    alpha: float = eqx.field(static=True)
    v_th: float = eqx.field(static=True)
    slope: float = eqx.field(static=True)
    damping: float = eqx.field(static=True)
    gates = 1
    additive = True  # pointwise reads xp + hp only

    def __init__(
        self,
        input_size,
        hidden_size,
        *,
        tau=20.0,
        threshold=1.0,
        slope=4.0,
        damping=0.3,
        use_bias=False,
        key,
    ):
        _check(tau=tau, threshold=threshold, slope=slope, damping=damping)
        k1, k2 = jax.random.split(key)
        H, D = hidden_size, input_size
        self.weight_ih = jax.random.normal(k1, (H, D)) / math.sqrt(D)  # (H, D)
        self.weight_hh = jax.random.normal(k2, (H, H)) / math.sqrt(H)  # (H, H)
        self.bias_ih = jnp.zeros(H) if use_bias else None
        self.bias_hh = jnp.zeros(H) if use_bias else None
        self.input_size, self.hidden_size = D, H
        self.alpha = math.exp(-1.0 / tau)
        self.v_th, self.slope, self.damping = float(threshold), float(slope), float(damping)

    def init_state(self):
        zeros = jnp.zeros(self.hidden_size)
        return (zeros, zeros)

    def hidden(self, state):
        return state[1]

    def pointwise(self, state, xp, hp):
        v, z = state  # (H,), (H,)
        v = self.alpha * v + xp + hp - self.v_th * jax.lax.stop_gradient(z)
        z = _spike((v - self.v_th) / self.v_th, self.slope, self.damping)
        return (v, z), z, {"v": v, "z": z, "h": z}


class ALIFCell(LIFCell):
    r"""Adaptive LIF neurons, one step (Bellec et al. 2018's LSNN): each spike raises the
    threshold, which relaxes back with time constant ``tau_adaptation``.

    .. math::
        a_t = \rho a_{t-1} + z_{t-1}, \qquad A_t = v_{th} + \beta a_t \\
        v_t = \alpha v_{t-1} + W x_t + U z_{t-1} + b - v_{th} z_{t-1}, \qquad
        z_t = H\left(\frac{v_t - A_t}{v_{th}}\right)

    with ``rho = exp(-1 / tau_adaptation)``. The adaptation ``a`` is a memory over
    hundreds of steps: Bellec et al. use it for tasks that keep information over time
    (evidence accumulation, :func:`rnnlab.learn.evidence_accumulation`).

    State: ``(v, z, a)``, each (H,); ``hidden`` and output: ``z``.
    """

    rho: float = eqx.field(static=True)
    beta: float = eqx.field(static=True)

    def __init__(
        self,
        input_size,
        hidden_size,
        *,
        tau=20.0,
        tau_adaptation=200.0,
        beta=1.0,
        threshold=1.0,
        slope=4.0,
        damping=0.3,
        use_bias=False,
        key,
    ):
        super().__init__(
            input_size,
            hidden_size,
            tau=tau,
            threshold=threshold,
            slope=slope,
            damping=damping,
            use_bias=use_bias,
            key=key,
        )
        _check(tau=tau_adaptation, threshold=threshold, slope=slope, damping=damping)
        if not math.isfinite(beta) or beta < 0:
            raise UserError(f"beta must be a number >= 0, got {beta!r}")
        self.rho, self.beta = math.exp(-1.0 / tau_adaptation), float(beta)

    def init_state(self):
        zeros = jnp.zeros(self.hidden_size)
        return (zeros, zeros, zeros)

    def pointwise(self, state, xp, hp):
        v, z, a = state  # 3 x (H,)
        a = self.rho * a + z
        A = self.v_th + self.beta * a  # the adaptive threshold
        v = self.alpha * v + xp + hp - self.v_th * jax.lax.stop_gradient(z)
        z = _spike((v - A) / self.v_th, self.slope, self.damping)
        return (v, z, a), z, {"v": v, "z": z, "a": a, "A": A, "h": z}


def spike_trains(raster, dt: float = 0.001) -> list[np.ndarray]:
    """The spike times (seconds) of each neuron of a raster ``(T, N)`` of 0/1, step ``t``
    at time ``t * dt``: the spike-train format of :mod:`rnnlab.spikes` (rates,
    histograms).

    >>> import numpy as np
    >>> [t.tolist() for t in spike_trains(np.array([[1, 0], [0, 0], [1, 1]]), dt=0.5)]
    [[0.0, 1.0], [1.0]]
    """
    z = np.asarray(raster)
    if z.ndim != 2:
        raise UserError(f"a spike raster is (T, N), got shape {z.shape}")
    if not (isinstance(dt, int | float) and math.isfinite(dt) and dt > 0):
        raise UserError(f"dt must be a positive number of seconds, got {dt!r}")
    return [np.flatnonzero(z[:, j] > 0.5) * float(dt) for j in range(z.shape[1])]
