"""The playground in a real Chromium: every page draws with no console error and no
request outside the server; a short training on the Recurrent page updates its loss
curve and heatmaps. A screenshot of each page goes to ``$RNNLAB_SCREENSHOTS`` (the
README's pictures: ``RNNLAB_SCREENSHOTS=docs/playground``) or the test's temporary
folder; with ``RNNLAB_SCREENSHOT_RUN=runs/demo`` the Text page's picture samples that
trained run instead of the tests' untrained one."""

import os
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import uvicorn
from _playground import fake_run
from playwright.sync_api import expect

from rnnlab.playground import make_app

WAIT = 120_000  # ms: a worker starts JAX and compiles before its first step
_SERVED = []  # the job managers of the servers now up


@pytest.fixture(autouse=True)
def _no_training_outlives_its_test():
    """A test that fails or times out mid-training (a loaded machine) leaves no training
    running: the server admits two at a time, and the next tests would be refused."""
    yield
    for jobs in _SERVED:
        for job in list(jobs.jobs.values()):
            if job.active:
                jobs.stop(job)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The playground on a free port, in a thread of this process."""
    runs = tmp_path_factory.mktemp("runs")
    fake_run(runs / "tiny-gru")
    (runs / "tiny-gru" / "inspect.html").write_text("<html><body>cells</body></html>")
    real = os.environ.get("RNNLAB_SCREENSHOT_RUN")
    if real:
        (runs / "trained").mkdir()
        for name in ("config.json", "best.eqx", "inspect.html"):
            if (Path(real) / name).exists():
                shutil.copy(Path(real) / name, runs / "trained" / name)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = make_app(runs_dir=runs, port=port)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=1,
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    end = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < end and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    _SERVED.append(app.jobs)
    yield f"http://127.0.0.1:{port}"
    _SERVED.remove(app.jobs)
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    out = os.environ.get("RNNLAB_SCREENSHOTS")
    path = Path(out) if out else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _open(new_page, server, page_name):  # noqa: F811
    p = new_page(allow=(server,))
    p.page.goto(f"{server}/#{page_name}")
    p.page.wait_for_selector("body[data-ready='1']")
    return p


def _wait_text(page, selector, text, timeout=30_000):
    # a locator's wait: the page's policy forbids the eval behind wait_for_function
    expect(page.locator(selector)).to_contain_text(text, timeout=timeout)


def _canvas(page, selector):
    """A canvas's pixels as a data URL (to see that it was drawn and redrawn)."""
    return page.eval_on_selector(selector, "c => c.toDataURL()")


def _blank(page, selector):
    return page.eval_on_selector(
        selector,
        "c => !c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some(v => v)",
    )


def _clean(p, refused=0):
    """No console error but the browser's own line for each of ``refused`` 4xx answers
    that the test provoked, and no request outside the server."""
    errors = [e for e in p.errors if "status of 422" not in e]
    assert errors == [] and len(p.errors) == refused, p.errors
    assert p.blocked == [], f"requests outside the server: {p.blocked}"


def test_spikes_page_draws_the_neuron_and_the_rates(new_page, server, shots):  # noqa: F811
    p = _open(new_page, server, "spikes")
    page = p.page
    _wait_text(page, "#rate-status", "optimal", WAIT)  # the first asks start the pool's worker
    _wait_text(page, "#lif-status", "spikes", WAIT)
    before = _canvas(page, "#lif-trace")
    page.fill("#lif-steps", "3000")
    page.dispatch_event("#lif-steps", "input")
    _wait_text(page, "#lif-status", "3000")
    assert _canvas(page, "#lif-trace") != before  # redrawn for the new duration
    page.click("#rate-optimal")
    page.wait_for_timeout(500)
    for c in ("#lif-trace", "#lif-fi", "#rate-raster", "#rate-psth", "#rate-kernel"):
        assert not _blank(page, c), c
    _labelled(page, "#page-spikes canvas")
    page.screenshot(path=shots / "spikes.png", full_page=True)
    _clean(p)


def test_text_page_samples_and_links_the_inspect_view(new_page, server, shots):  # noqa: F811
    p = _open(new_page, server, "text")
    page = p.page
    page.wait_for_selector("#text-run option[value='tiny-gru']", state="attached")
    assert page.get_attribute("#text-inspect", "href") == "/runs/tiny-gru/inspect.html"
    page.fill("#text-prime", "hello")
    page.click("#text-sample")
    _wait_text(page, "#text-status", "step")
    assert page.text_content("#text-out").startswith("hello")
    assert len(page.text_content("#text-out")) == len("hello") + 300
    if page.locator("#text-run option[value='trained']").count():
        page.select_option("#text-run", "trained")
        page.fill("#text-prime", "ROMEO:")
        page.click("#text-sample")
        _wait_text(page, "#text-status", "from trained")
    page.screenshot(path=shots / "text.png", full_page=True)
    _clean(p)


