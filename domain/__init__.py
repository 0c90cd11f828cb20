"""The domain: programmes and initiatives as event-sourced aggregates, and the engine."""
