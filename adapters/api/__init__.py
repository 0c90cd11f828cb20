"""The HTTP API and the web pages for brokers, managers and auditors (FastAPI)."""
