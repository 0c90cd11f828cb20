"""A read store opens no connection until it is used; on PostgreSQL its first connection
creates its schema."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from projections.store import ReadStore


def schema_exists(url: str, schema: str) -> bool:
    with psycopg.connect(url) as conn:
        found = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
        return found.fetchone() is not None


def test_a_read_store_on_an_unreachable_server_opens_without_connecting() -> None:
    store = ReadStore("postgresql://postgres@127.0.0.1:1/nowhere", schema="read")

    assert store.dialect == "postgresql"
    store.close()


@pytest.mark.postgres
def test_the_schema_is_created_by_the_first_use_not_by_opening(postgres_url: str) -> None:
    schema = f"lazy_{uuid.uuid4().hex[:10]}"

    store = ReadStore(postgres_url, schema=schema)
    assert not schema_exists(postgres_url, schema)

    store.create()
    assert schema_exists(postgres_url, schema)
    assert "initiatives" in tables_in(postgres_url, schema)  # the live tables went into it
    store.close()


def tables_in(url: str, schema: str) -> list[str]:
    with psycopg.connect(url) as conn:
        found = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))
        return [name for (name,) in found.fetchall()]
