"""The bot service: SMA crossover bots turning closed klines into order intents."""

from services.runtime import lazy_app

__getattr__ = lazy_app(__name__, "services.bot.service", "build")
