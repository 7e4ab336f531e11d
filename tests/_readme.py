"""The guide pages that run as doctests (cell, task): they were the README's sections
"Write your own cell" and "Write your own task", and moved to docs/guide/ with them."""

import doctest
import pathlib

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"


def run_page(page: str):
    """Run the doctests of ``docs/PAGE``; its ``(failed, attempted)``."""
    path = DOCS / page
    test = doctest.DocTestParser().get_doctest(path.read_text(), {}, page, str(path), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    return runner.summarize(verbose=False)
