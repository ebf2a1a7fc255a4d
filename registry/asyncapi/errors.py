"""The one error the generator raises: a registry that cannot be written as one consistent document."""

from __future__ import annotations


class DocumentError(ValueError):
    """Two declarations claim one name in the document with different content; str() names both."""
