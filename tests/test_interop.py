"""Parity with PyTorch: nn.RNN/LSTM/GRU converted by ``from_torch`` give the same outputs,
final states and gradients; weights round-trip exactly; non-twin cells refuse to convert."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import rnnlab

D, H, B, T = 3, 5, 3, 6
TORCH_KINDS = {
    "rnn_tanh": lambda **kw: torch.nn.RNN(nonlinearity="tanh", **kw),
    "rnn_relu": lambda **kw: torch.nn.RNN(nonlinearity="relu", **kw),
    "lstm": torch.nn.LSTM,
    "gru": torch.nn.GRU,
}


def torch_module(kind, seed=0, **kwargs):
    torch.manual_seed(seed)
    return TORCH_KINDS[kind](input_size=D, hidden_size=H, **kwargs)


def rnnlab_grad_of(grads, torch_name):
    """The gradient in an RNN-shaped pytree for torch's ``weight_hh_l1_reverse``."""
    parts = torch_name.split("_")
    layer = int(parts[2][1:])
    direction = 1 if parts[-1] == "reverse" else 0
    return getattr(grads.cells[layer][direction], "_".join(parts[:2]))


@eqx.filter_jit
def rnnlab_loss_and_grads(layer, xs, R, S, S_c, lengths):
    """sum(out * R) + sum(h_n * S) (+ sum(c_n * S_c) for an LSTM), and its gradients."""

    def loss(layer, xs):
        ys, finals = layer(xs, lengths=lengths)
        is_lstm = isinstance(finals[0], tuple)
        h_n = jnp.stack([f[0] if is_lstm else f for f in finals])  # (layers*dirs, B, H)
        value = jnp.sum(ys * R) + jnp.sum(h_n * S)
        c_n = jnp.stack([f[1] for f in finals]) if is_lstm else None
        if is_lstm:
            value = value + jnp.sum(c_n * S_c)
        return value, (ys, h_n, c_n)

    return jax.value_and_grad(loss, argnums=(0, 1), has_aux=True)(layer, xs)


def torch_loss_and_grads(module, xs, R, S, S_c, lengths=None):
    x = torch.tensor(xs, requires_grad=True)
    if lengths is None:
        out, hidden = module(x)
    else:
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            x, torch.tensor(lengths), batch_first=module.batch_first, enforce_sorted=False
        )
        out, hidden = module(packed)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(
            out, batch_first=module.batch_first, total_length=T
        )
    h_n, c_n = hidden if isinstance(hidden, tuple) else (hidden, None)
    loss = (out * torch.tensor(R)).sum() + (h_n * torch.tensor(S)).sum()
    if c_n is not None:
        loss = loss + (c_n * torch.tensor(S_c)).sum()
    module.zero_grad()
    loss.backward()
    as_np = lambda t: None if t is None else t.detach().numpy()
    grads = {n: p.grad.numpy().copy() for n, p in module.named_parameters()}
    return as_np(out), as_np(h_n), as_np(c_n), x.grad.numpy(), grads


def compare_with_torch(module, xs, lengths=None):
    """Every output, final state and gradient of ``from_torch(module)`` against torch;
    returns the worst norm-relative error."""
    rng = np.random.default_rng(1)
    dirs = 2 if module.bidirectional else 1
    out_shape = xs.shape[:2] + (dirs * H,)
    R = rng.standard_normal(out_shape).astype(np.float32)
    S, S_c = rng.standard_normal((2, module.num_layers * dirs, B, H)).astype(np.float32)

    expected = torch_loss_and_grads(module, xs, R, S, S_c, lengths)
    layer = rnnlab.from_torch(module)
    n = None if lengths is None else jnp.asarray(lengths)
    (_, (ys, h_n, c_n)), (g_layer, g_xs) = rnnlab_loss_and_grads(layer, xs, R, S, S_c, n)
    out_t, h_t, c_t, g_xs_t, g_params_t = expected
    pairs = [(ys, out_t), (h_n, h_t), (g_xs, g_xs_t)]
    pairs += [(rnnlab_grad_of(g_layer, name), g) for name, g in g_params_t.items()]
    if c_t is not None:
        pairs.append((c_n, c_t))
    worst = 0.0
    for got, want in pairs:
        got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
        assert got.shape == want.shape
        worst = max(worst, np.max(np.abs(got - want)) / np.max(np.abs(want)))
    return worst


@pytest.mark.parametrize("batch_first", [True, False], ids=["batch_first", "time_first"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2], ids=["1layer", "2layers"])
@pytest.mark.parametrize("kind", list(TORCH_KINDS))
def test_matches_torch(kind, num_layers, bidirectional, bias, batch_first, record_property):
    module = torch_module(
        kind, num_layers=num_layers, bidirectional=bidirectional, bias=bias, batch_first=batch_first
    )
    shape = (B, T, D) if batch_first else (T, B, D)
    xs = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    worst = compare_with_torch(module, xs)
    record_property("max_rel_err", float(worst))  # a plain float: xdist sends it between processes
    assert worst <= 1e-5


