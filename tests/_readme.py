"""The README's sections that run as doctests (cell, task)."""

import doctest
import pathlib

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def run_section(title: str):
    """Run the doctest of the README section ``## title``; its ``(failed, attempted)``."""
    text = README.read_text()
    start = text.index(f"## {title}")
    section = text[start : text.index("\n## ", start + 1)]
    test = doctest.DocTestParser().get_doctest(section, {}, "README", str(README), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    return runner.summarize(verbose=False)
