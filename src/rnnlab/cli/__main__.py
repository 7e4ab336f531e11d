"""``python -m rnnlab.cli``: the same as the ``rnnlab`` script."""

from rnnlab.cli import main

main()
