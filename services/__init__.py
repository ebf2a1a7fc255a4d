"""The five services of the platform, one package each, and the runtime they share.

Each runs alone as `faststream run services.<name>:app` (GORDON_NATS_URL and GORDON_DATABASE_URL set)
or in-process under `gordon up`. Nothing below this layer imports a service.
"""
