"""The Recurrent page's learner selector and spiking cells: the spec's checks, the online
training that the worker runs against rnnlab.learn driven by hand, the spikes' raster, and
the page in a real Chromium."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from playwright.sync_api import expect
from test_playground_browser import (  # noqa: F401  (the playground on a free port)
    _no_training_outlives_its_test,
    server,
)

import rnnlab
from rnnlab import learn
from rnnlab.engine import Settings, fit, make_optimizer
from rnnlab.playground import recurrent, specs
from rnnlab.playground.limits import Invalid
from rnnlab.playground.series import make_set

WAIT = 180_000  # ms: a worker starts JAX and compiles before its first step


@pytest.mark.parametrize(
    "body, says",
    [
        ({"learner": "rflo", "cell": "lstm"}, "RFLO applies to leaky cells"),
        ({"learner": "rtrl", "layers": 2}, "one layer"),
        ({"learner": "uoro", "truncate": 3}, "truncation is BPTT's"),
        ({"learner": "rtrl", "update_every": 0}, "update_every"),
        ({"learner": "hebb"}, "learner must be one of"),
    ],
)
def test_a_learner_that_does_not_apply_is_refused(body, says):
    with pytest.raises(Invalid, match=says):
        specs.parse({"kind": "recurrent", **body})


def test_online_training_equals_the_library_driven_by_hand():
    """The page's recall, trained by SnAp-1 with an update every 2 steps (the last chunk
    padded), against rnnlab.learn's step by hand with plain SGD on the same batches."""
    steps, lr = 9, 0.3
    body = {"kind": "recurrent", "task": "recall", "lag": 3, "cell": "gru", "hidden": 4,
            "batch": 4, "learner": "snap1", "update_every": 2, "steps": steps}  # fmt: skip
    spec = specs.parse(body)
    data = make_set(spec["task"], spec["T"], spec["seed"], lag=spec["lag"])
    problem = recurrent.build(spec, data)
    sgd = make_optimizer("sgd", lr, momentum=0.0)
    got = fit(problem, sgd, Settings(steps=steps, devices=1)).model

    start = recurrent.build({**spec, "learner": "bptt"}, data)
    net = learn.Network(start.model.rnn.cells[0][0], start.model.readout)
    learner = learn.make_learner("snap1", net)

    def loss_fn(outs, target):  # cross-entropy of the counted steps
        y, mask = target
        logp = jax.nn.log_softmax(outs)
        return -jnp.sum(jnp.take_along_axis(logp, y[:, None], 1)[:, 0] * mask), jnp.sum(mask)

    step = jax.jit(learn.make_step(learner, loss_fn))
    done, b = 0, 0
    while done < steps:
        x, y, mask = start.batches.get(b)
        carry = learn.init_carry(learner, net, x.shape[0])
        for lo in range(0, x.shape[1], 2):
            if done == steps:
                break
            chunk = tuple(jnp.asarray(a[:, lo : lo + 2]) for a in (x, y, mask))
            grads, carry, (_, count) = step(carry, net, (chunk[0], chunk[1:]))
            s = lr / max(float(count), 1.0)
            net = jax.tree_util.tree_map(
                lambda p, g, s=s: p - s * g if eqx.is_inexact_array(p) else p, net, grads
            )
            done += 1
        b += 1
    ours = learn.Network(got.rnn.cells[0][0], got.readout)
    for a, r in zip(jax.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(net), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(r), rtol=2e-5, atol=2e-6)
    first = learn.Network(start.model.rnn.cells[0][0], start.model.readout)
    assert np.abs(np.asarray(ours.cell.weight_hh - first.cell.weight_hh)).max() > 1e-4


def test_a_spiking_layer_shows_its_raster():
    """ALIF neurons trained by e-prop: the look inside sends z, the spikes (0 or 1), equal to
    the trained cell's outputs under rnnlab.unroll on the probe sequence."""
    body = {"kind": "recurrent", "task": "recall", "lag": 3, "cell": "alif", "hidden": 6,
            "learner": "eprop", "steps": 4}  # fmt: skip
    spec = specs.parse(body)
    data = make_set(spec["task"], spec["T"], spec["seed"], lag=spec["lag"])
    model = fit(
        recurrent.build(spec, data), make_optimizer("adam", 0.01), Settings(steps=4, devices=1)
    ).model
    raster = np.asarray(recurrent.snapshot(model, data)["layers"][0]["z"])  # (T, H)
    zs, _ = rnnlab.unroll(model.rnn.cells[0][0], jnp.asarray(data.x[0]))
    np.testing.assert_array_equal(raster, np.asarray(zs))
    assert set(np.unique(raster)) <= {0.0, 1.0} and raster.any()


def test_the_page_sends_the_learner_and_trains_by_it(new_page, server):  # noqa: F811
    """A learner that does not apply to the cell is the server's one line on the page;
    ALIF neurons trained by e-prop on recall train to the end, with the loss curve and the
    raster of their spikes (the z heatmap) drawn."""
    p = new_page(allow=(server,))
    page = p.page
    page.goto(f"{server}/#recurrent")
    page.wait_for_selector("body[data-ready='1']")
    page.select_option("#rnn-task", "recall")
    page.select_option("#rnn-cell", "lstm")
    page.fill("#rnn-truncate", "2")  # BPTT's window: greyed out and not sent below
    assert page.is_disabled("#rnn-update_every") and page.is_enabled("#rnn-truncate")
    page.select_option("#rnn-learner", "rflo")
    assert page.is_enabled("#rnn-update_every") and page.is_disabled("#rnn-truncate")
    page.click("#rnn-train")
    expect(page.locator("#rnn-status")).to_contain_text("RFLO applies to leaky cells")
    page.select_option("#rnn-cell", "alif")
    page.select_option("#rnn-learner", "eprop")
    for field, value in (("hidden", "6"), ("lag", "3"), ("steps", "30"), ("update_every", "2")):
        page.fill(f"#rnn-{field}", value)
    before = page.eval_on_selector("#rnn-loss", "c => c.toDataURL()")
    page.click("#rnn-train")
    expect(page.locator("#rnn-status")).to_contain_text("step 30 / 30 · done", timeout=WAIT)
    assert page.eval_on_selector("#rnn-loss", "c => c.toDataURL()") != before
    page.wait_for_selector("#rnn-heatmaps canvas[data-internal='z']", timeout=WAIT)
    errors = [e for e in p.errors if "status of 422" not in e]
    assert errors == [] and len(p.errors) == 1, p.errors  # the browser's line for the 422
    assert p.blocked == []
