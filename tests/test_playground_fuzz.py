"""Hostile requests to the playground (issue 19 item 2): every invalid request is a 4xx
with one line, never a 500, and the server keeps answering.

The eight requests the issue found answering 500 are replayed one by one; then a seeded
fuzzer sends random JSON bodies, numbers, strings, CSV text and raw bytes to every
endpoint for a bounded time (no trainings start: the server is made with no training
slot, so a body that happens to be valid is answered 429)."""

import json
import random
import resource

import pytest
from _playground import fake_run
from starlette.testclient import TestClient

from rnnlab.playground import make_app

PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
REQUESTS = 300  # a fixed count, not a time budget: a loaded machine only takes longer

# The fields each POST endpoint reads (from rnnlab.playground.compute and .specs).
FIELDS = {
    "/api/neuron/momentum": ("kappa", "alpha", "beta", "steps", "w1", "w2"),
    "/api/neuron/hebb": ("rule", "eta", "steps", "n", "angle", "ratio", "seed"),
    "/api/spikes/lif": ("tau_ms", "theta_mV", "t_ref_ms", "current_nA", "t_stop", "i_max_nA"),
    "/api/spikes/rates": (
        "profile",
        "rate",
        "n_trains",
        "duration",
        "seed",
        "bin_ms",
        "bandwidth_ms",
    ),
    "/api/text/sample": ("run", "temperature", "length", "seed", "prime", "checkpoint"),
    "/api/reservoir/fit": (  # not "csv": read only with data=csv, it could not stop a fit
        "data",
        "units",
        "spectral_radius",
        "leak",
        "input_scaling",
        "log_ridge",
        "horizon",
        "seed",
    ),
    "/api/jobs": (
        "kind",
        "task",
        "cell",
        "hidden",
        "layers",
        "T",
        "lag",
        "truncate",
        "optimizer",
        "batch",
        "clip",
        "steps",
        "seed",
        "lr",
        "csv",
        "dataset",
        "n",
        "noise",
        "activation",
        "momentum",
    ),
}
# Values no numeric or named field accepts.
NEVER_VALID = [None, [], {}, True, "", "x", "NaN", "²", "1e999", -1e308, 1e308, [1, 2], {"a": 1}]


def _value(rng: random.Random):
    kind = rng.randrange(9)
    if kind == 0:
        return rng.choice(NEVER_VALID)
    if kind == 1:
        return rng.randint(-(10**30), 10**30)
    if kind == 2:
        return rng.uniform(-1e6, 1e6)
    if kind == 3:
        return "".join(rng.choice("0123456789.,-e\n\"'[]{}²٣x ") for _ in range(rng.randrange(40)))
    if kind == 4:
        return _csv(rng)
    if kind == 5:
        return rng.choice(["recurrent", "mlp", "recall", "xor", "lstm", "gru", "csv", "sgd"])
    if kind == 6:
        return [_value(rng) for _ in range(rng.randrange(4))]
    if kind == 7:
        return rng.randrange(0, 600)
    return chr(rng.randrange(0x20, 0x3000)) * rng.randrange(1, 300)


def _csv(rng: random.Random) -> str:
    rows = rng.randrange(0, 20)
    cols = rng.randrange(1, 40)
    cells = ["1", "-2.5", "x", "", '"', "1e400", "nan", "٣", "a,b"]
    return "\n".join(",".join(rng.choice(cells) for _ in range(cols)) for _ in range(rows))


def _raw(rng: random.Random) -> bytes:
    kind = rng.randrange(5)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(60)))
    if kind == 1:
        d = rng.randrange(30, 5000)
        return rng.choice([b"[", b'{"a":']) * d
    if kind == 2:
        return b'{"steps": ' + b"9" * rng.randrange(33, 3000) + b"}"
    if kind == 3:
        text = json.dumps({"csv": _csv(rng)})
        return text[: rng.randrange(1, len(text))].encode()  # cut short: never valid
    return rng.choice([b"null", b"[]", b'"x"', b"1", b"NaN", b"{}}", b"{,}"])


def _body(rng: random.Random, path: str) -> dict:
    fields = FIELDS[path]
    body = {f: _value(rng) for f in rng.sample(fields, rng.randrange(len(fields) + 1))}
    if path != "/api/jobs":  # keep the computed endpoints from computing: one field is bad
        body[rng.choice(fields)] = rng.choice(NEVER_VALID)
    return body


def _one_line_4xx(r, sent=None) -> str:
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300], repr(sent)[:300])
    message = r.json()["error"]
    assert isinstance(message, str) and message and "\n" not in message, message
    assert "Traceback" not in message
    return message


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    fake_run(root / "good")
    fake_run(root / "corrupt-eqx")
    (root / "corrupt-eqx" / "best.eqx").write_bytes(b"not a checkpoint")
    fake_run(root / "badconfig")
    config = json.loads((root / "badconfig" / "config.json").read_text())
    config["model"] = {"cell": None, "hidden": -999999, "layers": None}
    (root / "badconfig" / "config.json").write_text(json.dumps(config))
    fake_run(root / "notjson")
    (root / "notjson" / "config.json").write_text('{"task": "charlm", ')
    return root


