"""Fulfilment's use cases, by job: the routing policy's versions (policies)."""
