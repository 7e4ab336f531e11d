"""``rnnlab inspect``: being built (issue 10)."""


def register(app) -> None:
    """Adds the ``inspect`` command to ``app``."""
