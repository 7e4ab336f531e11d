"""rnnlab.inspect: detectors on hand-labelled snippets, the finder on a planted unit,
saturation and gradients through time against hand computations, and the CLI."""

import base64

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _cli import run
from _inspect_models import PLANTED, TEXT, make_run, planted_model

import rnnlab
from rnnlab.inspect import (
    Trace,
    charlm_grad_norms,
    correlations,
    detect,
    find_cells,
    page_data,
    quantise,
    render_page,
    safe_json,
    saturation,
    trace_charlm,
    trace_rnn,
)


def bits(s):
    """'0011' -> [0., 0., 1., 1.]"""
    return [float(c) for c in s]


def test_quote_crosses_lines_and_curly_quotes_pair():
    text = 'a "b\nc" d \u201ce\u201d'
    assert detect(text, ["quote"])["quote"].tolist() == bits("00111100001100")[: len(text)]
    assert len(text) == 13


def test_string_literals_of_python():
    text = 'x = \'a"b\' # \'no\'\ns = """q\n\'""" + "\\""\n'
    got = detect(text, ["string"])["string"]
    want = np.zeros(len(text))
    for a in ("'a\"b", '"""q\n\'', '"\\"'):
        start = text.index(a)
        want[start : start + len(a)] = 1
    assert got.tolist() == want.tolist()
    # the closing delimiters are outside; the comment's quotes are no string
    assert got[text.index("# 'no'") :][:6].sum() == 0


def test_brackets_nest_and_ignore_stray_closers():
    text = ") f(a[b], (c))"
    assert detect(text, ["brackets"])["brackets"].tolist() == [
        0, 0, 0, 1, 1, 2, 2, 1, 1, 1, 2, 2, 1, 0
    ]  # fmt: skip


def test_line_position_line_end_and_word_start():
    d = detect("ab c\nde", ["line_position", "line_end", "word_start"])
    assert d["line_position"].tolist() == [0, 1, 2, 3, 4, 0, 1]
    assert d["line_end"].tolist() == [4, 3, 2, 1, 0, 2, 1]
    assert d["word_start"].tolist() == [1, 0, 0, 1, 0, 1, 0]


def test_if_blocks_and_indentation():
    text = (
        "def f(x):\n"  # 0: outside
        "    if x:\n"  # 1: header, from `if`
        "        y = 1\n"  # 2: body
        "\n"  # 3: blank line inside the block
        "        z = 2\n"  # 4: body
        "    else:\n"  # 5: header again
        "        y = 0\n"  # 6: body
        "    return y\n"  # 7: outside
    )
    lines = text.splitlines(keepends=True)
    d = detect(text, ["if_block", "indent"])
    want_if, want_indent, at = [], [], 0
    for n, line in enumerate(lines):
        inside = [0] * len(line)
        if n in (2, 3, 4, 6):
            inside = [1] * len(line)
        elif n in (1, 5):
            inside = [0] * 4 + [1] * (len(line) - 4)
        want_if += inside
        want_indent += [{0: 0, 1: 4, 2: 8, 3: 8, 4: 8, 5: 4, 6: 8, 7: 4}[n]] * len(line)
        at += len(line)
    assert d["if_block"].tolist() == want_if
    assert d["indent"].tolist() == want_indent


def test_correlations_match_numpy():
    rng = np.random.default_rng(0)
    acts = rng.normal(size=(50, 4))
    s = rng.normal(size=50)
    want = [np.corrcoef(acts[:, k], s)[0, 1] for k in range(4)]
    np.testing.assert_allclose(correlations(acts, s), want, rtol=1e-10)
    assert correlations(np.ones((5, 2)), np.arange(5.0)).tolist() == [0.0, 0.0]


def test_finder_returns_the_planted_unit():
    model, vocab, _ = planted_model()
    trace = trace_charlm(model, vocab.encode(TEXT))
    found = find_cells(trace.layers, detect(TEXT), top=3)
    best = found["quote"][0]
    assert (best.layer, best.unit) == (0, PLANTED) and best.r > 0.99
    # no other unit tracks quotes nearly as well, and no other detector's best is it
    assert all(abs(f.r) < 0.9 for f in found["quote"] if f.unit != PLANTED)
    assert found["if_block"] == []  # constant over this text: nothing to find


def test_trace_probs_and_loss_match_the_model():
    model, vocab, _ = planted_model()
    ids = vocab.encode(TEXT)
    trace = trace_charlm(model, ids)
    logits, _ = model(jnp.asarray(ids)[None])
    p = np.asarray(jax.nn.softmax(logits[0], -1))
    np.testing.assert_allclose(trace.probs, p, atol=1e-6)
    assert np.isnan(trace.loss[0])
    nll = -np.log(p[np.arange(len(ids) - 1), ids[1:]])
    np.testing.assert_allclose(trace.loss[1:], nll, rtol=1e-4)


