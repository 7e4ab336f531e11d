"""Small transformers, the lecture's attention-based alternative to recurrence: a
bidirectional encoder (BERT-like) for classification and tagging, and a causal decoder
(GPT-like) for next-step prediction that sees the last ``context`` steps.

Pre-norm blocks (Xiong et al. 2020): ``x = x + attn(ln(x))``, ``x = x + mlp(ln(x))``;
sinusoidal positions (Vaswani et al. 2017, section 3.5); padding keys (steps at or past
a row's length) are masked out of every attention, so padding never changes the outputs
of valid steps.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp

from rnnlab.models._baselines import masked_mean


def sinusoids(T: int, d: int):
    """Positional encodings (T, d): sin on even, cos on odd features, wavelengths from 2 pi
    to 10000 * 2 pi."""
    pos = jnp.arange(T)[:, None]  # (T, 1)
    freq = jnp.exp(-math.log(10000.0) * jnp.arange(0, d, 2) / d)  # (ceil(d/2),)
    angles = pos * freq  # (T, ceil(d/2))
    return jnp.stack([jnp.sin(angles), jnp.cos(angles)], -1).reshape(T, -1)[:, :d]


class SelfAttention(eqx.Module):
    """Multi-head self-attention of one sequence: ``softmax(q k^T / sqrt(d_h) + mask) v``.

    ``attn(x, mask)``: ``x`` (T, d), ``mask`` (T, T) bool (query i may read key j) -> (T, d).
    """

    qkv: eqx.nn.Linear
    out: eqx.nn.Linear
    heads: int = eqx.field(static=True)

    def __init__(self, d: int, heads: int, *, key):
        k1, k2 = jax.random.split(key)
        self.qkv = eqx.nn.Linear(d, 3 * d, key=k1)
        self.out = eqx.nn.Linear(d, d, key=k2)
        self.heads = heads

    def __call__(self, x, mask):
        T, d = x.shape
        q, k, v = jnp.split(jax.vmap(self.qkv)(x), 3, axis=-1)  # 3 x (T, d)
        q, k, v = (a.reshape(T, self.heads, d // self.heads) for a in (q, k, v))  # (T, h, dh)
        scores = jnp.einsum("thd,shd->hts", q, k) / math.sqrt(d // self.heads)  # (h, T, T)
        weights = jax.nn.softmax(jnp.where(mask[None], scores, -jnp.inf), axis=-1)
        y = jnp.einsum("hts,shd->thd", weights, v).reshape(T, d)  # heads side by side
        return jax.vmap(self.out)(y)


class Block(eqx.Module):
    """One pre-norm transformer block: attention, then a 4x-wide GELU MLP, both residual."""

    ln1: eqx.nn.LayerNorm
    attn: SelfAttention
    ln2: eqx.nn.LayerNorm
    up: eqx.nn.Linear
    down: eqx.nn.Linear

    def __init__(self, d: int, heads: int, *, key):
        k1, k2, k3 = jax.random.split(key, 3)
        self.ln1, self.ln2 = eqx.nn.LayerNorm(d), eqx.nn.LayerNorm(d)
        self.attn = SelfAttention(d, heads, key=k1)
        self.up = eqx.nn.Linear(d, 4 * d, key=k2)
        self.down = eqx.nn.Linear(4 * d, d, key=k3)

    def __call__(self, x, mask):  # (T, d), (T, T) -> (T, d)
        x = x + self.attn(jax.vmap(self.ln1)(x), mask)
        return x + jax.vmap(lambda h: self.down(jax.nn.gelu(self.up(self.ln2(h)))))(x)


def default_heads(d: int) -> int:
    """4 heads when they divide ``d``, else 2, else 1."""
    return next(h for h in (4, 2, 1) if d % h == 0)


class _Transformer(eqx.Module):
    """Input projection + positions -> ``layers`` blocks -> layer norm -> linear readout."""

    embed: eqx.nn.Linear
    blocks: tuple
    ln: eqx.nn.LayerNorm
    readout: eqx.nn.Linear
    pool: bool = eqx.field(static=True)

    def __init__(self, features, classes, *, hidden=64, layers=2, heads=None, pool=True, key):
        keys = jax.random.split(key, layers + 2)
        heads = heads or default_heads(hidden)
        if hidden % heads:
            raise ValueError(f"hidden={hidden} is not divisible by heads={heads}")
        self.embed = eqx.nn.Linear(features, hidden, key=keys[0])
        self.blocks = tuple(Block(hidden, heads, key=k) for k in keys[1:-1])
        self.ln = eqx.nn.LayerNorm(hidden)
        self.readout = eqx.nn.Linear(hidden, classes, key=keys[-1])
        self.pool = pool

    def mask(self, T: int, length):
        """(T, T) bool: query i may read key j."""
        return jnp.broadcast_to(jnp.arange(T)[None, :] < length, (T, T))

    def encode(self, x, length):  # (T, D), () -> (T, d)
        T = x.shape[0]
        h = jax.vmap(self.embed)(x) + sinusoids(T, self.embed.out_features)
        mask = self.mask(T, length)
        for block in self.blocks:
            h = block(h, mask)
        return jax.vmap(self.ln)(h)

    def __call__(self, xs, lengths, *, key=None):
        h = jax.vmap(self.encode)(xs, lengths)  # (B, T, d)
        if self.pool:
            return jax.vmap(self.readout)(masked_mean(h, lengths))  # (B, C)
        return jax.vmap(jax.vmap(self.readout))(h)  # (B, T, C)


class TransformerEncoder(_Transformer):
    """Bidirectional (BERT-like): every step reads every valid step of its sequence.

    ``net(xs, lengths, *, key=None)``: (B, T, D), (B,) -> logits (B, C), the mean of the
    valid steps' outputs; with ``pool=False``, one per step (B, T, C). No dropout.

    >>> import jax, jax.numpy as jnp
    >>> net = TransformerEncoder(3, 4, hidden=8, layers=1, key=jax.random.key(0))
    >>> net(jnp.ones((2, 5, 3)), jnp.array([5, 2])).shape
    (2, 4)
    """


class CausalTransformer(_Transformer):
    """Causal (GPT-like): step t reads steps t - context + 1 .. t only, so its output can
    predict step t + 1; ``context`` is the window of the lecture's sliding-window models.

    ``net(xs, lengths, *, key=None)``: (B, T, D), (B,) -> logits (B, T, C) (``pool=False``
    by default).
    """

    context: int = eqx.field(static=True)

    def __init__(self, features, classes, *, context=32, pool=False, **kwargs):
        super().__init__(features, classes, pool=pool, **kwargs)
        self.context = context

    def mask(self, T: int, length):
        i, j = jnp.arange(T)[:, None], jnp.arange(T)[None, :]
        return (j <= i) & (i - j < self.context) & (j < length)
