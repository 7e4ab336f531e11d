"""The guide's "Write your own task" page (once the README's section) runs as a doctest."""

from _readme import run_page


def test_write_your_own_task_section_runs():
    result = run_page("guide/custom-task.md")
    assert result.attempted >= 10
    assert result.failed == 0
