"""A char model with a planted unit, written by hand, and a run directory holding it
(shared by the inspect tests)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.charlm.model import CharLM
from rnnlab.config import ModelConfig
from rnnlab.data import Vocab
from rnnlab.tasks import Run, get_task

# Quotes across lines, text between them, brackets: the planted unit must follow the
# quotes and nothing else. It starts with a quote so that no step sits in the zero state.
TEXT = (
    '"Well," said he, "so it is.\nAnd this goes\non," she said (a (b) c). '
    'He left. "Now\nthen." The end, <script>alert(1)</script> </script <!-- x\n'
) * 3
H = 8
PLANTED = 5  # the unit that copies the "inside quotes" detector


def planted_model(text=TEXT, *, seed=0, other=0.5):
    """An LSTM char model (one-hot embedding, hidden :data:`H`) whose unit
    :data:`PLANTED` holds c = +1 inside double quotes and -1 outside: at a quote its
    forget gate closes, its input gate opens and g = tanh(-K h + b) writes the opposite
    of its current sign; elsewhere f = 1, i = 0 keep c. The other units get random
    weights of scale ``other``, so that they vary but track nothing in particular."""
    vocab = Vocab.from_text(text)
    V = len(vocab)
    config = ModelConfig(cell="lstm", hidden=H, layers=1, embed=V)
    model = CharLM(V, config, key=jax.random.key(seed))
    q = vocab.encode('"')[0]
    k = PLANTED
    B, K, b0 = 20.0, 20.0, 2.0
    rng = np.random.default_rng(seed)
    cell = model.rnn.cells[0][0]
    w_ih = rng.normal(0, other, (4 * H, V)).astype(np.float32)
    w_hh = rng.normal(0, other, (4 * H, H)).astype(np.float32)
    b_ih = rng.normal(0, other, 4 * H).astype(np.float32)
    i, f, g, o = np.arange(4) * H + k  # rows of unit k in the gate blocks i f g o
    for row in (i, f, g, o):
        w_ih[row], w_hh[row], b_ih[row] = 0, 0, 0
    w_hh[:, k] = 0  # the others do not read the planted unit either
    w_ih[i, q], b_ih[i] = 2 * B, -B  # i = sigma(B (2q - 1)): open at a quote only
    w_ih[f, q], b_ih[f] = -2 * B, B  # f = sigma(B (1 - 2q)): closed at a quote only
    w_hh[g, k], b_ih[g] = -K, b0  # g = tanh(-K h + b0): the opposite sign (+ from zero)
    b_ih[o] = B  # o = 1: h = tanh(c)
    cell = eqx.tree_at(
        lambda c: (c.weight_ih, c.weight_hh, c.bias_ih, c.bias_hh),
        cell,
        (jnp.asarray(w_ih), jnp.asarray(w_hh), jnp.asarray(b_ih), jnp.zeros(4 * H)),
    )
    model = eqx.tree_at(lambda m: m.rnn.cells[0][0], model, cell)
    model = eqx.tree_at(lambda m: m.embedding, model, jnp.eye(V))
    return model, vocab, config


def make_run(run_dir, text=TEXT):
    """A run directory (config.json, best.eqx) holding :func:`planted_model`, its corpus
    a file of ``text`` beside it."""
    run_dir.mkdir(parents=True)
    corpus = run_dir.parent / f"{run_dir.name}-corpus.txt"
    corpus.write_text(text, encoding="utf-8")
    model, vocab, mconfig = planted_model(text)
    task = get_task("charlm")
    shape = {k: getattr(mconfig, k) for k in ("cell", "hidden", "layers", "embed")}
    config = task.config(**shape, corpus=str(corpus))
    Run(run_dir, task, config, {"vocab": vocab.to_json()}, model).save()
    return model, vocab
