"""The README's "Write your own cell" section runs as a doctest."""

import doctest
import pathlib

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_write_your_own_cell_section_runs():
    text = README.read_text()
    start = text.index("## Write your own cell")
    section = text[start : text.index("\n## ", start + 1)]
    test = doctest.DocTestParser().get_doctest(section, {}, "README", str(README), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted >= 8
    assert result.failed == 0
