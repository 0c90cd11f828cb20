"""The read side: SQLModel read models fed from the event store's notification log."""
