"""Where the project's checked-in files live (the source tree: the project is installed editable)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The project root: the folder that holds pyproject.toml, schemas/ and asyncapi.yaml."""
