"""Temporal activities: where side effects live (database, messages)."""
