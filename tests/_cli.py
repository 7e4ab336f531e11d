"""The ``rnnlab`` command run in-process, as the tests call it (no new Python per case)."""

from rnnlab.cli import main


def run(capsys, *argv):
    """``(exit status, stdout, stderr)`` of ``rnnlab ARGV``."""
    try:
        main([str(a) for a in argv])
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err
