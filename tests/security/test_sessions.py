"""A web session lives on the server, bound to the credential that opened it: revoking or
reissuing that credential, logging out, the idle timeout and the absolute lifetime each end
it, and a copied cookie dies with it. The clock is a manual one: nothing sleeps."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from adapters.accounts import users
from adapters.accounts.sessions import SessionRow, open_session, session_for
from adapters.accounts.users import active_user, credential_id, reissue_user, revoke_user
from adapters.api.app import create_app
from adapters.settings import Settings
from adapters.store import open_engine, open_read_store
from projections.runner import Runner
from tests.e2e.test_cli import kringloop
from tests.security.conftest import csrf_of, log_in
from tests.security.test_tokens import every_value

COOKIE = "kringloop_session"


@dataclass
class WallClock:
    """UTC time that moves only when the test says so."""

    now: datetime = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Web:
    home: Path
    tokens: dict[str, str]
    clock: WallClock
    settings: Settings
    opened: ExitStack

    def browser(self) -> TestClient:
        """A browser of its own (its own cookie jar) on a worker of its own (its own app)."""
        app = create_app(self.settings)
        app.state.session_clock = self.clock
        return self.opened.enter_context(TestClient(app))

    def cli(self, *args: str) -> tuple[int, str, str]:
        """`kringloop ARGS` in a process of its own (its logging set-up stays there)."""
        done = kringloop(self.home, *args, ok=False)
        return done.returncode, done.stdout, done.stderr


@pytest.fixture
def web(loaded_home: tuple[Path, dict[str, str]]) -> Iterator[Web]:
    home, tokens = loaded_home
    settings = Settings(home=home, session_idle_minutes=30, session_max_hours=8)
    with ExitStack() as opened:  # every app is closed when the test ends
        yield Web(home, tokens, WallClock(), settings, opened)


def logged_in(web: Web, user: str) -> TestClient:
    client = web.browser()
    log_in(client, web.tokens[user])
    assert on_page(client)
    return client


def on_page(client: TestClient) -> bool:
    """Whether the session still opens a page (else the browser is sent to the login)."""
    answer = client.get("/pipeline", follow_redirects=False)
    assert answer.status_code in (200, 303), answer.status_code
    return answer.status_code == 200


def copy_of(web: Web, client: TestClient) -> TestClient:
    """Another browser holding a copy of this one's session cookie (a stolen cookie)."""
    thief = web.browser()
    thief.cookies.set(COOKIE, client.cookies[COOKIE])
    return thief


def engine_of(client: TestClient):  # type: ignore[no-untyped-def]
    return client.app.state.backend.read_store.engine  # type: ignore[attr-defined]


# -- the hole: revoke, then add the same name again --------------------------------------


def test_a_revoked_name_is_not_reused_by_users_add(web: Web) -> None:
    code, _, _ = web.cli("users", "revoke", "audrey")
    assert code == 0
    code, out, err = web.cli("users", "add", "audrey", "--role", "manager")
    assert code == 1
    assert "users reissue audrey" in out + err
    listed = json.loads(web.cli("users", "list", "--json")[1])
    audrey = next(u for u in listed if u["name"] == "audrey")
    assert audrey["role"] == "auditor", "the refused add changed nothing"
    assert audrey["revoked_at"], "the revoked user is listed with the time of revocation"


def test_a_session_of_a_revoked_user_stays_dead_after_the_name_is_reissued(web: Web) -> None:
    browser = logged_in(web, "audrey")
    stolen = copy_of(web, browser)
    assert on_page(stolen)
    assert web.cli("users", "revoke", "audrey")[0] == 0
    assert not on_page(stolen)
    code, new_token, _ = web.cli("users", "reissue", "audrey")
    assert code == 0
    for client in (browser, stolen):
        assert not on_page(client), "the old session came back to life"
    fresh = web.browser()
    log_in(fresh, new_token.strip())
    assert on_page(fresh), "the new token opens a new session"


