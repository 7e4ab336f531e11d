"""The guide's "Write your own cell" page (once the README's section) runs as a doctest."""

from _readme import run_page


def test_write_your_own_cell_section_runs():
    result = run_page("guide/custom-cell.md")
    assert result.attempted >= 8
    assert result.failed == 0
