"""Gated recurrent unit (Cho et al. 2014)."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp

from rnnlab.cells._base import Cell, gates, sigmoid


class GRUCell(Cell):
    r"""Gated recurrent unit, one step (Cho et al. 2014).

    Default form, identical to ``torch.nn.GRUCell`` (reset applied *after* the
    hidden matmul):

    .. math::
        r &= \sigma(W_r x + b_{ir} + U_r h + b_{hr}) \quad
        z = \sigma(W_z x + b_{iz} + U_z h + b_{hz}) \\
        n &= \tanh(W_n x + b_{in} + r \odot (U_n h + b_{hn})) \qquad
        h' = (1 - z) \odot n + z \odot h

    With ``reset_after=False``, the published form (Cho et al. arXiv 1406.1078 v3,
    EMNLP 2014; also Chung et al. 2014's ``U(r * h)``): the reset gate scales ``h``
    *before* the matmul, ``n = tanh(W_n x + b_in + U_n (r * h) + b_hn)``. arXiv v1,
    torch and cuDNN apply it after the matmul, the default here.

    Here ``z`` keeps the old state (``z = 1`` copies ``h``), as in torch and in Cho et
    al. 2014 (``h = z h_prev + (1 - z) h~``). Slides that follow Chung et
    al. 2014 write ``h' = (1 - z) h + z n``: their ``z`` writes the new state. The
    two are the same cell with ``z_slide = 1 - z_here``; since ``1 - sigma(a) =
    sigma(-a)``, a slide's weights ``W_z, U_z, b_z`` are these negated.

    Gate order in the weights: r, z, n (as torch). State and output: ``h`` (H,).
    """

    reset_after: bool = eqx.field(static=True)
    gates = 3  # n = tanh(x_n + r * h_n): x and h enter separately, so not additive

    def __init__(self, input_size, hidden_size, *, reset_after=True, use_bias=True, key):
        super().__init__(input_size, hidden_size, use_bias=use_bias, key=key)
        self.reset_after = reset_after

    @property
    def pointwise_form(self) -> bool:
        # The paper's form multiplies by r before the matmul: U h is not a separate term.
        return self.reset_after

    def pointwise(self, h, xp, hp):
        """The torch form, given ``hp = U h + b_hh`` (3H,)."""
        H = self.hidden_size
        r, z = gates(xp[..., : 2 * H] + hp[..., : 2 * H], r=sigmoid, z=sigmoid)  # 2 x (H,)
        x_n, h_n = xp[..., 2 * H :], hp[..., 2 * H :]
        n = jnp.tanh(x_n + r * h_n)
        h = (1 - z) * n + z * h
        return h, h, {"h": h, "r": r, "z": z, "n": n}

    def step(self, h, xp):
        if self.reset_after:
            return super().step(h, xp)
        H = self.hidden_size
        x_r, x_z, x_n = jnp.split(xp, 3, axis=-1)
        # r and z need U h first; n needs U_n (r * h), a second, smaller matmul.
        hp = h @ self.weight_hh[: 2 * H].T  # (2H,)
        if self.bias_hh is not None:
            hp = hp + self.bias_hh[: 2 * H]
        h_r, h_z = jnp.split(hp, 2, axis=-1)
        r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
        h_n = (r * h) @ self.weight_hh[2 * H :].T
        if self.bias_hh is not None:
            h_n = h_n + self.bias_hh[2 * H :]
        n = jnp.tanh(x_n + h_n)
        h = (1 - z) * n + z * h
        return h, h, {"h": h, "r": r, "z": z, "n": n}