def test_a_window_model_is_refused_in_one_line():
    from rnnlab.models import WindowLM

    net = WindowLM(5, "window-mlp", embed=4, hidden=8, layers=1, window=4, key=jax.random.key(0))
    with pytest.raises(rnnlab.UserError, match="recurrent char models"):
        trace_charlm(net, np.arange(5))


def test_saturation_against_a_hand_count():
    i = np.array([[0.05, 0.5], [0.95, 0.5], [0.05, 0.91], [0.5, 0.09]])  # (T=4, H=2)
    f = np.full((4, 2), 0.99)
    sat = saturation([{"i": i, "f": f, "c": i, "g": i}])
    left, right = sat[(0, "i")]
    assert left.tolist() == [0.5, 0.25] and right.tolist() == [0.25, 0.25]
    assert sat[(0, "f")][1].tolist() == [1.0, 1.0]
    assert set(sat) == {(0, "i"), (0, "f")}  # c and g are no sigmoid gates


@pytest.mark.parametrize(
    "cell, gates",
    [("lstm", "ifo"), ("gru", "rz"), ("peephole", "ifo"), ("cifg", "fo"), ("lstm1997", "io")],
)
def test_saturation_reads_the_gates_of_every_gated_cell(cell, gates):
    rnn = rnnlab.RNN(cell, 3, 4, num_layers=2, key=jax.random.key(0))
    xs = 3 * jax.random.normal(jax.random.key(1), (20, 3))
    layers = trace_rnn(rnn, xs)
    sat = saturation(layers)
    assert set(sat) == {(layer, g) for layer in (0, 1) for g in gates}
    # layer 1 reads layer 0's h: the traced stack equals the stack itself
    ys, _ = rnn(xs[None])
    np.testing.assert_allclose(layers[1]["h"], ys[0], atol=1e-6)
    left, right = sat[(1, gates[0])]
    g = layers[1][gates[0]]
    assert left.tolist() == [float(np.mean(g[:, k] < 0.1)) for k in range(4)]
    assert right.tolist() == [float(np.mean(g[:, k] > 0.9)) for k in range(4)]


def test_model_grad_norms_match_autodiff_by_hand():
    model, vocab, _ = planted_model(other=0.3)
    ids = vocab.encode(TEXT[:12])
    norms = charlm_grad_norms(model, ids)  # (1, 11)
    cell = model.rnn.cells[0][0]
    xs = model.embedding[jnp.asarray(ids[:-1])]

    def loss_from(t, h):
        # run on, with h(t) replaced by `h`: the loss of the last prediction
        state = cell.init_state()
        for s in range(len(xs)):
            state, y = cell(state, xs[s])
            y = jnp.where(s == t, h, y)
            state = (y, state[1])
        logits = model.readout_weight @ y + model.readout_bias
        return -jax.nn.log_softmax(logits)[ids[-1]]

    grad = jax.jit(jax.grad(loss_from, argnums=1))
    h = trace_charlm(model, ids[:-1]).layers[0]["h"]  # (11, H): h(t) of the same run
    for t in (0, 5, 10):
        g = grad(t, h[t])
        np.testing.assert_allclose(norms[0, t], np.linalg.norm(g), rtol=1e-4, atol=1e-9)


def _stack_by_hand(cells, xs, replace=None):
    """A stack of LSTM cells stepped by hand: every layer reads the one below at the same
    step; ``replace = (l, t, h)`` puts ``h`` in place of layer l's h after step t.
    Returns the top layer's outputs (T, H)."""
    states = [c.init_state() for c in cells]
    top = []
    for s in range(xs.shape[0]):
        x = xs[s]
        for k, cell in enumerate(cells):
            states[k], x = cell(states[k], x)
            if replace is not None and (k, s) == replace[:2]:
                x = replace[2]
                states[k] = (x, states[k][1])
        top.append(x)
    return jnp.stack(top)


