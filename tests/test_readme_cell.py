"""The README's "Write your own cell" section runs as a doctest."""

from _readme import run_section


def test_write_your_own_cell_section_runs():
    result = run_section("Write your own cell")
    assert result.attempted >= 8
    assert result.failed == 0
