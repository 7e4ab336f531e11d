"""The playground's Reservoir page: an echo state network fitted at once in the worker.

The endpoint against the library driven by hand (the same reservoir, fit and score), its
one-line refusals, and the page in Chromium: it draws the forecast, the states and the
eigenvalues, and a slider redraws them."""

import re

import numpy as np
import pytest
from playwright.sync_api import expect
from starlette.testclient import TestClient
from test_playground_browser import _blank, _canvas, _clean, _open, _wait_text, server, shots  # noqa: F401

from rnnlab.playground import make_app


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    app = make_app(runs_dir=tmp_path_factory.mktemp("runs"), port=8765)
    with TestClient(app, base_url="http://127.0.0.1:8765") as c:
        yield c
    app.pool.shutdown()


def by_hand(horizon, units, radius, leak, scaling, ridge, seed):
    """The page's numbers from rnnlab.reservoir's public functions, 75 % to fit."""
    import jax.numpy as jnp

    from rnnlab import reservoir as rc

    u = rc.rescale(np.asarray(rc.mackey_glass(2500, tau=17), np.float64).ravel())
    x, y = u[:-horizon, None], u[horizon:, None]
    cut = int(0.75 * len(x))
    cell = rc.ReservoirCell(
        1, units, leak_rate=leak, spectral_radius=radius, input_scaling=scaling,
        connectivity=0.1, input_connectivity=0.2, matmul="dense", key=seed, esp_warning=False,
    )  # fmt: skip
    esn = rc.fit(cell, jnp.asarray(x[:cut]), jnp.asarray(y[:cut]), ridge=ridge, warmup=100)
    pred = np.asarray(esn(jnp.asarray(x))[0])[:, 0]
    W = np.asarray(cell.W, np.float64)
    return rc.nrmse(y[cut:, 0], pred[cut:]), np.max(np.abs(np.linalg.eigvals(W)))


def test_the_endpoint_is_the_library_fit_and_beats_persistence(client):
    body = {"units": 50, "spectral_radius": 0.9, "leak": 0.5, "input_scaling": 0.8,
            "log_ridge": -6, "horizon": 5, "seed": 3}  # fmt: skip
    r = client.post("/api/reservoir/fit", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    want, radius = by_hand(5, 50, 0.9, 0.5, 0.8, 1e-6, 3)
    np.testing.assert_allclose(out["nrmse"], want, rtol=1e-4)  # float32, two processes
    np.testing.assert_allclose(out["spectral_radius"], radius, rtol=1e-6)
    np.testing.assert_allclose(radius, 0.9, rtol=1e-6)  # rescaled to what was asked
    assert out["nrmse"] < out["persistence_nrmse"] / 10
    lam = np.asarray(out["eig_re"]) + 1j * np.asarray(out["eig_im"])
    np.testing.assert_allclose(out["effective_radius"], np.max(np.abs(0.5 + 0.5 * lam)))
    assert len(out["states"]) == 8 and len(out["t"]) == len(out["target"]) <= 1000


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"spectral_radius": 0}, "spectral_radius"),
        ({"leak": 1.5}, "leak"),
        ({"units": 5000}, "units"),
        ({"data": "csv", "csv": "v\n1\n2\n3\n"}, ">= 300"),
        ({"data": "csv", "csv": "a,b\nx,y\n"}, "csv"),
        ({"data": "elsewhere"}, "data"),
    ],
)
def test_bad_values_are_one_line_4xx(client, body, says):
    r = client.post("/api/reservoir/fit", json=body)
    assert 400 <= r.status_code < 500, r.text
    message = r.json()["error"]
    assert says in message and "\n" not in message


def test_reservoir_page_draws_and_redraws_with_the_spectral_radius(new_page, server, shots):  # noqa: F811
    p = _open(new_page, server, "reservoir")
    page = p.page
    _wait_text(page, "#esn-status", "scored on the rest", timeout=120_000)
    title = page.get_attribute("#esn-prediction", "data-title")
    assert "NRMSE" in title and "persistence" in title
    for c in ("#esn-prediction", "#esn-states", "#esn-eig"):
        assert not _blank(page, c), c
        ticks = page.get_attribute(c, "data-xticks"), page.get_attribute(c, "data-yticks")
        assert all(len(t.split("|")) >= 2 for t in ticks), (c, ticks)
    assert "spectral radius 1.250" in page.get_attribute("#esn-eig", "data-title")
    before = _canvas(page, "#esn-eig")
    page.fill("#esn-radius", "0.5")
    page.dispatch_event("#esn-radius", "input")
    _wait_attr(page, "#esn-eig", "data-title", "spectral radius 0.500")
    assert _canvas(page, "#esn-eig") != before
    page.screenshot(path=shots / "reservoir.png", full_page=True)
    _clean(p)


def _wait_attr(page, selector, name, text, timeout=60_000):
    """A locator's wait (the page's policy forbids the eval behind wait_for_function)."""
    expect(page.locator(selector)).to_have_attribute(
        name, re.compile(re.escape(text)), timeout=timeout
    )
