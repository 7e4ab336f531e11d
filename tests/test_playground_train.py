"""Trainings of the playground in worker processes: they learn, the look inside them equals
the library's own, and they stop on request, at the time box, and never three at once."""

import json

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _playground import wait
from starlette.testclient import TestClient

import rnnlab
from rnnlab.neuron import MLP
from rnnlab.playground import make_app, neuron_train, recurrent, specs
from rnnlab.playground.series import make_set

PORT = 8766
BASE = f"http://127.0.0.1:{PORT}"
RNN = {
    "kind": "recurrent",
    "task": "sine",
    "cell": "lstm",
    "hidden": 6,
    "layers": 2,
    "T": 16,
    "truncate": 4,
    "steps": 80,
    "lr": 0.03,
    "batch": 8,
    "seed": 1,
}
MLP_SPEC = {"kind": "mlp", "dataset": "circles", "layers": [8], "steps": 150, "lr": 0.1}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    app = make_app(runs_dir=tmp_path_factory.mktemp("runs"), port=PORT)
    with TestClient(app, base_url=BASE) as c:
        yield c


@pytest.fixture(scope="module")
def trained(client):
    """A recurrent and an MLP training, started together (two at once is allowed)."""
    ids = {}
    for name, body in (("rnn", RNN), ("mlp", MLP_SPEC)):
        r = client.post("/api/jobs", json=body)
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    return {name: wait(client.app.jobs.get(i)) for name, i in ids.items()}


def _falls(losses, factor):
    values = [loss for _, loss in losses]
    assert len(values) >= 10
    assert np.mean(values[-3:]) < factor * np.mean(values[:3]), values


def test_recurrent_training_learns_and_reports_every_step(client, trained):
    job = trained["rnn"]
    assert job.status == "done", job.error
    state = client.get(f"/api/jobs/{job.id}").json()
    assert state["step"] == RNN["steps"] and [s for s, _ in state["losses"]][-1] == RNN["steps"]
    _falls(state["losses"], 0.5)
    assert client.get(f"/api/jobs/{job.id}?since=5").json()["losses"] == state["losses"][5:]


def test_heatmaps_and_gradients_equal_the_library_for_the_trained_parameters(client, trained):
    job = trained["rnn"]
    snap = client.get(f"/api/jobs/{job.id}/snapshot").json()
    assert snap["step"] == RNN["steps"]  # the last look is at the end of training
    spec = specs.recurrent(RNN)
    data = make_set("sine", 16, 1)
    like = recurrent.build(spec, data).model
    model = eqx.tree_deserialise_leaves(job.model_path, like)  # what the worker trained
    xs, y = jnp.asarray(data.x[0]), jnp.asarray(data.y[0])  # (T, 1) each
    traces, out, want = _library_view(model, xs, y)
    for layer, internals in enumerate(traces):
        assert set(snap["layers"][layer]) == {"c", "f", "g", "h", "i", "o"}
        for name, values in internals.items():
            np.testing.assert_allclose(snap["layers"][layer][name], values, atol=2e-6)
    np.testing.assert_allclose(snap["prediction"], out[:, 0], atol=2e-6)
    np.testing.assert_allclose(snap["target"], data.y[0, :, 0], atol=1e-6)
    for layer, norms in enumerate(want):
        np.testing.assert_allclose(snap["grad_norms"][layer], norms, rtol=1e-4, atol=1e-6)
    assert min(min(g) for g in snap["grad_norms"]) > 0  # a loss at every step reaches every step


@eqx.filter_jit
def _library_view(model, xs, y):
    """Traces of both layers, outputs and |dL/dh_l(t)| of each layer, by the library's
    one-cell functions (unroll and grad_norms_through_time), layer by layer."""
    readout = lambda hs: jax.vmap(model.readout)(hs)
    traces, inp = [], xs
    for (cell,) in model.rnn.cells:
        inp, _, internals = rnnlab.unroll(cell, inp, trace=True)
        traces.append(internals)
    first, second = (cell for (cell,) in model.rnn.cells)
    top = lambda ys: jnp.sum((readout(ys) - y) ** 2)  # the probe's squared error

    def loss(ys):  # ... through layer 2 and the readout
        return top(rnnlab.unroll(second, ys, truncate=4)[0])

    want = [
        rnnlab.grad_norms_through_time(first, xs, loss, truncate=4),
        rnnlab.grad_norms_through_time(second, traces[0]["h"], top, truncate=4),
    ]
    return traces, readout(inp), want