def test_neuron_page_trains_an_mlp_and_draws_momentum_and_oja(new_page, server, shots):  # noqa: F811
    p = _open(new_page, server, "neuron")
    page = p.page
    _wait_text(page, "#mom-status", "rate")
    _wait_text(page, "#hebb-status", "cos")
    # your own data: read from the chosen file; a refusal's line is shown on the page
    page.select_option("#mlp-dataset", "csv")
    page.click("#mlp-train")
    _wait_text(page, "#mlp-status", "choose a CSV file")
    one_class = b"x1,x2,label\n0.1,0.2,1\n0.3,-0.5,1\n"
    page.set_input_files(
        "#mlp-csv", {"name": "mine.csv", "mimeType": "text/csv", "buffer": one_class}
    )
    page.click("#mlp-train")
    _wait_text(page, "#mlp-status", "at least two classes")
    net = page.locator("#mlp-net")  # the network drawn: the layers the controls ask for
    expect(net).to_have_attribute("data-sizes", "2,8,1")
    page.fill("#mlp-layers", "8,4")
    page.dispatch_event("#mlp-layers", "input")
    expect(net).to_have_attribute("data-sizes", "2,8,4,1")
    page.fill("#mlp-layers", "8")
    page.select_option("#mlp-dataset", "circles")
    page.fill("#mlp-lr", "0.3")
    page.fill("#mlp-steps", "200")
    page.click("#mlp-train")
    _wait_text(page, "#mlp-status", "200 / 200 · done", WAIT)
    page.wait_for_timeout(300)
    for c in ("#mlp-field", "#mlp-loss", "#hebb-field", "#mom-field", "#mom-error"):
        assert not _blank(page, c), c
    _labelled(page, "#page-neuron canvas:not(.net)")
    expect(net).to_have_attribute("data-weights", "1")  # then with the trained weights
    page.screenshot(path=shots / "neuron.png", full_page=True)
    _clean(p, refused=1)  # the one-class CSV


def test_recurrent_training_updates_the_loss_and_the_heatmaps(new_page, server, shots):  # noqa: F811
    p = _open(new_page, server, "recurrent")
    page = p.page
    reads = {"hello": (), "recall": ("lag",), "echo": ("T", "lag"), "sine": ("T",)}
    for task, used in reads.items():  # the controls a task does not read are greyed out
        page.select_option("#rnn-task", task)
        for k in ("T", "lag"):
            assert page.is_enabled(f"#rnn-{k}") == (k in used), (task, k)
    page.select_option("#rnn-task", "sine")
    page.select_option("#rnn-cell", "gru")
    for field, value in (("hidden", "8"), ("T", "24"), ("lr", "0.02")):
        page.fill(f"#rnn-{field}", value)
    page.check("#rnn-forever")  # runs until stopped, which says its limits
    _wait_text(page, "label:has(#rnn-forever)", "until stopped (at most 20000 steps or 10 min)")
    page.click("#rnn-train")
    page.wait_for_selector("#rnn-heatmaps canvas[data-internal='h']", timeout=WAIT)
    names = page.eval_on_selector_all(
        "#rnn-heatmaps canvas", "cs => cs.map(c => c.dataset.internal)"
    )
    assert sorted(names) == ["h", "n", "r", "z"]  # the GRU's state and gates
    for c in ("#rnn-loss", "#rnn-heatmaps canvas[data-internal='h']", "#rnn-grads"):
        _redrawn(page, c)
    page.screenshot(path=shots / "recurrent.png", full_page=True)
    # pause holds the step; one step runs to the next logged step and pauses; play resumes
    page.click("#rnn-pause")
    _wait_text(page, "#rnn-status", "· paused")
    held = _step(page)
    page.wait_for_timeout(1500)
    assert _step(page) == held
    page.click("#rnn-step")
    end = time.monotonic() + 60
    while not (_step(page) > held and "· paused" in page.text_content("#rnn-status")):
        assert time.monotonic() < end, page.text_content("#rnn-status")
        page.wait_for_timeout(200)
    page.click("#rnn-resume")
    _wait_text(page, "#rnn-status", "· running")
    page.click("#rnn-stop")
    _wait_text(page, "#rnn-status", "stopped")
    assert not _blank(page, "#rnn-pred")
    _clean(p)


def _step(page, selector="#rnn-status"):
    """The step that a status line ("step 40 / 300 · running ...") shows."""
    return int(page.text_content(selector).split()[1])


