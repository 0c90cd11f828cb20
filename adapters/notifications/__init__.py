"""Notifications: the notices queued in the outbox, delivered as e-mail and webhook calls."""