def test_mlp_training_learns_and_draws_its_decision_boundary(client, trained):
    job = trained["mlp"]
    assert job.status == "done", job.error
    state = client.get(f"/api/jobs/{job.id}").json()
    _falls(state["losses"], 0.7)
    snap = client.get(f"/api/jobs/{job.id}/snapshot").json()
    data = client.get(f"/api/jobs/{job.id}/data").json()
    X, y = neuron_train.points(specs.mlp(MLP_SPEC))
    np.testing.assert_allclose(data["points"], X, atol=1e-4)
    model = eqx.tree_deserialise_leaves(job.model_path, MLP((2, 8, 1), key=jax.random.key(0)))
    z = np.asarray([model(jnp.asarray(x))[0] for x in X])
    assert snap["accuracy"] == pytest.approx(np.mean((z > 0) == y))
    assert snap["accuracy"] > 0.7
    grid = np.array(snap["grid"])
    assert grid.shape == (neuron_train.GRID, neuron_train.GRID)
    x0, x1, y0, y1 = snap["extent"]
    corner = 1 / (1 + np.exp(-float(model(jnp.array([x0, y0]))[0])))
    assert grid[0, 0] == pytest.approx(corner, abs=1e-4)
    assert grid.min() < 0.5 < grid.max()  # the boundary crosses the picture
    assert snap["sizes"] == [2, 8, 1]  # the network's diagram: the trained weights
    for drawn, layer in zip(snap["weights"], model.layers, strict=True):
        np.testing.assert_allclose(drawn, np.asarray(layer.weight), atol=1e-4)


DIVERGING = {
    # a student's lesson: raise the learning rate until the loss blows up (issue 19)
    "rnn": {**RNN, "cell": "elman", "layers": 1, "truncate": 0, "optimizer": "sgd", "lr": 10.0,
            "steps": 300},
    "mlp": {**MLP_SPEC, "dataset": "xor", "layers": [64, 64, 64], "activation": "relu",
            "optimizer": "momentum", "lr": 10.0, "steps": 300},
}  # fmt: skip


@pytest.fixture(scope="module")
def diverged(client, trained):
    """Both pages' diverging trainings, started together."""
    ids = {}
    for kind, body in DIVERGING.items():
        r = client.post("/api/jobs", json=body)
        assert r.status_code == 201, r.text
        ids[kind] = r.json()["id"]
    return {kind: wait(client.app.jobs.get(i)) for kind, i in ids.items()}


@pytest.mark.parametrize("kind", ["rnn", "mlp"])
def test_a_diverging_training_ends_as_diverged_with_its_curve_and_a_hint(client, diverged, kind):
    job = diverged[kind]
    state = client.get(f"/api/jobs/{job.id}").json()
    assert state["status"] == "diverged" and state["error"] is None, state
    step = int(state["message"].split()[3].rstrip(":"))
    assert state["message"].startswith(f"diverged at step {step}: the loss became ")
    assert "learning rate" in state["message"] and 1 <= step < DIVERGING[kind]["steps"]
    # the curve up to there: finite losses at logged steps before the divergence
    assert all(s < step and loss is not None and np.isfinite(loss) for s, loss in job.losses)
    if job.snapshot is not None:  # the last look is of a model whose weights were finite
        snap = json.loads(job.snapshot)
        assert snap["step"] < step and "NaN" not in job.snapshot.decode()


def test_events_stream_the_training_until_it_ends(client, trained):
    job = trained["rnn"]
    with client.stream("GET", f"/api/jobs/{job.id}/events") as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: ")]
    assert events[-1]["status"] == "done"
    assert sum(len(e["losses"]) for e in events) == len(job.losses)


def test_a_third_training_is_refused_a_stop_is_at_once_and_the_time_box_holds(tmp_path):
    # its own server, with a time box of 6 s instead of 10 minutes
    app = make_app(runs_dir=tmp_path, port=PORT, time_box=6.0)
    with TestClient(app, base_url=BASE) as client:
        _refuse_stop_expire(client)