def _redrawn(page, selector, timeout=30.0):
    """Wait until the canvas changes (the training goes on while we look)."""
    before, end = _canvas(page, selector), time.monotonic() + timeout
    while _canvas(page, selector) == before:
        assert time.monotonic() < end, f"{selector} was not redrawn in {timeout} s"
        page.wait_for_timeout(200)


def test_a_diverging_training_says_where_on_both_pages(new_page, server):  # noqa: F811
    """Raising the learning rate until the loss blows up is a lesson: the status line
    says "diverged at step N" with the engine's hint, in red; no console error."""
    p = _open(new_page, server, "recurrent")
    page = p.page
    page.select_option("#rnn-task", "sine")
    page.select_option("#rnn-cell", "elman")
    page.select_option("#rnn-optimizer", "sgd")
    for field, value in (("hidden", "6"), ("layers", "2"), ("lr", "10"), ("steps", "300")):
        page.fill(f"#rnn-{field}", value)
    page.click("#rnn-train")
    page.goto(f"{server}/#neuron")  # the same document: the first training goes on
    page.select_option("#mlp-dataset", "xor")
    page.select_option("#mlp-activation", "relu")
    page.select_option("#mlp-optimizer", "momentum")
    for field, value in (("layers", "64,64,64"), ("lr", "10"), ("steps", "300")):
        page.fill(f"#mlp-{field}", value)
    page.click("#mlp-train")
    for status in ("#mlp-status", "#rnn-status"):
        _wait_text(page, status, "diverged at step", WAIT)
        _wait_text(page, status, "lower the learning rate")
        assert "bad" in page.get_attribute(status, "class")
    page.goto(f"{server}/#recurrent")
    assert not _blank(page, "#rnn-loss")  # the curve up to the divergence
    page.select_option("#lang", "fr")  # the engine's line, its fixed words in French
    _wait_text(page, "#rnn-status", "a divergé au pas")
    _wait_text(page, "#rnn-status", "baissez le pas d'apprentissage")
    _clean(p)


def _labelled(page, selector):
    """Every plot says what it shows: a title, two or more drawn tick labels on each
    axis (log axes included), named axes; what the plot functions drew, read from the
    canvas's data attributes that they set as they draw."""
    for d in page.eval_on_selector_all(selector, "cs => cs.map(c => ({...c.dataset}))"):
        assert d.get("title"), d
        assert len(d["xticks"].split("|")) >= 2 and len(d["yticks"].split("|")) >= 2, d
        assert d["xlabel"] and d["ylabel"], d


def _first_weights(seed):
    """The first values of the Recurrent page's model below, built by the library."""
    import equinox as eqx
    import jax

    from rnnlab.playground import recurrent, specs
    from rnnlab.playground.series import make_set

    spec = specs.recurrent(RESET_SPEC | {"seed": seed})
    data = make_set("sine", spec["T"], seed)
    model = recurrent.build(spec, data).model
    first = jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_array))[0]
    return [float(v) for v in first.ravel()[:4]]


RESET_SPEC = {"task": "sine", "cell": "gru", "hidden": 6, "T": 130, "layers": 1}


