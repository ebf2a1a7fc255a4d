"""The platform's leaf package: settings from the environment, role names, NATS logins, database URLs.

Runtime code of every layer imports it; it imports nothing of the project's own, so it can sit under
all of them without a cycle.
"""
