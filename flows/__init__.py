"""Prefect flows: orchestration of multi-step, scheduled and batch work over the engine."""