@pytest.mark.parametrize("batch_first", [True, False], ids=["batch_first", "time_first"])
def test_lengths_match_torch_packed_sequences(batch_first, record_property):
    module = torch_module("lstm", num_layers=2, bidirectional=True, batch_first=batch_first, seed=2)
    lengths = np.array([4, T, 1])  # unsorted, as enforce_sorted=False allows
    shape = (B, T, D) if batch_first else (T, B, D)
    xs = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    steps = np.arange(T)[:, None] if not batch_first else np.arange(T)[None, :]
    pad = (steps >= lengths[:, None]) if batch_first else (steps >= lengths[None, :])
    xs[pad] = 7.0  # garbage that torch never reads
    worst = compare_with_torch(module, xs, lengths)
    record_property("max_rel_err", float(worst))  # a plain float: xdist sends it between processes
    assert worst <= 1e-5


TORCH_CONFIG = ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout")


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("kind", list(TORCH_KINDS))
def test_torch_round_trip_is_exact(kind, bias):
    module = torch_module(kind, num_layers=2, bidirectional=True, bias=bias, dropout=0.25)
    back = rnnlab.to_torch(rnnlab.from_torch(module))
    assert type(back) is type(module)
    for name in TORCH_CONFIG + ("bidirectional",):
        assert getattr(back, name) == getattr(module, name), name
    assert getattr(back, "nonlinearity", None) == getattr(module, "nonlinearity", None)
    params, back_params = dict(module.named_parameters()), dict(back.named_parameters())
    assert params.keys() == back_params.keys()
    for name, p in params.items():
        assert torch.equal(back_params[name], p), name


@pytest.mark.parametrize(
    "cell, kwargs",
    [
        ("elman", {"nonlinearity": "tanh"}),
        ("elman", {"nonlinearity": "relu", "use_bias": False}),
        ("lstm", {}),
        ("lstm", {"use_bias": False}),
        ("gru", {}),
    ],
    ids=["elman_tanh", "elman_relu_no_bias", "lstm", "lstm_no_bias", "gru"],
)
def test_rnnlab_round_trip_is_exact(cell, kwargs):
    layer = rnnlab.RNN(
        cell,
        D,
        H,
        num_layers=2,
        bidirectional=True,
        batch_first=False,
        dropout=0.1,
        key=jax.random.key(4),
        **kwargs,
    )
    back = rnnlab.from_torch(rnnlab.to_torch(layer))
    # Same structure, same static settings (cell types, nonlinearity, dropout, batch_first) ...
    assert jax.tree_util.tree_structure(back) == jax.tree_util.tree_structure(layer)
    # ... and bit-identical weights.
    for a, b in zip(jax.tree_util.tree_leaves(back), jax.tree_util.tree_leaves(layer), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "cell, kwargs",
    [
        ("jordan", {}),
        ("lstm1997", {}),
        ("peephole", {}),
        ("cifg", {}),
        ("gru", {"reset_after": False}),
        ("mtrnn", {}),
        ("elman", {"nonlinearity": "sigmoid"}),
    ],
    ids=["jordan", "lstm1997", "peephole", "cifg", "gru_reset_before", "mtrnn", "elman_sigmoid"],
)
def test_cells_without_torch_twin_refuse_to_convert(cell, kwargs):
    layer = rnnlab.RNN(cell, D, 8, num_layers=2, key=jax.random.key(5), **kwargs)
    with pytest.raises(rnnlab.UserError):
        rnnlab.to_torch(layer)


def test_mixed_layers_refuse_to_convert():
    key = jax.random.key(6)
    mixed = [
        (rnnlab.LSTMCell(D, H, key=key), rnnlab.GRUCell(H, H, key=key)),
        (rnnlab.GRUCell(D, H, key=key), rnnlab.GRUCell(H, H, reset_after=False, key=key)),
        (rnnlab.ElmanCell(D, H, key=key), rnnlab.ElmanCell(H, H, nonlinearity="relu", key=key)),
        (rnnlab.ElmanCell(D, H, key=key), rnnlab.ElmanCell(H, H, use_bias=False, key=key)),
    ]
    for first, second in mixed:
        layer = rnnlab.RNN(None, D, H, cells=((first,), (second,)))
        with pytest.raises(rnnlab.UserError):
            rnnlab.to_torch(layer)


def test_from_torch_refuses_other_modules():
    with pytest.raises(rnnlab.UserError):
        rnnlab.from_torch(torch.nn.Linear(D, H))
    with pytest.raises(rnnlab.UserError):
        rnnlab.from_torch(torch.nn.LSTM(D, H, proj_size=2))
