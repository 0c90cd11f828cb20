"""Notifications: deliver what the outbox holds (every minute, and on demand), and queue the
programme office's weekly digest (Mondays, after the scheduled phase-3 check): once per
week, however often the flow runs."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from adapters.notifications.deliver import deliver, weekly_digest
from domain.engine import today_in_programme_tz
from flows import runtime
from flows.projection_catch_up import catch_up


@task(name="deliver the outbox", cache_policy=NO_CACHE)
def deliver_outbox(today: date) -> dict[str, Any]:
    done = deliver(runtime.engine(), runtime.read_store().engine, runtime.settings(), today)
    return done.as_dict()


@flow(name="deliver-notifications")
def deliver_notifications(today: date | None = None) -> dict[str, Any]:
    """Send every notification that is due: mails and webhooks, retried with back-off."""
    runtime.bind_run()
    catch_up()  # recipients and titles come from the read models
    result = deliver_outbox(today or today_in_programme_tz())
    runtime.log.info(
        "notifications delivered", **{k: v for k, v in result.items() if k != "errors"}
    )
    return result


@flow(name="weekly-digest")
def send_weekly_digest(programme_id: str, today: date | None = None) -> dict[str, Any]:
    """Queue the week's digest for the programme office (once per ISO week), then deliver."""
    runtime.bind_run()
    day = today or today_in_programme_tz()
    catch_up()
    notice = weekly_digest(runtime.engine(), runtime.read_store(), day, programme_id)
    result = deliver_outbox(day)
    return {"digest": notice.key if notice else None, **result}
