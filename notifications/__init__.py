"""The notification layer: email and SMS through an outbox, from ids only (DESIGN.md section 5)."""
