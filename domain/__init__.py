"""The trading domain, pure: order state machine, positions and the risk latch as reducers and aggregates.

Both sides use it: producers decide with the `eventsourcing` aggregates, projections fold bus payloads with
the reducers over the same transition tables. No I/O, no clock reads in reducers.
"""
