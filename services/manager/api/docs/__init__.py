"""The AsyncAPI docs browser: /docs/asyncapi renders the registry's AsyncAPI document with the vendored
@asyncapi/react-component standalone bundle, every file served by the app itself (no CDN)."""

from services.manager.api.docs.app import create_docs_app
from services.manager.api.docs.router import docs_router

__all__ = ["create_docs_app", "docs_router"]
