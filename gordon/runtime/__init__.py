"""Embedded servers for local runs and tests: nats-server (nats_server.EmbeddedNats) and
PostgreSQL (postgres_server.EmbeddedPostgres), started as children that die with us;
servers.running_servers picks configured URLs or starts embedded servers for the unset ones."""
