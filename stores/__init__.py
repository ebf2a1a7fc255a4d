"""Write-side stores: load an aggregate from its own event table under its row lock, append, publish.

The event rows, the aggregate head and the outbox row commit in the caller's one transaction, so a
decision, its record and its event on the bus never diverge.
"""
