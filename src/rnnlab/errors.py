"""The one exception type for a user's mistake.

Library code raises :class:`UserError` with a one-line message that names the bad
value and what would be right; the command line prints that line and exits with
status 2, without a traceback.
"""


class UserError(ValueError):
    """Bad input from the user (a path, a shape, a setting): one clear line."""
