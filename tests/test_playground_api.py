"""The playground's server through the ASGI test client: every guard and limit of issue 11,
the Text page's runs, and the computed endpoints against the library's own answers."""

import os

import jax
import numpy as np
import pytest
from _cli import run
from _playground import fake_run
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

import rnnlab
from rnnlab.charlm.sample import sample
from rnnlab.neuron import optimal_gd, optimal_momentum
from rnnlab.playground import compute, make_app, neuron_train, specs
from rnnlab.playground.series import make_set
from rnnlab.spikes import LIF, fi_curve_theory, optimal_bin_size, time_histogram
from rnnlab.tasks import load_run
from rnnlab.tasks.charlm import vocab_of
from rnnlab.tasks.recall import recall_data

PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    fake_run(root / "tiny")
    fake_run(root / "with-page")
    (root / "with-page" / "inspect.html").write_text("<html><body>inside</body></html>")
    outside = tmp_path_factory.mktemp("outside")
    fake_run(outside / "secret")
    (outside / "secret" / "inspect.html").write_text("secret")
    os.symlink(outside / "secret", root / "escape")  # a run that points out of the folder
    (root / "tiny-link").mkdir()
    os.symlink(outside / "secret" / "inspect.html", root / "tiny-link" / "inspect.html")
    return root


@pytest.fixture(scope="module")
def client(runs_dir):
    with TestClient(make_app(runs_dir=runs_dir, port=PORT), base_url=BASE) as c:
        yield c


def test_page_is_served_with_a_policy_that_forbids_other_sites(client):
    r = client.get("/")
    assert r.status_code == 200 and "rnnlab playground" in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    for src in ("app.js", "plot.js", "style.css"):
        assert client.get(f"/static/{src}").status_code == 200, src
    meta = client.get("/api/meta").json()
    assert meta["cells"] == [*rnnlab.CELLS, "lif", "alif"] and len(meta["cells"]) == 10
    assert meta["limits"]["hidden"] == 256 and meta["limits"]["trainings"] == 2


@pytest.mark.parametrize(
    "host, ok",
    [
        (f"127.0.0.1:{PORT}", True),
        (f"localhost:{PORT}", True),
        (f"[::1]:{PORT}", True),
        (f"evil.example:{PORT}", False),  # DNS rebinding: another name for 127.0.0.1
        ("127.0.0.1:9999", False),
        ("localhost", False),
    ],
)
def test_host_header_must_name_this_server(client, host, ok):
    r = client.get("/api/meta", headers={"host": host})
    assert (r.status_code == 200) == ok, r.text
    if not ok:
        assert r.status_code == 403


@pytest.mark.parametrize(
    "origin, status",
    [
        ("http://evil.example", 403),
        (f"http://evil.example:{PORT}", 403),
        ("null", 403),
        (f"http://localhost:{PORT}", 422),  # allowed, then refused for its content
        (None, 422),  # not a browser: no Origin
    ],
)
def test_state_changing_requests_from_other_sites_are_refused(client, origin, status):
    headers = {} if origin is None else {"origin": origin}
    r = client.post("/api/jobs", json={"kind": "recurrent", "hidden": 10_000}, headers=headers)
    assert r.status_code == status, r.text
    # reading is not state-changing: a page's own GETs carry no Origin check
    assert client.get("/api/meta", headers=headers).status_code == 200


def test_websocket_upgrades_from_other_sites_are_refused(client):
    # no page uses a WebSocket; the guard refuses a foreign one before any route (1008),
    # while a local one reaches the router, which has no such route (1000)
    for origin, code in (("http://evil.example", 1008), (f"http://localhost:{PORT}", 1000)):
        with pytest.raises(WebSocketDisconnect) as closed:
            headers = {"host": f"127.0.0.1:{PORT}", "origin": origin}
            with client.websocket_connect("/api/ws", headers=headers):
                pass
        assert closed.value.code == code


