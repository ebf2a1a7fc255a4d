"""Bearer-token guard of the write endpoints: GORDON_MANAGER_TOKEN, compared in constant time.

With no token configured the write endpoints answer 503 saying so (refused, never open); a missing or
wrong token gets 401 with `WWW-Authenticate: Bearer`.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.manager.api.backend import Backend, backend
from settings.environment import MANAGER_TOKEN

bearer = HTTPBearer(auto_error=False, description=f"the operator token ({MANAGER_TOKEN})")

AUTH_RESPONSES: dict[int | str, dict[str, str]] = {
    401: {"description": "no bearer token, or a wrong one"},
    503: {"description": f"write endpoints are disabled: {MANAGER_TOKEN} is not set"},
}


def require_token(
    api: Annotated[Backend, Depends(backend)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """FastAPI dependency: pass only with the configured bearer token."""
    expected = api.deps.token
    if not expected:
        raise HTTPException(503, f"write endpoints are disabled: {MANAGER_TOKEN} is not set")
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "missing bearer token (Authorization: Bearer <token>)", headers=challenge)
    if not hmac.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise HTTPException(401, "wrong bearer token", headers=challenge)
