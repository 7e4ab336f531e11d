"""Every tutorial (docs/tutorials/*.py, jupytext percent format) runs top to bottom as a
notebook, in a Jupyter kernel as the docs build runs it, within a time limit, and shows
at least one figure. Each tutorial checks the claims it makes with ``assert`` cells, so
a change that breaks what a tutorial says fails here."""

import pathlib
import time

import jupytext
import nbclient
import pytest

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"
TUTORIALS = sorted((DOCS / "tutorials").glob("*.py"))
# Each runs in about 10 to 40 s alone on 2 cores; the limit leaves room for a loaded
# machine, not for a tutorial that has grown slow.
TIME_LIMIT = 300


# The lecture's sections in order; a tutorial added to docs/tutorials/ is listed here and
# in mkdocs.yml's nav, one removed fails here.
LECTURE = [
    "01_neuron",
    "02_backprop_momentum",
    "03_windows_conv1d",
    "04_elman",
    "05_bptt",
    "06_lstm_gru",
    "07_io_patterns",
    "08_charlm",
    "09_birdsong",
    "10_spikes",
    "11_learning_without_bptt",
    "12_reservoirs",
]


def test_tutorials_exist():
    names = [t.stem for t in TUTORIALS]
    assert names == LECTURE
    nav = (DOCS.parent / "mkdocs.yml").read_text(encoding="utf-8")
    assert [n for n in LECTURE if f"tutorials/{n}.py" not in nav] == []


@pytest.mark.parametrize("path", TUTORIALS, ids=[t.stem for t in TUTORIALS])
def test_tutorial_runs(path, tmp_path):
    nb = jupytext.read(path)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), (
        "a tutorial opens with its title"
    )
    client = nbclient.NotebookClient(
        nb,
        timeout=TIME_LIMIT,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},  # anything written lands there
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    assert seconds < TIME_LIMIT
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors, errors
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert figures, f"{path.name} shows no figure"
    print(f"{path.stem}: {seconds:.1f} s")
