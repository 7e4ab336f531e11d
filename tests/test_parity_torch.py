"""Learning parity with plain PyTorch (issue 7): the char model and its torch twin
(``nn.Embedding -> nn.RNN/LSTM/GRU -> nn.Linear``), started from the same weights
(through ``rnnlab.to_torch``) and fed the same batches with the state carried across
them, follow the same loss curve under clipped Adam; and the char model draws its
initial weights from the distributions torch uses."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch

import rnnlab
from rnnlab.charlm import CharLM, ModelConfig
from rnnlab.data import StreamBatches

V, E, H, B, T = 20, 8, 16, 4, 12
STEPS, LR, CLIP = 50, 1e-2, 0.3  # clipping acts on about half the steps
EPOCH = 30  # steps per epoch: the carried state is reset once, at step 30


class TorchTwin(torch.nn.Module):
    """The plain PyTorch char model with CharLM's weights."""

    def __init__(self, model: CharLM):
        super().__init__()
        self.emb = torch.nn.Embedding(V, E)
        self.rnn = rnnlab.to_torch(model.rnn)  # batch_first, as the CharLM layer
        self.out = torch.nn.Linear(H, V)
        with torch.no_grad():
            self.emb.weight.copy_(torch.from_numpy(np.array(model.embedding)))
            self.out.weight.copy_(torch.from_numpy(np.array(model.readout_weight)))
            self.out.bias.copy_(torch.from_numpy(np.array(model.readout_bias)))

    def forward(self, x, state=None):
        hs, state = self.rnn(self.emb(x), state)  # (B, T, H)
        return self.out(hs), state  # (B, T, V)


def markov_text(seed=0, n=B * (EPOCH * T + 1)):
    """Ids from a peaked random Markov chain: learnable, so the curves fall."""
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(V, 0.2), size=V)  # (V, V) next-char distributions
    ids = [0]
    for _ in range(n - 1):
        ids.append(rng.choice(V, p=probs[ids[-1]]))
    return np.array(ids)


def rnnlab_curve(model, batches):
    optimizer = optax.chain(optax.clip_by_global_norm(CLIP), optax.adam(LR))
    opt_state = optimizer.init(eqx.filter(model, eqx.is_array))

    @eqx.filter_jit
    def step(model, opt_state, states, x, y):
        def loss_fn(model):
            logits, states_out = model(x, states)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(), states_out

        (loss, states), grads = eqx.filter_value_and_grad(loss_fn, has_aux=True)(model)
        updates, opt_state = optimizer.update(grads, opt_state, eqx.filter(model, eqx.is_array))
        return eqx.apply_updates(model, updates), opt_state, states, loss

    losses, states = [], None
    for k in range(STEPS):
        if batches.is_epoch_start(k):
            states = model.init_state(B)
        x, y = batches.get(k)
        model, opt_state, states, loss = step(model, opt_state, states, x, y)
        losses.append(float(loss))
    return np.array(losses), model


def torch_curve(twin, batches):
    opt = torch.optim.Adam(twin.parameters(), lr=LR)  # eps 1e-8 added to sqrt(v_hat), as optax
    losses, state = [], None
    for k in range(STEPS):
        if batches.is_epoch_start(k):
            state = None
        x, y = (torch.from_numpy(a.astype(np.int64)) for a in batches.get(k))
        logits, state = twin(x, state)
        # truncated BPTT: the state flows on, its gradient stops at the batch boundary
        state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(twin.parameters(), CLIP)
        opt.step()
        losses.append(loss.item())
    return np.array(losses)


def twins(cell, dtype):
    with jax.enable_x64(False):  # float32 weights, the same on both sides before any cast
        model = CharLM(V, ModelConfig(cell=cell, hidden=H, embed=E), key=jax.random.key(3))
    twin = TorchTwin(model)
    model = jax.tree_util.tree_map(
        lambda a: a.astype(dtype) if eqx.is_inexact_array(a) else a, model
    )
    return model, (twin.double() if dtype == jnp.float64 else twin)


@pytest.mark.parametrize("cell", ["lstm", "gru", "elman"])
def test_same_loss_curve_as_torch_float64(cell, x64):
    """In float64 the curves agree to rounding; the small gap left is torch's clipping
    coefficient, max_norm / (norm + 1e-6), against optax's max_norm / norm."""
    batches = StreamBatches(markov_text(), B, T)
    assert len(batches) == EPOCH
    model, twin = twins(cell, jnp.float64)
    ours, _ = rnnlab_curve(model, batches)
    theirs = torch_curve(twin, batches)
    assert ours[-5:].mean() < ours[:5].mean() - 0.3, "the model should learn the chain"
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)


def test_same_loss_curve_as_torch_float32():
    """The default precision: rounding differs between the libraries, yet 50 steps
    of Adam leave the curves within float32 tolerance."""
    batches = StreamBatches(markov_text(), B, T)
    model, twin = twins("lstm", jnp.float32)
    ours, _ = rnnlab_curve(model, batches)
    theirs = torch_curve(twin, batches)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=5e-5)


def test_initialisation_follows_torch():
    """Embedding N(0, 1) as nn.Embedding; readout weight and bias U(-1/sqrt(H), 1/sqrt(H))
    as nn.Linear; recurrent weights and biases U(-1/sqrt(H), 1/sqrt(H)) as nn.LSTM."""
    vocab, hidden = 300, 256
    model = CharLM(vocab, ModelConfig(hidden=hidden, embed=64), key=jax.random.key(0))
    emb = np.array(model.embedding)
    assert abs(emb.mean()) < 0.02 and 0.97 < emb.std() < 1.03
    bound = 1 / np.sqrt(hidden)
    cell = model.rnn.cells[0][0]
    for name, w in [
        ("readout_weight", model.readout_weight),
        ("readout_bias", model.readout_bias),
        ("weight_ih", cell.weight_ih),
        ("weight_hh", cell.weight_hh),
        ("bias_ih", cell.bias_ih),
    ]:
        w = np.array(w)
        assert np.abs(w).max() <= bound, name
        # U(-a, a) has standard deviation a / sqrt(3); a few hundred draws at least
        assert abs(w.std() - bound / np.sqrt(3)) < 0.1 * bound, name
