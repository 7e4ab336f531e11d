"""The inspect page: self-contained, escaped, and working in headless Chromium with the
network blocked (hover shows the top 5; pattern search finds the planted unit's spans)."""

import re

import numpy as np
import pytest
from _inspect_models import PLANTED, TEXT, planted_model

from rnnlab.inspect import detect, find_cells, page_data, render_page, trace_charlm


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    model, vocab, _ = planted_model(other=0.3)
    trace = trace_charlm(model, vocab.encode(TEXT))
    detectors = detect(TEXT)
    found = find_cells(trace.layers, detectors)
    page = render_page(
        page_data(TEXT, vocab.chars, trace, detectors, found),
        title="<b>planted</b>",
        figures={"a figure": b"\x89PNG fake"},
    )
    path = tmp_path_factory.mktemp("page") / "inspect.html"
    path.write_text(page, encoding="utf-8")
    return path, page, trace, vocab


def runs(mask):
    """[(start, end)] inclusive of the runs of True in ``mask``."""
    m = np.concatenate([[0], np.asarray(mask, int), [0]])
    edges = np.flatnonzero(np.diff(m))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def test_page_is_self_contained_and_escaped(built):
    _, page, _, _ = built
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    assert "default-src 'none'" in csp and "connect-src" not in csp
    # two script elements only: the data and the page's own; the corpus's `<script>`,
    # `</script` and `<!--` never appear raw
    assert len(re.findall(r"<script", page, re.I)) == 2
    assert "alert(1)" in page and "<script>alert" not in page
    assert page.count("</script") == 2 and "<!-- x" not in page
    assert "<b>planted</b>" not in page and "&lt;b&gt;planted&lt;/b&gt;" in page


def test_page_in_chromium(built, new_page):  # noqa: F811
    path, _, trace, vocab = built
    p = new_page()
    dialogs = []
    p.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    p.page.goto(path.as_uri())
    p.page.wait_for_selector("#text span")
    assert p.page.locator("#text").inner_text() == TEXT  # the corpus's <script> as text
    assert dialogs == [] and p.blocked == []

    # the finder table links the planted unit first for quotes
    first = p.page.locator("#finder tr", has_text="quote").locator("a.found").first
    assert re.search(rf"layer 0 [ch]\[{PLANTED}\] r=(0\.99\d|1\.000)", first.inner_text())

    # hover: the top 5 of the model's own distribution after that character
    t = 30
    p.page.locator(f'#text span[data-t="{t}"]').hover()
    rows = p.page.locator("#tip .top").all_inner_texts()
    order = np.argsort(-trace.probs[t])[:5]
    assert len(rows) == 5
    for row, c in zip(rows, order, strict=True):
        shown = {"\n": "\\n", " ": "\u2423"}.get(vocab.chars[c], vocab.chars[c])
        assert row.startswith(f'"{shown}"') or row.startswith(repr(shown)[1:-1]), row
        assert abs(float(row.split()[-1]) - trace.probs[t, c]) < 2e-3

    # error analysis: coloured by the loss (positive: blue, as every positive value since
    # the colours follow Karpathy et al.'s Fig. 2), the most surprising character is the
    # deepest blue
    p.page.select_option("#colour", "loss")
    worst = int(np.nanargmax(trace.loss))
    style = p.page.locator(f'#text span[data-t="{worst}"]').get_attribute("style")
    assert "rgb(30, 90, 220)" in style, style  # alpha 1
    best = int(np.nanargmin(trace.loss))
    style = p.page.locator(f'#text span[data-t="{best}"]').get_attribute("style")
    alpha = float(re.search(r"rgba\(30, 90, 220, ([\d.e-]+)\)", style).group(1))
    assert abs(alpha - trace.loss[best] / np.nanmax(trace.loss)) < 0.01

    # selecting text with the mouse fills in the span to search
    p.page.evaluate(
        """([a, b]) => {
        const r = document.createRange();
        r.setStart(document.querySelector(`#text span[data-t="${a}"]`).firstChild, 0);
        r.setEnd(document.querySelector(`#text span[data-t="${b}"]`).firstChild, 1);
        window.getSelection().removeAllRanges();
        window.getSelection().addRange(r);
        document.dispatchEvent(new MouseEvent("mouseup"));
    }""",
        [12, 20],
    )
    assert (p.page.input_value("#from"), p.page.input_value("#to")) == ("12", "20")

    # pattern search on h over the second quotation: the planted unit alone is on, and the
    # other quotations are the matches
    quotes = runs(detect(TEXT, ["quote"])["quote"] > 0)
    a, b = quotes[1]
    p.page.select_option("#signal", "h")
    p.page.fill("#from", str(a))
    p.page.fill("#to", str(b))
    p.page.fill("#threshold", "0.6")
    p.page.click("#go")
    assert p.page.locator("#units-on").inner_text() == str(PLANTED)
    items = p.page.locator("#matches li")
    got = sorted(
        (int(items.nth(i).get_attribute("data-start")), int(items.nth(i).get_attribute("data-end")))
        for i in range(items.count())
    )
    assert got == [q for q in quotes if q != (a, b)]
    assert p.errors == []
