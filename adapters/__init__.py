"""The outside world: settings, storage wiring, logging, the CLI (later the API and web pages)."""