def test_bodies_over_one_megabyte_are_refused(client):
    big = b"x" * ((1 << 20) + 1)
    r = client.post("/api/jobs", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    # without a Content-Length (chunked), counted as it arrives
    r = client.post("/api/jobs", content=iter([big[:600_000], big[600_000:]]))
    assert r.status_code == 413
    ok = b'{"kind": "recurrent", "hidden": 0}' + b" " * 1000
    assert client.post("/api/jobs", content=ok).status_code == 422


@pytest.mark.parametrize(
    "body, field",
    [
        ({"hidden": 257}, "hidden"),
        ({"layers": 4}, "layers"),
        ({"T": 501}, "T"),
        ({"steps": 20_001}, "steps"),
        ({"cell": "transformer"}, "cell"),
        ({"task": "../../etc/passwd"}, "task"),
        ({"lr": "__import__('os')"}, "lr"),  # parsed as a number, never evaluated
        ({"task": "echo", "T": 10, "lag": 10}, "lag"),
        ({"task": "recall", "lag": 499}, "lag"),
        ({"task": "csv", "csv": "a\n" + "1\n" * 10_001}, "10001 rows"),
        ({"task": "csv", "csv": "1,2\n3,x\n"}, "row 2"),
        ({"task": "csv", "csv": ",".join(["1"] * 33) + "\n"}, "33 columns"),
        ({"kind": "mlp", "layers": [8, 8, 8, 8]}, "layers"),
        ({"kind": "mlp", "layers": [300]}, "units"),
        ({"kind": "mlp", "dataset": "csv", "csv": "1,2,0\n3,4,0\n"}, "two classes"),
    ],
)
def test_models_and_data_beyond_the_limits_are_refused(client, body, field):
    r = client.post("/api/jobs", json={"kind": "recurrent", **body})
    assert r.status_code == 422, r.text
    assert field in r.json()["error"]
    assert client.app.jobs.jobs == {}  # nothing was started


def test_generated_tasks_put_their_targets_where_the_loss_looks():
    echo = make_set("echo", 12, 0, lag=4)
    ids = echo.x.argmax(-1)  # (N, T) the symbols seen
    np.testing.assert_array_equal(echo.y[:, 4:], ids[:, :-4])  # the symbol 4 steps back
    assert (echo.mask[:, :4] == 0).all() and (echo.mask[:, 4:] == 1).all()
    # recall is rnnlab's task: its sequences, its one answer (the cue) at the query
    recall = make_set("recall", 99, 3, lag=5)  # T is the task's own: lag + 2
    rows = recall_data(len(recall.x), 5, np.random.default_rng(3))
    np.testing.assert_array_equal(recall.x, rows.x)
    assert recall.x.shape[1] == 7 and recall.classes == 8
    assert (recall.mask[:, :-1] == 0).all() and (recall.mask[:, -1] == 1).all()
    np.testing.assert_array_equal(recall.y[:, -1], recall.x[:, 0, :8].argmax(-1))  # the cue
    adding = make_set("adding", 20, 0)
    last = adding.mask.argmax(1)  # one counted step per row: the last valid one
    assert (adding.mask.sum(1) == 1).all()
    marked = adding.x[:, :, 1] == 1  # the two marked values
    want = 0.5 + (adding.x[:, :, 0] * marked).sum(1) / 4  # Hochreiter & Schmidhuber's target
    np.testing.assert_allclose(adding.y[np.arange(len(last)), last, 0], want, rtol=1e-6)
    sine = make_set("sine", 10, 0)
    np.testing.assert_array_equal(sine.y[:, :-1], sine.x[:, 1:])  # the next value
    xor = make_set("xor", 10, 0)  # rounded down to whole triples
    assert xor.x.shape[1] == 9 and xor.classes == 2
    bits = xor.x[:, :, 0].astype(int)
    np.testing.assert_array_equal(bits[:, 2::3], bits[:, 0::3] ^ bits[:, 1::3])


def test_your_own_csv_becomes_the_training_data():
    text = "t,a,b\n" + "".join(f"{i},{i * i},{(-1) ** i}\n" for i in range(40))
    spec = specs.recurrent({"task": "csv", "csv": text, "T": 10})
    data = make_set("csv", 10, 0, table=np.asarray(spec["table"]))
    table = np.array([[i, i * i, (-1) ** i] for i in range(40)], float)
    z = (table - table.mean(0)) / table.std(0)
    assert data.classes == 0 and data.x.shape[1:] == (10, 3)
    start = int(np.argmin(np.abs(z[:, 0] - data.x[3, 0, 0])))  # window 3's first row
    np.testing.assert_allclose(data.x[3], z[start : start + 10], atol=1e-6)
    np.testing.assert_allclose(data.y[3], z[start + 1 : start + 11], atol=1e-6)
    points = "x1,x2,label\n0.1,0.2,0\n-0.3,0.4,1\n0.5,-0.6,2\n"
    X, y = neuron_train.points(specs.mlp({"dataset": "csv", "csv": points}))
    np.testing.assert_allclose(X, [[0.1, 0.2], [-0.3, 0.4], [0.5, -0.6]], atol=1e-7)
    assert y.tolist() == [0, 1, 2]


def test_runs_are_listed_by_name_with_their_inspect_page(client):
    listed = {r["name"]: r for r in client.get("/api/runs").json()["runs"]}
    assert set(listed) == {"tiny", "with-page"}  # not the symlink out, not the empty one
    assert listed["with-page"]["inspect"] and not listed["tiny"]["inspect"]
    assert listed["tiny"]["cell"] == "gru" and listed["tiny"]["hidden"] == 8
    r = client.get("/runs/with-page/inspect.html")
    assert r.status_code == 200 and "inside" in r.text
    assert "default-src 'none'" in r.headers["content-security-policy"]


@pytest.mark.parametrize(
    "name, status",
    [
        ("../tiny", 422),
        ("..", 422),
        ("/etc", 422),
        ("tiny/..", 422),
        ("escape", 422),  # a symlink to a folder outside --runs
        ("missing", 404),
        (7, 422),
    ],
)
def test_run_names_cannot_leave_the_runs_folder(client, name, status):
    r = client.post("/api/text/sample", json={"run": name})
    assert r.status_code == status, r.text


@pytest.mark.parametrize("path", ["escape", "tiny-link", "tiny", "%2e%2e", "..%2Fescape"])
def test_inspect_pages_outside_the_runs_folder_are_not_served(client, path):
    r = client.get(f"/runs/{path}/inspect.html")
    assert r.status_code in (404, 422) and "secret" not in r.text


def test_sampling_through_the_page_equals_the_library(client, runs_dir):
    body = {"run": "tiny", "temperature": 0.7, "prime": "he", "length": 40, "seed": 3}
    r = client.post("/api/text/sample", json=body)
    assert r.status_code == 200, r.text
    tiny = load_run(runs_dir / "tiny")
    model, vocab = tiny.model, vocab_of(tiny)
    want = sample(model, vocab, length=40, key=jax.random.key(3), temperature=0.7, prime="he")
    assert r.json()["text"] == "".join(want)
    r = client.post("/api/text/sample", json={**body, "prime": "xyz"})
    assert r.status_code == 422 and "x" in r.json()["error"]


def test_momentum_paths_follow_the_heavy_ball_and_reach_the_optimal_rate(client):
    p = optimal_momentum(1.0, 50.0)
    body = {"kappa": 50, "alpha": p.alpha, "beta": p.beta, "steps": 200, "w1": -1, "w2": 1}
    out = client.post("/api/neuron/momentum", json=body).json()
    w, z = np.array([-1.0, 1.0]), np.zeros(2)
    A = np.diag([1.0, 50.0])
    for k in range(1, 50):  # Goh's iteration by hand
        z = p.beta * z + A @ w
        w = w - p.alpha * z
        np.testing.assert_allclose(out["momentum"][k], w, rtol=1e-4, atol=1e-6)
    assert out["momentum_rate"] == pytest.approx(p.rate, rel=0.05)
    assert out["optimal_momentum"]["beta"] == pytest.approx(p.beta)
    # momentum's step is too long for plain descent: |1 - alpha lambda_max| > 1 diverges
    assert out["gd_rate"] is None and len(out["gd"]) < 202
    g = optimal_gd(1.0, 50.0)
    out = client.post("/api/neuron/momentum", json={**body, "alpha": g.alpha}).json()
    assert out["gd_rate"] == pytest.approx(g.rate, rel=0.01) and g.rate > p.rate


def test_oja_finds_the_first_principal_component_and_hebb_grows(client):
    body = {"eta": 0.005, "steps": 30, "angle": 40, "ratio": 0.3, "n": 300}
    oja = client.post("/api/neuron/hebb", json={**body, "rule": "oja"}).json()
    w, pc = np.array(oja["weights"][-1]), np.array(oja["pc"])
    assert abs(w @ pc) / np.linalg.norm(w) > 0.99
    assert np.linalg.norm(w) == pytest.approx(1.0, abs=0.05)
    angle = np.degrees(np.arctan2(pc[1], pc[0])) % 180
    assert angle == pytest.approx(40, abs=5)  # the cloud's long axis
    hebb = client.post("/api/neuron/hebb", json={**body, "rule": "hebb"}).json()
    assert np.linalg.norm(hebb["weights"][-1]) > 10 * np.linalg.norm(hebb["weights"][0])


def test_fi_curve_equals_the_closed_form(client):
    out = client.post("/api/spikes/lif", json={"tau_ms": 20, "theta_mV": 15, "t_ref_ms": 3}).json()
    neuron = LIF(tau=0.02, theta=0.015, t_ref=0.003)
    theory = fi_curve_theory(neuron, out["currents"])
    np.testing.assert_allclose(out["fi_theory"], theory, rtol=1e-12)
    sim, th = np.array(out["fi_simulated"]), np.array(theory)
    firing = th > 5
    assert firing.sum() > 10
    np.testing.assert_allclose(sim[firing], th[firing], rtol=0.02)
    assert (sim[th == 0] == 0).all()
    # the trace: a constant 2 nA (R I = 20 mV > 15 mV) fires at the closed-form rate
    isi = np.diff(out["spikes"])
    assert 1 / isi.mean() == pytest.approx(fi_curve_theory(neuron, 2e-9)[0], rel=0.02)


def test_rate_estimates_equal_the_library_with_its_optima(client):
    body = {"profile": "sine", "rate": 30, "n_trains": 10, "duration": 3, "seed": 4}
    out = client.post("/api/spikes/rates", json={**body, "bin_ms": 100}).json()
    trains, best_bin, best_bw = compute._trains("sine", 30.0, 10, 3.0, 4)
    assert [len(t) for t in out["trains"]] == [len(t) for t in trains]
    _, psth = time_histogram(trains, 0.1, 0.0, 3.0, output="rate")
    np.testing.assert_allclose(out["psth"], psth)
    assert out["optimal_bin"] == optimal_bin_size(trains, 0.0, 3.0) == best_bin
    assert out["optimal_bandwidth"] == best_bw > 0
    # the kernel estimate integrates to the mean number of spikes per train
    area = np.sum(out["kernel"]) * (out["kernel_t"][1] - out["kernel_t"][0])
    assert area == pytest.approx(np.mean([len(t) for t in trains]), rel=0.05)


def test_cli_refuses_a_bad_port_and_runs_folder_in_one_line(capsys, tmp_path):
    code, _, err = run(capsys, "playground", "--no-browser", "--port", "70000")
    assert code == 2 and "--port" in err and len(err.strip().splitlines()) == 1
    (tmp_path / "file").write_text("")
    code, _, err = run(capsys, "playground", "--no-browser", "--runs", tmp_path / "file")
    assert code == 2 and "--runs" in err
