"""Sequence to sequence: an RNN encoder, a decoder cell and optional Luong attention.

Token ids on both sides: 0 padding, 1 begin (BOS, the decoder's first input), 2 end
(EOS, the last target), 3... symbols. Training is teacher forcing: the decoder reads
the reference shifted right by one (BOS first) in one :func:`rnnlab.unroll`; decoding
feeds back its own choices, greedily or by beam search.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from rnnlab.cells import Step, make_cell
from rnnlab.layers import RNN
from rnnlab.unroll import unroll

PAD, BOS, EOS = 0, 1, 2
ATTENTION = ("none", "luong", "bahdanau")
NEG = -1e9  # the score of a masked source position (finite: exp underflows to 0)


class BahdanauCell(Step):
    """A decoder cell that attends before each step (Bahdanau et al. 2015, appendix A):

        e_tj = v^T tanh(W s_{t-1} + U h_j),   a_t = softmax_j(e_t),   c_t = sum_j a_tj h_j
        s_t = cell(s_{t-1}, [x_t; c_t])

    with ``h_j`` the encoder outputs, carried in the state beside the inner cell's
    state: ``(state, h (S, H), U h (S, A), mask (S,))``, so that :func:`rnnlab.unroll`
    runs it like any cell (its plain-autodiff path). A step outputs ``[s_t; c_t; a_t]``.
    """

    cell: eqx.Module  # over [x; c]: input_size + H
    W: jax.Array  # (A, H)
    U: jax.Array  # (A, H)
    v: jax.Array  # (A,)
    input_size: int = eqx.field(static=True)

    def __init__(self, cell, input_size, hidden, *, key):
        k = jax.random.split(key, 4)
        self.cell = make_cell(cell, input_size + hidden, hidden, key=k[0])
        self.W = jax.random.normal(k[1], (hidden, hidden)) / hidden**0.5
        self.U = jax.random.normal(k[2], (hidden, hidden)) / hidden**0.5
        self.v = jax.random.normal(k[3], (hidden,)) / hidden**0.5
        self.input_size = input_size

    def start(self, state, enc, src_mask):
        """The state before the first step, for one sample: ``enc`` (S, H), mask (S,)."""
        return state, enc, enc @ self.U.T, src_mask

    def input_proj(self, x):
        return x

    def output(self, state):
        return self.cell.output(state[0])

    def step(self, state, x):
        s, enc, keys, mask = state
        e = jnp.tanh(keys + self.W @ self.cell.hidden(s)) @ self.v  # (S,)
        a = jax.nn.softmax(jnp.where(mask, e, NEG))
        c = a @ enc  # (H,)
        s, y = self.cell(s, jnp.concatenate([x, c]))
        return (s, enc, keys, mask), jnp.concatenate([y, c, a]), {}


def shift_right(tgt):
    """Decoder inputs under teacher forcing: ``tgt`` (B, T) -> (B, T) with BOS first."""
    return jnp.concatenate([jnp.full_like(tgt[:, :1], BOS), tgt[:, :-1]], axis=1)


class Seq2Seq(eqx.Module):
    """Encoder-decoder (Sutskever et al. 2014) with Luong et al. (2015) global attention
    or Bahdanau et al. (2015) additive attention.

    The encoder, ``layers`` recurrent layers of ``cell`` over embedded source symbols,
    hands its last layer's final state to the decoder, one ``cell`` over embedded
    target symbols. With ``attention="luong"`` each decoder output ``h_t`` attends
    over the encoder outputs ``s_j`` ("general" score, eqs. 5-8 of the paper)::

        score_tj = h_t^T W_a s_j,   a_t = softmax_j(score_t),   c_t = sum_j a_tj s_j
        h~_t = tanh(W_c [c_t; h_t]),   p(y_t | y_<t, x) = softmax(W_s h~_t)

    With ``"bahdanau"`` the decoder attends before each step (:class:`BahdanauCell`,
    from its previous state), reads ``[x_t; c_t]``, and the same ``h~_t`` is formed from
    its ``c_t`` and ``h_t``. With ``"none"`` the readout reads ``h_t`` directly (the
    encoder's final state is then all the decoder knows of the source).

    ``net(src, src_len, tgt, tgt_len)``: ``src`` (B, S), ``tgt`` (B, T) int ids (the
    reference, EOS included), lengths (B,) -> logits (B, T, V_tgt) of every target
    step given the reference before it. ``return_attention=True`` adds ``a`` (B, T, S).

    >>> import jax, jax.numpy as jnp
    >>> net = Seq2Seq(6, 7, hidden=8, embed=4, key=jax.random.key(0))
    >>> src, tgt = jnp.array([[3, 4, 5]]), jnp.array([[3, 2]])
    >>> net(src, jnp.array([3]), tgt, jnp.array([2])).shape
    (1, 2, 7)
    """

    src_embed: jax.Array  # (V_src, E)
    tgt_embed: jax.Array  # (V_tgt, E)
    encoder: RNN
    decoder: eqx.Module
    W_a: jax.Array | None  # (H, H)
    W_c: eqx.nn.Linear | None  # 2H -> H
    readout: eqx.nn.Linear  # H -> V_tgt
    attention: str = eqx.field(static=True)

    def __init__(
        self, src_vocab, tgt_vocab, *, cell="lstm", hidden=64, embed=32, layers=1,
        attention="luong", key,
    ):  # fmt: skip
        if attention not in ATTENTION:
            raise ValueError(f"attention must be one of {ATTENTION}, got {attention!r}")
        k = jax.random.split(key, 7)
        self.src_embed = jax.random.normal(k[0], (src_vocab, embed))
        self.tgt_embed = jax.random.normal(k[1], (tgt_vocab, embed))
        self.encoder = RNN(cell, embed, hidden, layers, key=k[2])
        if attention == "bahdanau":
            self.decoder = BahdanauCell(cell, embed, hidden, key=k[3])
        else:
            self.decoder = make_cell(cell, embed, hidden, key=k[3])
        self.attention = attention
        if attention != "none":
            self.W_a = (
                jax.random.normal(k[4], (hidden, hidden)) / hidden**0.5
                if attention == "luong"
                else None
            )
            self.W_c = eqx.nn.Linear(2 * hidden, hidden, key=k[5])
        else:
            self.W_a, self.W_c = None, None
        self.readout = eqx.nn.Linear(hidden, tgt_vocab, key=k[6])

    def encode(self, src, src_len):
        """``src`` (B, S), ``src_len`` (B,) -> encoder outputs (B, S, H), zero past each
        length, and the decoder's initial state (the last layer's final state)."""
        enc, states = self.encoder(self.src_embed[src], lengths=src_len)
        return enc, states[-1]

    def start(self, state, enc, src_mask):
        """The decoder's first state for a batch: the encoder's final state (with the
        encoder outputs beside it for Bahdanau attention)."""
        if self.attention != "bahdanau":
            return state
        return jax.vmap(self.decoder.start)(state, enc, src_mask)

    def attend(self, h, enc, src_mask):
        """``h`` (..., H) decoder outputs, ``enc`` (S, H), ``src_mask`` (S,) -> the
        context c (..., H) and weights a (..., S) of Luong's general score."""
        score = (h @ self.W_a) @ enc.T  # (..., S)
        a = jax.nn.softmax(jnp.where(src_mask, score, NEG), axis=-1)
        return a @ enc, a

    def head(self, y, enc, src_mask):
        """Logits (..., V) and attention weights (..., S) (zeros without attention) of
        decoder outputs ``y`` (..., H) (Bahdanau: (..., 2H + S), ``[h; c; a]``)."""
        H = enc.shape[-1]
        if self.attention == "none":
            h, a = y, jnp.zeros(y.shape[:-1] + enc.shape[:1])
        else:
            if self.attention == "luong":
                c, a = self.attend(y, enc, src_mask)
                h = y
            else:
                h, c, a = y[..., :H], y[..., H : 2 * H], y[..., 2 * H :]
            ch = jnp.concatenate([c, h], axis=-1)  # (..., 2H)
            h = jnp.tanh(ch @ self.W_c.weight.T + self.W_c.bias)  # h~
        return h @ self.readout.weight.T + self.readout.bias, a

    def __call__(self, src, src_len, tgt, tgt_len, *, return_attention=False):
        enc, state = self.encode(src, src_len)  # (B, S, H)
        mask = jnp.arange(src.shape[1])[None, :] < src_len[:, None]  # (B, S)
        xs = self.tgt_embed[shift_right(tgt)]  # (B, T, E)
        ys, _ = unroll(self.decoder, xs, self.start(state, enc, mask), lengths=tgt_len)
        logits, a = jax.vmap(self.head)(ys, enc, mask)  # (B, T, V), (B, T, S)
        return (logits, a) if return_attention else logits

    def step(self, state, token, enc, src_mask):
        """One decoding step for one sample: ``token`` () -> (state, log-probs (V,), a (S,))."""
        state, y = self.decoder(state, self.tgt_embed[token])
        logits, a = self.head(y, enc, src_mask)
        return state, jax.nn.log_softmax(logits), a


