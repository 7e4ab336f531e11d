"""The README's "Write your own task" section runs as a doctest."""

from _readme import run_section


def test_write_your_own_task_section_runs():
    result = run_section("Write your own task")
    assert result.attempted >= 10
    assert result.failed == 0