def test_reset_labelled_axes_and_the_unrolled_network(new_page, server):  # noqa: F811
    """Before training the plots say what will appear; the unrolled network redraws when
    the truncation changes; every plot has labelled axes; the heatmaps read out the cell
    under the pointer, exact where pooled; Reset draws new weights (a new seed) or the
    same ones (the same seed), as the library builds them."""
    p = _open(new_page, server, "recurrent")
    page = p.page
    for c in ("#rnn-loss", "#rnn-grads", "#rnn-pred"):
        assert page.get_attribute(c, "data-empty"), c
    page.select_option("#rnn-task", "sine")
    page.select_option("#rnn-cell", "gru")
    for field in ("hidden", "T", "layers"):
        page.fill(f"#rnn-{field}", str(RESET_SPEC[field]))
    page.fill("#rnn-truncate", "0")
    page.dispatch_event("#rnn-truncate", "input")
    expect(page.locator("#rnn-diagram")).to_have_attribute("data-columns", "130")
    before = _canvas(page, "#rnn-diagram")
    page.fill("#rnn-truncate", "30")
    page.dispatch_event("#rnn-truncate", "input")
    expect(page.locator("#rnn-diagram")).to_have_attribute("data-truncate", "30")
    assert _canvas(page, "#rnn-diagram") != before  # the windows of k = 30 shaded
    page.fill("#rnn-lr", "0.01")
    page.check("#rnn-forever")
    page.click("#rnn-train")
    init = page.locator("#rnn-init")
    expect(init).to_have_attribute("data-seed", "0", timeout=WAIT)
    first = [float(v) for v in init.get_attribute("data-first").split()]
    np.testing.assert_allclose(first, _first_weights(0), atol=1e-6)
    page.wait_for_selector("#rnn-heatmaps canvas[data-internal='h']", timeout=WAIT)
    _wait_text(page, "#rnn-status", "running")
    expect(page.locator("#rnn-loss")).to_have_attribute("data-ylabel", "loss (log)")
    _labelled(page, "#page-recurrent canvas.plot:not(.diagram), #rnn-heatmaps canvas")
    # 130 steps are pooled (blocks of 2 steps): the read-out names the block and its
    # mean, then fetches the exact value under the pointer
    page.locator("#rnn-heatmaps canvas[data-internal='h']").hover(position={"x": 60, "y": 40})
    _wait_text(page, "#hover", "mean")
    _wait_text(page, "#hover", "· unit")
    # Reset with a new seed: seed 1, other weights; with the same seed: the same again
    job = init.get_attribute("data-job")
    page.click("#rnn-reset")
    expect(init).to_have_attribute("data-seed", "1", timeout=WAIT)
    assert page.input_value("#rnn-seed") == "1" and init.get_attribute("data-job") != job
    second = [float(v) for v in init.get_attribute("data-first").split()]
    np.testing.assert_allclose(second, _first_weights(1), atol=1e-6)
    assert not np.allclose(first, second)
    job = init.get_attribute("data-job")
    page.uncheck("#rnn-new-seed")
    page.click("#rnn-reset")
    expect(init).not_to_have_attribute("data-job", job, timeout=WAIT)
    assert init.get_attribute("data-seed") == "1"
    assert [float(v) for v in init.get_attribute("data-first").split()] == second
    page.click("#rnn-stop")
    _wait_text(page, "#rnn-status", "stopped")
    _clean(p)


def test_a_preset_runs_and_the_texts_switch_to_french_and_stay(new_page, server):  # noqa: F811
    """A "try this" preset sets the controls and trains; the language control puts every
    lesson text in French, and a reload keeps it (localStorage)."""
    p = _open(new_page, server, "recurrent")
    page = p.page
    lesson = page.locator("[data-t='l-rnn']")
    expect(lesson).to_contain_text("reads a sequence one step at a time")
    page.click("#preset-p-trunc-5")  # recall at lag 20 with k = 5
    want = {"task": "recall", "lag": "20", "truncate": "5", "cell": "lstm", "steps": "1000"}
    assert {k: page.input_value(f"#rnn-{k}") for k in want} == want
    diagram = page.locator("#rnn-diagram")
    expect(diagram).to_have_attribute("data-truncate", "5")
    expect(diagram).to_have_attribute("data-columns", "22")  # cue, 20 distractors, query
    _wait_text(page, "#rnn-status", "/ 1000 · running", WAIT)
    page.click("#rnn-stop")
    _wait_text(page, "#rnn-status", "stopped")
    english = page.eval_on_selector_all("[data-t]", "es => es.map(e => e.textContent)")
    truncation = page.locator("label:has(#rnn-truncate)")  # each control's own line
    expect(truncation).to_have_attribute("title", re.compile("0 is full BPTT"))
    hint = truncation.locator(".hint")  # and visible under the control
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("0 is full BPTT")
    loss, train = page.locator("#rnn-loss"), page.locator("#rnn-train")
    expect(loss).to_have_attribute("data-title", re.compile("^loss per counted target"))
    expect(train).to_have_text("Train")
    page.select_option("#lang", "fr")
    expect(lesson).to_contain_text("lit une séquence pas à pas")
    # the words that JS writes too: a button, a plot's title drawn again, the status line
    expect(train).to_have_text("Entraîner")
    expect(loss).to_have_attribute("data-title", re.compile("^perte par cible comptée"))
    _wait_text(page, "#rnn-status", "/ 1000 · arrêté")
    assert page.text_content("#rnn-status").startswith("pas ")
    expect(truncation).to_have_attribute("title", re.compile("0 est la BPTT complète"))
    expect(hint).to_contain_text("0 est la BPTT complète")
    expect(page.locator("[data-t='h-rnn']")).to_have_text("Un réseau récurrent, entraîné en direct")
    french = page.eval_on_selector_all("[data-t]", "es => es.map(e => e.textContent)")
    assert len(french) == len(english) > 40
    changed = sum(a != b for a, b in zip(english, french, strict=True))
    assert changed >= len(english) - 2, [
        (a, b) for a, b in zip(english, french, strict=True) if a == b
    ]
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert page.input_value("#lang") == "fr"
    expect(lesson).to_contain_text("lit une séquence pas à pas")
    expect(train).to_have_text("Entraîner")
    expect(page.locator("#rnn-status")).to_have_text("pas encore entraîné")
    _clean(p)
