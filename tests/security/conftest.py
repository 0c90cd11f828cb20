"""What the security tests share: the first-steps data folder with a user per role, a
manual clock for the login throttle, and ways to count events and to log in to the pages."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount

from adapters.api.app import create_app
from adapters.settings import Settings
from tests.api.conftest import Api, api, first_steps, loaded_home  # noqa: F401  (fixtures)


def event_count(home: Path) -> int:
    """Events in the store, read from the SQLite file itself (not through the engine)."""
    with sqlite3.connect(f"file:{home / 'events.sqlite'}?mode=ro", uri=True) as db:
        (count,) = db.execute("SELECT COUNT(*) FROM stored_events").fetchone()
    return int(count)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, "the page carries a CSRF token"
    return found.group(1)


def log_in(client: TestClient, token: str) -> None:
    """Log in through the login form, as a browser would."""
    csrf = csrf_of(client.get("/login").text)
    answer = client.post(
        "/login", data={"token": token, "csrf_token": csrf}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text


@dataclass
class ManualClock:
    """Monotonic seconds that move only when the test says so."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class ClockedApi(Api):
    clock: ManualClock


@pytest.fixture
def clocked(loaded_home: tuple[Path, dict[str, str]]) -> Iterator[ClockedApi]:  # noqa: F811
    """The app with a manual clock behind its login throttle."""
    home, tokens = loaded_home
    clock = ManualClock()
    with TestClient(create_app(Settings(home=home), clock=clock)) as client:
        yield ClockedApi(client, tokens, home, clock)


SAMPLE_PARAMETERS = {
    "initiative_id": "timber-reuse",
    "programme_id": "mra-circular",
    "command": "stall",
    "organisation_id": "gemeente-amsterdam",
    "community_id": "cop-construction",
    "message_id": "0" * 32,  # a notification (adapters.notifications.store)
}


@dataclass(frozen=True)
class Endpoint:
    method: str
    template: str  # the route's path, with {parameters}

    @property
    def path(self) -> str:
        """The path with a real value for each parameter."""
        return re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PARAMETERS[m.group(1)], self.template)

    @property
    def is_api(self) -> bool:
        return self.template.startswith("/api/")

    @property
    def writes(self) -> bool:
        return self.method in {"POST", "PUT", "PATCH", "DELETE"}


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every route the app serves, each method once (HEAD answers as GET does); a mounted
    folder of static files as one GET of a file in it."""
    found = []
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount):
            found.append(Endpoint("GET", f"{route.path}/kringloop.css"))
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            found.append(Endpoint(method, str(route.path)))
    return found