def _encoded(model, src, src_len):
    enc, state = model.encode(src, src_len)
    mask = jnp.arange(src.shape[1])[None, :] < src_len[:, None]  # (B, S)
    return enc, model.start(state, enc, mask), mask


@eqx.filter_jit
def greedy(model, src, src_len, max_len: int):
    """The most likely symbol at every step until EOS: ``src`` (B, S) -> tokens
    (B, max_len) (EOS, then padding), their log-probability (B,), attention
    (B, max_len, S)."""

    def one(enc, state, mask):
        def body(carry, _):
            state, token, done, score = carry
            state, logp, a = model.step(state, token, enc, mask)
            best = jnp.argmax(logp)
            out = jnp.where(done, PAD, best)
            score = score + jnp.where(done, 0.0, logp[best])
            return (state, out, done | (best == EOS), score), (out, a)

        start = (state, jnp.int32(BOS), jnp.bool_(False), jnp.float32(0))
        (_, _, _, score), (tokens, a) = jax.lax.scan(body, start, None, length=max_len)
        return tokens, score, a

    return jax.vmap(one)(*_encoded(model, src, src_len))


@eqx.filter_jit
def beam_search(model, src, src_len, max_len: int, beam: int):
    """Beam search of width ``beam``: ``src`` (B, S) -> the best hypothesis's tokens
    (B, max_len) and its log-probability (B,).

    A hypothesis ends at EOS or after ``max_len`` symbols; its score is the sum of its
    log-probabilities (no length normalisation). Each step extends every live
    hypothesis by every symbol, keeps the ``beam`` best of all (finished ones compete
    unchanged), and the best finished one is returned: with ``beam`` at least the
    number of possible hypotheses this is exact search; ``beam=1`` is greedy.
    """

    def one(enc, state, mask):
        states = jax.tree_util.tree_map(lambda s: jnp.broadcast_to(s, (beam,) + s.shape), state)
        scores = jnp.full(beam, -jnp.inf).at[0].set(0.0)  # one live hypothesis at first
        tokens = jnp.zeros((beam, max_len), jnp.int32)
        start = (states, jnp.full(beam, BOS), jnp.zeros(beam, bool), scores, tokens)

        def body(carry, t):
            states, last, done, scores, tokens = carry
            states, logp, _ = jax.vmap(model.step, (0, 0, None, None))(states, last, enc, mask)
            V = logp.shape[-1]
            stay = jnp.full(V, -jnp.inf).at[PAD].set(0.0)  # a finished one only pads
            total = scores[:, None] + jnp.where(done[:, None], stay, logp)  # (beam, V)
            scores, flat = jax.lax.top_k(total.reshape(-1), beam)
            parent, token = flat // V, flat % V
            pick = lambda x: x[parent]  # noqa: E731
            states = jax.tree_util.tree_map(pick, states)
            tokens = tokens[parent].at[:, t].set(token)
            done = done[parent] | (token == EOS)
            return (states, token, done, scores, tokens), None

        carry, _ = jax.lax.scan(body, start, jnp.arange(max_len))
        _, _, _, scores, tokens = carry
        best = jnp.argmax(scores)
        return tokens[best], scores[best]

    enc, state, mask = _encoded(model, src, src_len)
    return jax.vmap(one)(enc, state, mask)
