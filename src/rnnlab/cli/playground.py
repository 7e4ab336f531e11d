"""``rnnlab playground``: being built (issue 11)."""


def register(app) -> None:
    """Adds the ``playground`` command to ``app``."""
