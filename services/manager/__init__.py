"""The manager service: control plane; for now it follows the risk latch on the bus."""

from services.runtime import lazy_app

__getattr__ = lazy_app(__name__, "services.manager.service", "build")
