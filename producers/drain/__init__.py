"""The outbox drain: one leader forwards committed `bus.outbox` rows to JetStream, in id order."""
