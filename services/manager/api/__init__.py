"""The manager's HTTP API (FastAPI, served by granian): orders, positions, the risk latch, operator
requests, health and metrics; browser-bound JSON is camelCase, converted here at the edge."""

from services.manager.api.app import create_app
from services.manager.api.backend import ApiDeps

__all__ = ["ApiDeps", "create_app"]
