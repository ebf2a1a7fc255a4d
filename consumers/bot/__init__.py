"""The bot service: SMA crossover bots turning closed klines into order intents."""
