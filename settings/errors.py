"""The one error type the CLI turns into a single line for the user (no traceback)."""


class GordonError(Exception):
    """An error whose str() is one complete line that tells the user what is wrong."""