def test_stack_traces_and_gradients_through_time_equal_stepping_by_hand():
    rnn = rnnlab.RNN("lstm", 3, 4, num_layers=2, key=jax.random.key(0))
    cells = [c for (c,) in rnn.cells]
    xs = jax.random.normal(jax.random.key(1), (7, 3))
    w = jax.random.normal(jax.random.key(2), (7, 4))
    loss_fn = lambda ys: jnp.sum(ys * w)  # a loss at every step
    ys, internals = rnnlab.trace_layers(rnn, xs)
    np.testing.assert_allclose(ys, _stack_by_hand(cells, xs), atol=1e-6)
    np.testing.assert_allclose(internals[1]["h"], ys, atol=1e-6)
    h0, _ = rnnlab.unroll(cells[0], xs)
    _, _, inside = rnnlab.unroll(cells[1], h0, trace=True)
    for name in "ifgoc":
        np.testing.assert_allclose(internals[1][name], inside[name], atol=1e-6)

    # the total derivative, by replacing h_l(t) in the loop by hand
    norms = rnnlab.layer_grad_norms(rnn, xs, loss_fn)  # (2, 7)
    assert norms.shape == (2, 7)
    for layer, t in ((0, 1), (1, 4)):
        at = lambda v, lt=(layer, t): loss_fn(_stack_by_hand(cells, xs, (*lt, v)))
        g = jax.grad(at)(internals[layer]["h"][t])
        np.testing.assert_allclose(norms[layer, t], np.linalg.norm(g), rtol=1e-4)

    # truncated: the first layer as the one-cell function sees it, the layer above in the
    # loss; a loss at the last step reaches back to the start of its chunk only
    cut = rnnlab.layer_grad_norms(rnn, xs, loss_fn, truncate=3)
    above = lambda h: loss_fn(rnnlab.unroll(cells[1], h, truncate=3)[0])
    want = rnnlab.grad_norms_through_time(cells[0], xs, above, truncate=3)
    np.testing.assert_allclose(cut[0], want, rtol=1e-5)
    last = rnnlab.layer_grad_norms(rnn, xs, lambda ys: jnp.sum(ys[-1]), truncate=3)
    assert float(jnp.abs(last[:, :6]).max()) == 0.0 and float(last[:, 6].min()) > 0
    with pytest.raises(rnnlab.UserError, match="bidirectional"):
        rnnlab.trace_layers(rnnlab.RNN("gru", 3, 4, bidirectional=True, key=jax.random.key(0)), xs)


def test_quantise_and_safe_json():
    a = np.array([[0.0, -1.0], [1.0, 3.0], [0.5, 1.0]])
    q = quantise(a)
    codes = np.frombuffer(base64.b64decode(q["data"]), np.uint8).reshape(3, 2)
    lo, hi = np.array(q["lo"]), np.array(q["hi"])
    np.testing.assert_allclose(lo + codes * (hi - lo) / 255, a, atol=(hi - lo).max() / 510)
    s = safe_json({"t": "</script><!-- & </SCRIPT"})
    assert "<" not in s and ">" not in s and "&" not in s


def test_a_big_model_page_stays_under_10_mb():
    # 2 layers of 512 units, 2,000 characters: all six internals would take 12 MB before
    # base64, so the page keeps the states c and h
    T, H, V = 2000, 512, 80
    rng = np.random.default_rng(0)
    layers = [
        {k: rng.uniform(-1, 1, (T, H)).astype(np.float32) for k in ("c", "h", "i", "f", "g", "o")}
        for _ in range(2)
    ]
    probs = rng.dirichlet(np.ones(V), T).astype(np.float32)
    trace = Trace(layers, probs, rng.uniform(0, 5, T).astype(np.float32))
    text = "".join(rng.choice(list("ab \n"), T))
    data = page_data(text, [chr(65 + i) for i in range(V)], trace, detect(text), {})
    assert [sorted(layer["signals"]) for layer in data["layers"]] == [["c", "h"]] * 2
    assert len(render_page(data, title="big").encode()) < 10_000_000


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("inspect") / "run"
    make_run(d)
    return d


def test_cli_writes_page_and_figures(run_dir, capsys):
    text = run_dir.parent / "run-corpus.txt"
    code, out, err = run(capsys, "inspect", run_dir, "--chars", "300", "--text", text)
    assert code == 0, err
    page = run_dir / "inspect.html"
    assert f"page: {page}" in out
    assert (run_dir / "inspect_saturation.png").read_bytes()[:4] == b"\x89PNG"
    assert (run_dir / "inspect_gradients.png").read_bytes()[:4] == b"\x89PNG"
    line = next(x for x in out.splitlines() if x.strip().startswith("quote:"))
    assert f"c[{PLANTED}]" in line or f"h[{PLANTED}]" in line


def one_line_error(code, err, *words):
    assert code == 2 and err.count("\n") == 1 and err.startswith("rnnlab: error:"), err
    for w in words:
        assert w in err, err


def test_bad_input_is_one_line(run_dir, tmp_path, capsys):
    one_line_error(*run(capsys, "inspect", tmp_path / "nowhere")[::2], "does not exist")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"abc \xff\xfe")
    one_line_error(*run(capsys, "inspect", run_dir, "--text", bad)[::2], "UTF-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    one_line_error(*run(capsys, "inspect", run_dir, "--text", empty)[::2], "character")
    one_line_error(*run(capsys, "inspect", run_dir, "--text", tmp_path / "no.txt")[::2], "no.txt")
    one_line_error(*run(capsys, "inspect", run_dir, "--chars", "1")[::2], "--chars")
    one_line_error(
        *run(capsys, "inspect", run_dir, "--out", tmp_path / "no" / "p.html")[::2], "--out"
    )
    french = tmp_path / "fr.txt"
    french.write_text("\u00e9t\u00e9", encoding="utf-8")  # not in the model's vocabulary
    one_line_error(*run(capsys, "inspect", run_dir, "--text", french)[::2], "vocabulary")
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "config.json").write_text((run_dir / "config.json").read_text())
    (corrupt / "best.eqx").write_bytes(b"not a checkpoint")
    one_line_error(*run(capsys, "inspect", corrupt)[::2], "corrupt")
