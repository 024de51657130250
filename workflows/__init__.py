"""Temporal workflows: deterministic, no I/O, ids and dates only."""
