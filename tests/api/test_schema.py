"""Property-based requests generated from the OpenAPI schema (schemathesis): whatever a
client sends, the API answers without a server error."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from adapters.api.app import create_app
from adapters.settings import Settings

EXAMPLES = 8  # per operation: about sixty operations, well under a minute


@pytest.fixture
def schema_client(loaded_home: tuple[Path, dict[str, str]]) -> TestClient:
    home, _ = loaded_home
    return TestClient(create_app(Settings(home=home)))


def test_no_generated_request_makes_a_server_error(
    schema_client: TestClient, loaded_home: tuple[Path, dict[str, str]]
) -> None:
    _, tokens = loaded_home
    schema = schemathesis.openapi.from_asgi("/openapi.json", schema_client.app)
    headers = {"Authorization": f"Bearer {tokens['board-secretariat']}"}
    failures: list[str] = []
    seen: list[int] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            seen.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")

        given(case=operation.as_strategy())(check)()
    assert not failures, failures
    assert len(seen) >= len(list(schema.get_all_operations())), "every operation was called"
    assert {200, 401, 403, 404, 409, 422} & set(seen) >= {200, 422}
