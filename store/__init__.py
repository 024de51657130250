"""The application database: the people, the read model and the outbox (sqlmodel)."""
