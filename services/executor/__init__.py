"""The executor service: order intents and risk commands in, paper-exchange orders and fills out.

`paper` (prices, fees, the exchange's own books), `trader` (placing and filling, recorded as events),
`placing` (intents), `commands` (risk commands), `reconcile` (startup check), `service` (the app).
"""

from services.runtime import lazy_app

__getattr__ = lazy_app(__name__, "services.executor.service", "build")
