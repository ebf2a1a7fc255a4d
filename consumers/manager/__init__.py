"""The manager service: control plane; for now it follows the risk latch on the bus."""