def _refuse_stop_expire(client):
    long = {**RNN, "steps": 20_000, "layers": 1}
    first = client.post("/api/jobs", json=long).json()
    second = client.post("/api/jobs", json=long).json()
    r = client.post("/api/jobs", json=long)
    assert r.status_code == 429 and "2 trainings" in r.json()["error"]
    stopped = client.post(f"/api/jobs/{first['id']}/stop").json()
    assert stopped["status"] == "stopped"
    assert client.app.jobs.get(first["id"]).proc.poll() is not None  # the process is gone
    job = wait(client.app.jobs.get(second["id"]), timeout=60)
    assert job.status == "timeout" and job.proc.poll() is not None
    assert 6.0 <= job.ended - job.started < 20
    assert client.post(f"/api/jobs/{first['id']}/stop").json()["status"] == "stopped"
    assert client.get("/api/jobs/nope").status_code == 404


def test_validation_losses_and_initial_weights_equal_the_library(client, trained):
    """The curve's validation loss is the mean loss on the generator's sequences (points)
    at seed + 1, computed here by hand for the trained model (the last evaluation is at
    the last step); the initial weights' first values are those the library draws."""
    job = trained["rnn"]
    spec = specs.recurrent(RNN)
    like = recurrent.build(spec, make_set("sine", 16, 1)).model
    first = jax.tree_util.tree_leaves(eqx.filter(like, eqx.is_array))[0]
    np.testing.assert_allclose(job.init["first"], np.ravel(first)[:4], atol=1e-6)
    assert job.init["seed"] == 1 and job.init["params"] == sum(
        a.size for a in jax.tree_util.tree_leaves(eqx.filter(like, eqx.is_array))
    )
    steps = [s for s, _ in job.val_losses]
    assert steps == list(range(1, RNN["steps"] + 1))  # one a step: 80 steps, 100 evaluations
    model = eqx.tree_deserialise_leaves(job.model_path, like)
    held = make_set("sine", 16, 2)
    out = np.asarray(model(jnp.asarray(held.x[:64])))  # (64, T, 1)
    mask = held.mask[:64]
    want = (((out - held.y[:64]) ** 2).sum(-1) * mask).sum() / mask.sum()
    assert job.val_losses[-1][1] == pytest.approx(want, rel=1e-4)
    mlp = trained["mlp"]
    X, y = neuron_train.points({**specs.mlp(MLP_SPEC), "seed": 1})
    net = eqx.tree_deserialise_leaves(mlp.model_path, MLP((2, 8, 1), key=jax.random.key(0)))
    z = np.asarray([net(jnp.asarray(x))[0] for x in X], np.float64)
    bce = np.mean(np.logaddexp(0, z) - y * z)  # sigmoid cross-entropy, by hand
    assert mlp.val_losses[-1][1] == pytest.approx(bce, rel=1e-4)
    assert client.get(f"/api/jobs/{job.id}").json()["val_losses"] == job.val_losses


def test_a_pooled_heatmaps_exact_values_are_served_on_demand(client, trained):
    """Hidden 34 over 130 steps is pooled (blocks of 2 steps x 2 units); /cell answers the
    exact value of any step and unit, as the library traces the trained model."""
    body = {**RNN, "cell": "elman", "hidden": 34, "layers": 1, "T": 130, "steps": 2}
    job = wait(client.app.jobs.get(client.post("/api/jobs", json=body).json()["id"]))
    snap = client.get(f"/api/jobs/{job.id}/snapshot").json()
    assert snap["pooled"] == {"steps": 2, "units": 2, "T": 130, "H": 34}
    like = recurrent.build(specs.recurrent(body), make_set("sine", 130, 1)).model
    model = eqx.tree_deserialise_leaves(job.model_path, like)
    _, traces = rnnlab.trace_layers(model.rnn, jnp.asarray(make_set("sine", 130, 1).x[0]))
    h = np.asarray(traces[0]["h"])  # (130, 34)
    for step, unit in ((1, 1), (77, 34), (130, 2)):
        q = f"layer=0&name=h&step={step}&unit={unit}"
        value = client.get(f"/api/jobs/{job.id}/cell?{q}").json()["value"]
        assert value == pytest.approx(h[step - 1, unit - 1], abs=1e-6)
    cell = f"/api/jobs/{job.id}/cell?layer=0"
    assert client.get(f"{cell}&name=h&step=131&unit=1").status_code == 404
    assert client.get(f"{cell}&name=q&step=1&unit=1").status_code == 404
    assert client.get(f"{cell}&name=hh&step=1&unit=1").status_code == 422
    assert client.get(f"{cell}&name=h&step=-1&unit=1").status_code == 422
    small = trained["rnn"]  # 16 steps, 6 units: nothing pooled, nothing to fetch
    assert client.get(f"/api/jobs/{small.id}/cell?layer=0&name=h&step=1&unit=1").status_code == 404
