"""Small transformers, the lecture's attention-based alternative to recurrence: a
bidirectional encoder (BERT-like) for classification and tagging, and a causal decoder
(GPT-like) for next-step prediction that attends over the last ``context`` steps.

Pre-norm blocks (Xiong et al. 2020): ``x = x + attn(ln(x))``, ``x = x + mlp(ln(x))``;
padding keys (steps at or past a row's length) are masked out of every attention, so
padding never changes the outputs of valid steps. The encoder adds sinusoidal positions
(Vaswani et al. 2017, section 3.5); the decoder, a window that slides along a stream,
has a learned bias per head and relative offset instead (Raffel et al. 2020, section
2.1), so that its output does not depend on where a chunk of the stream begins.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp

from rnnlab.models._baselines import masked_mean

# The score of a masked key: finite, so that a query with no key to read (a padding step
# of the causal decoder) gets uniform weights instead of NaN, which would poison the
# gradient of a masked loss through jnp.where.
NEG = -1e9


def sinusoids(T: int, d: int):
    """Positional encodings (T, d): sin on even, cos on odd features, wavelengths from 2 pi
    to 10000 * 2 pi."""
    pos = jnp.arange(T)[:, None]  # (T, 1)
    freq = jnp.exp(-math.log(10000.0) * jnp.arange(0, d, 2) / d)  # (ceil(d/2),)
    angles = pos * freq  # (T, ceil(d/2))
    return jnp.stack([jnp.sin(angles), jnp.cos(angles)], -1).reshape(T, -1)[:, :d]


class SelfAttention(eqx.Module):
    """Multi-head self-attention of one sequence: ``softmax(q k^T / sqrt(d_h) + mask) v``.

    ``attn(x, mask, bias=None)``: ``x`` (T, d), ``mask`` (T, T) bool (query i may read
    key j), ``bias`` (h, T, T) added to the scores -> (T, d).
    """

    qkv: eqx.nn.Linear
    out: eqx.nn.Linear
    heads: int = eqx.field(static=True)

    def __init__(self, d: int, heads: int, *, key):
        k1, k2 = jax.random.split(key)
        self.qkv = eqx.nn.Linear(d, 3 * d, key=k1)
        self.out = eqx.nn.Linear(d, d, key=k2)
        self.heads = heads

    def __call__(self, x, mask, bias=None):
        T, d = x.shape
        q, k, v = jnp.split(jax.vmap(self.qkv)(x), 3, axis=-1)  # 3 x (T, d)
        q, k, v = (a.reshape(T, self.heads, d // self.heads) for a in (q, k, v))  # (T, h, dh)
        scores = jnp.einsum("thd,shd->hts", q, k) / math.sqrt(d // self.heads)  # (h, T, T)
        if bias is not None:
            scores = scores + bias
        weights = jax.nn.softmax(jnp.where(mask[None], scores, NEG), axis=-1)
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

    def __call__(self, x, mask, bias=None):  # (T, d), (T, T), (h, T, T) -> (T, d)
        x = x + self.attn(jax.vmap(self.ln1)(x), mask, bias)
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

    def positions(self, T: int):
        """What tells the blocks where a step is: (T, d) added to the inputs, and a bias
        (h, T, T) added to every attention's scores (or None)."""
        return sinusoids(T, self.embed.out_features), None

    def encode(self, x, length):  # (T, D), () -> (T, d)
        T = x.shape[0]
        pe, bias = self.positions(T)
        h = jax.vmap(self.embed)(x) + pe
        mask = self.mask(T, length)
        for block in self.blocks:
            h = block(h, mask, bias)
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
    """Causal (GPT-like) with sliding-window attention: in every layer step t attends to
    steps t - context + 1 .. t only, so its output can predict step t + 1. ``context`` is
    the window of the lecture's sliding-window models; stacked, the windows reach back
    ``layers * (context - 1)`` steps (:attr:`receptive`, as Mistral's sliding window,
    Jiang et al. 2023, section 2).

    Positions are relative: a learned bias ``rel[head, i - j]`` on the score of query i
    and key j (Raffel et al. 2020). The output at a step is then a function of the
    steps in its receptive field alone, wherever the sequence starts.

    ``net(xs, lengths, *, key=None)``: (B, T, D), (B,) -> logits (B, T, C) (``pool=False``
    by default).

    >>> import jax, jax.numpy as jnp
    >>> net = CausalTransformer(3, 5, hidden=8, layers=2, context=4, key=jax.random.key(0))
    >>> net(jnp.ones((2, 6, 3)), jnp.array([6, 6])).shape, net.receptive
    ((2, 6, 5), 7)
    """

    rel: jax.Array  # (heads, context): bias of the offsets 0 .. context - 1
    context: int = eqx.field(static=True)

    def __init__(self, features, classes, *, context=32, pool=False, heads=None, **kwargs):
        hidden = kwargs.get("hidden", 64)
        super().__init__(features, classes, pool=pool, heads=heads, **kwargs)
        self.rel = jnp.zeros((heads or default_heads(hidden), context))
        self.context = context

    @property
    def receptive(self) -> int:
        """Steps of input that one output depends on (itself included)."""
        return len(self.blocks) * (self.context - 1) + 1

    def mask(self, T: int, length):
        i, j = jnp.arange(T)[:, None], jnp.arange(T)[None, :]
        return (j <= i) & (i - j < self.context) & (j < length)

    def positions(self, T: int):
        offset = jnp.clip(jnp.arange(T)[:, None] - jnp.arange(T)[None, :], 0, self.context - 1)
        return jnp.zeros((T, self.embed.out_features)), self.rel[:, offset]  # (h, T, T)