@pytest.fixture(scope="module")
def client(runs_dir):
    app = make_app(runs_dir=runs_dir, port=PORT, max_running=0)
    with TestClient(app, base_url=BASE, raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize(
    "content, words",
    [
        (b"[" * 50_000 + b"]" * 50_000, "nested 50000 deep"),
        (b'{"kind": "recurrent", "hidden": ' + b"7" * 400 + b"}", "400 digits"),
        (b'{"kind": "recurrent", "lr": 1.' + b"5" * 400 + b"}", "402 digits"),
    ],
)
def test_deep_json_and_huge_numbers_are_refused_before_parsing(client, content, words):
    for path in ("/api/jobs", "/api/neuron/hebb", "/api/text/sample"):
        assert words in _one_line_4xx(client.post(path, content=content)), path
    # digits in a string are a number's text: bounded by the field's range (inf is out)
    r = client.post("/api/jobs", json={"kind": "recurrent", "lr": "9" * 400})
    assert "lr must be between" in _one_line_4xx(r)


def test_a_csv_cell_over_128_kb_is_refused(client):
    body = {"kind": "recurrent", "task": "csv", "csv": "a,b\n1," + "2" * 140_000 + "\n"}
    assert "csv cannot be read" in _one_line_4xx(client.post("/api/jobs", json=body))
    body = {"kind": "mlp", "dataset": "csv", "csv": "x" * 200_000}
    assert "csv" in _one_line_4xx(client.post("/api/jobs", json=body))


@pytest.mark.parametrize("since", ["²", "٣", "1.5", "-1", "9" * 5000, "", "0x10"])
def test_since_takes_ascii_digits_only(client, since):
    r = client.get("/api/jobs/nosuchjob", params={"since": since})
    assert "since must be a whole number" in _one_line_4xx(r)
    # the same for the Content-Length the guard reads (latin-1 on the wire)
    r = client.post("/api/jobs", content=b"{}", headers={"content-length": "²".encode("latin-1")})
    assert r.status_code == 413


def test_broken_runs_are_listed_as_broken_and_corrupt_ones_answer_the_librarys_line(client):
    listed = {r["name"]: r for r in client.get("/api/runs").json()["runs"]}
    assert listed["good"]["cell"] == "gru" and "broken" not in listed["good"]
    assert "no valid model" in listed["badconfig"]["broken"]
    assert set(listed["badconfig"]) == {"name", "broken", "inspect"}
    assert "not JSON" in listed["notjson"]["broken"]
    for name, words in (
        ("corrupt-eqx", "corrupt or does not match config.json"),
        ("badconfig", "cannot be used"),
        ("notjson", "cannot be used"),
    ):
        r = client.post("/api/text/sample", json={"run": name, "length": 3})
        assert r.status_code == 422 and words in _one_line_4xx(r), (name, r.text)
    # the good run beside them still samples
    assert client.post("/api/text/sample", json={"run": "good", "length": 3}).status_code == 200


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_seeded_fuzz_every_endpoint_answers_4xx_and_the_server_stays_up(client):
    rng = random.Random(19)
    posts = list(FIELDS)
    gets = ["/api/jobs/{x}", "/api/jobs/{x}/snapshot", "/api/jobs/{x}/data", "/api/jobs/{x}/stop"]
    gets.append("/api/jobs/{x}/cell")
    client.get("/api/meta")
    # the worker process starts (JAX's import) on the first computation: before the storm
    assert client.post("/api/neuron/momentum", json={"steps": 2}).status_code == 200
    rss0, counts = _rss_mb(), {}
    for _ in range(REQUESTS):
        kind = rng.randrange(4)
        path = rng.choice(posts)
        if kind == 0:
            sent = _body(rng, path)
            r = client.post(path, json=sent)
        elif kind == 1:
            sent = _raw(rng)
            r = client.post(path, content=sent)
        elif kind == 2:
            job = rng.choice(["1", "x" * 200, "..%2F..", "%00", "²"])
            url = rng.choice(gets).format(x=job)
            method = client.post if url.endswith("stop") else client.get
            sent = str(_value(rng))[:50]
            r = method(url, params={"since": sent})
        else:
            r = client.get("/api/runs") if rng.random() < 0.5 else client.get("/api/meta")
            assert r.status_code == 200
            continue
        _one_line_4xx(r, sent)
        counts[r.status_code] = counts.get(r.status_code, 0) + 1
    assert sum(counts.values()) >= REQUESTS // 2, counts  # of several answers
    assert {404, 422, 429} <= set(counts), counts
    # alive and still right: a valid computation after the storm
    r = client.post("/api/neuron/momentum", json={"kappa": 4, "alpha": 0.1, "beta": 0, "steps": 3})
    assert r.status_code == 200
    w = r.json()["gd"]  # w <- (1 - alpha lambda) w, lambda = (1, 4), from w0 = (-1, 1)
    assert w[-1] == pytest.approx([-(0.9**3), 0.6**3])
    assert _rss_mb() - rss0 < 200, (rss0, _rss_mb())
