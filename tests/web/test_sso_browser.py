"""Single sign-on in Chromium, end to end: the login page's "Log in with …" button, the
real OpenID provider's login form (tests/oidc/provider.mjs), and back on /pipeline as the
Kringloop user a manager linked the subject to; a subject nobody linked sees a clear page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.accounts.oidc_links import link_subject
from adapters.settings import Settings
from adapters.store import open_read_store
from tests.oidc.harness import (
    CALLBACK,
    SUBSTANTIAL,
    OidcProvider,
    free_port,
    oidc_provider,  # noqa: F401  (the session's provider)
    serving,
    sso_settings,
)
from tests.web.conftest import screenshot

pytestmark = pytest.mark.slow


@pytest.fixture
def sso_site(
    loaded_home: tuple[Path, dict[str, str]],
    oidc_provider: OidcProvider,  # noqa: F811
) -> Iterator[str]:
    """The app on a loopback port, registered at the provider, bas's subject linked."""
    home, _ = loaded_home
    port = free_port()
    client = oidc_provider.register(f"http://127.0.0.1:{port}{CALLBACK}")
    reads = open_read_store(Settings(home=home))
    link_subject(reads.engine, "broker-bas", oidc_provider.issuer, "bas@gemeente.example")
    reads.close()
    settings = sso_settings(home, oidc_provider, client, oidc_acr_values=SUBSTANTIAL)
    with serving(settings, port) as base:
        yield base


def log_in_at_provider(page: Any, base: str, subject: str) -> None:
    page.goto(f"{base}/login?next=/pipeline")
    page.click("#sso")  # "Log in with Test provider"
    page.wait_for_selector("#subject")  # the provider's own login form
    page.fill("#subject", subject)
    page.click("#sign-in")


def test_a_linked_subject_logs_in_through_the_provider_and_lands_on_the_pipeline(
    page: Any, sso_site: str
) -> None:
    page.goto(f"{sso_site}/login")
    assert page.inner_text("#sso") == "Log in with Test provider"
    log_in_at_provider(page, sso_site, "bas@gemeente.example")
    page.wait_for_url(f"{sso_site}/pipeline")
    assert "broker-bas" in page.inner_text(".who")
    screenshot(page, "sso-pipeline")
    page.click(".logout button")
    page.wait_for_url(f"{sso_site}/login")


def test_an_unlinked_subject_sees_a_clear_page_and_no_account(page: Any, sso_site: str) -> None:
    log_in_at_provider(page, sso_site, "someone-else@gemeente.example")
    page.wait_for_selector("h1:text('Not linked to Kringloop')")
    assert "no Kringloop user is linked to your account" in page.inner_text("main")
    assert page.inner_text("#sso-subject") == "someone-else@gemeente.example"
    screenshot(page, "sso-unlinked")
    page.goto(f"{sso_site}/pipeline")
    assert "/login" in page.url