class Recorder:
    """Stands in for a module's structlog logger: keeps each event and its fields."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, object]]] = []

    def __getattr__(self, level: str) -> Callable[..., None]:
        return lambda event, **fields: self.lines.append((event, fields))


def test_reissuing_a_token_ends_every_session_it_opened(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = logged_in(web, "broker-bas"), logged_in(web, "broker-bas")
    others = logged_in(web, "broker-anna")
    old = web.tokens["broker-bas"]
    logged = Recorder()
    monkeypatch.setattr(users, "log", logged)  # no global logging set-up to disturb
    new = reissue_user(engine_of(first), "broker-bas")
    assert not on_page(first)
    assert not on_page(second)
    assert on_page(others), "another user's session is untouched"
    assert first.get("/api/pipeline", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    assert first.get("/api/pipeline", headers={"Authorization": f"Bearer {new}"}).status_code == 200
    said = next(fields for event, fields in logged.lines if event == "token reissued")
    assert said["user"] == "broker-bas"
    assert said["sessions_ended"] == 2
    for token in (old, new):
        assert token.removeprefix("kl_")[:12] not in repr(logged.lines)


def test_users_reissue_on_the_cli_prints_the_new_token_once(web: Web) -> None:
    browser = logged_in(web, "broker-anna")
    code, out, err = web.cli("users", "reissue", "broker-anna")
    assert code == 0
    token = out.strip()
    assert token.startswith("kl_")
    assert "sessions" in err
    assert not on_page(browser)
    assert web.cli("users", "reissue", "nobody")[0] == 1


def test_revoking_a_user_ends_every_session_whatever_opened_it(web: Web) -> None:
    browser = logged_in(web, "broker-anna")
    engine = engine_of(browser)
    open_session(engine, "broker-anna", "oidc:some-link", now=web.clock())  # single sign-on
    open_session(engine, "broker-bas", "oidc:another-link", now=web.clock())
    revoke_user(engine, "broker-anna")
    with Session(engine) as db:
        left = db.exec(select(SessionRow.user_name)).all()
    assert left == ["broker-bas"]
    assert not on_page(browser)


def test_a_session_opened_while_its_token_was_revoked_does_not_count(web: Web) -> None:
    """A login that checked the token just before a revoke committed, and opens its session
    just after, gets a session bound to a credential that is no longer in force."""
    engine = engine_of(web.browser())
    for name, undo in (("broker-bas", reissue_user), ("broker-anna", revoke_user)):
        user = active_user(engine, name)
        assert user is not None
        checked = credential_id(user)  # the login checked the token ...
        undo(engine, name)  # ... the operator reissued or revoked it ...
        late = open_session(engine, name, checked, now=web.clock())  # ... then it opened
        assert session_for(engine, late, now=web.clock()) is None, name


# -- logout, timeouts --------------------------------------------------------------------


def test_logging_out_kills_a_copied_cookie(web: Web) -> None:
    browser = logged_in(web, "board-secretariat")
    stolen = copy_of(web, browser)
    assert on_page(stolen)
    csrf = csrf_of(browser.get("/pipeline").text)
    assert (
        browser.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code
        == 303
    )
    assert not on_page(browser)
    assert not on_page(stolen), "the copied cookie still opened the session after logout"


def test_a_session_ends_after_the_idle_timeout(web: Web) -> None:
    browser = logged_in(web, "audrey")
    for _ in range(4):  # active every 29 minutes: two hours and more
        web.clock.advance(minutes=29)
        assert on_page(browser)
    web.clock.advance(minutes=30, seconds=1)
    assert not on_page(browser)
    web.clock.advance(minutes=-31)  # the clock going back does not bring it back
    assert not on_page(browser)


def test_a_session_ends_after_eight_hours_however_busy(web: Web) -> None:
    browser = logged_in(web, "audrey")
    for _ in range(23):  # 7 h 40 min, never idle
        web.clock.advance(minutes=20)
        assert on_page(browser)
    web.clock.advance(minutes=20)
    assert not on_page(browser)
    log_in(browser, web.tokens["audrey"])
    assert on_page(browser), "logging in again opens a new session"


# -- what the cookie and the store hold --------------------------------------------------


def test_the_cookie_holds_only_a_random_id_and_the_store_only_its_hash(web: Web) -> None:
    browsers = [logged_in(web, user) for user in web.tokens]
    ids = [b.cookies[COOKIE] for b in browsers]
    assert len(set(ids)) == len(ids)
    for session_id in ids:
        assert len(session_id) >= 43, "at least 256 bits"
        payload = session_id.split(".")[0]  # a signed cookie would carry data before a dot
        decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        assert not any(user.encode() in decoded for user in web.tokens), "no user in it"
    values = every_value(web.home / "read.sqlite") + every_value(web.home / "events.sqlite")
    for session_id in ids:
        assert hashlib.sha256(session_id.encode()).hexdigest() in values
        assert not any(session_id[:16] in value for value in values)
        for path in (p for p in web.home.rglob("*") if p.is_file()):
            assert session_id[:16].encode() not in path.read_bytes(), path.name


def test_the_csrf_token_belongs_to_the_session(web: Web) -> None:
    mine, theirs = logged_in(web, "broker-bas"), logged_in(web, "broker-bas")
    theirs_csrf = csrf_of(theirs.get("/pipeline").text)
    answer = mine.post("/logout", data={"csrf_token": theirs_csrf}, follow_redirects=False)
    assert answer.status_code == 403
    assert on_page(mine)
    assert csrf_of(mine.get("/pipeline").text) != theirs_csrf


def test_a_session_opened_by_one_worker_is_known_to_another(web: Web) -> None:
    browser = logged_in(web, "broker-anna")
    other_worker = copy_of(web, browser)  # a different app: state is in the database
    assert on_page(other_worker)
    csrf = csrf_of(other_worker.get("/pipeline").text)
    other_worker.post("/logout", data={"csrf_token": csrf})
    assert not on_page(browser)


def test_sessions_survive_a_rebuild_of_the_read_models(web: Web) -> None:
    browser = logged_in(web, "audrey")
    settings = Settings(home=web.home)
    engine, reads = open_engine(settings), open_read_store(settings)
    Runner(engine, reads).rebuild()
    engine.close()
    reads.close()
    assert on_page(browser)


def test_a_request_holds_one_connection_at_a_time_so_a_busy_pool_cannot_starve_it(
    tmp_path: Path,
) -> None:
    """Under 50 concurrent page requests every thread held a connection while the session's
    credential check waited for a second one: the pool (15) ran dry and requests failed
    after 30 s. With a pool of one connection and no wait, a session is still found, touched
    and ended."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import QueuePool

    from adapters.accounts import sessions

    engine = create_engine(
        f"sqlite:///{tmp_path / 'accounts.sqlite'}",
        poolclass=QueuePool,
        pool_size=1,
        max_overflow=0,
        pool_timeout=0.5,
    )
    users.create_table(engine)
    sessions.create_table(engine)
    users.add_user(engine, "anna", users.Role.BROKER)
    user = active_user(engine, "anna")
    assert user is not None
    opened = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    session_id = open_session(engine, "anna", credential_id(user), now=opened)
    later = opened + timedelta(minutes=5)  # past TOUCH_EVERY: the visit is written
    found = session_for(engine, session_id, now=later)
    assert found is not None
    assert found.user_name == "anna"
    with Session(engine) as db:
        stored = db.get(SessionRow, sessions._hash(session_id))
        assert stored is not None
        assert stored.last_seen_at.replace(tzinfo=UTC) == later
    revoke_user(engine, "anna")
    assert session_for(engine, session_id, now=later) is None  # its credential no longer holds
    with Session(engine) as db:
        assert db.get(SessionRow, sessions._hash(session_id)) is None
