"""One way for every page to run a catalogue command from a submitted form.

``decide_from_form`` reads the form, checks its CSRF token, that the command exists, belongs
to one of the page's groups and that the person's role may run it; turns the strings into the
command's fields (``forms.parse_form``), adds the fields the page fixes (the organisation, the
community, the initiative in the URL), and runs the command as the person in the threadpool.
It returns ``None`` when the decision was taken (the route then redirects, 303, to its page
with ``?done=<command>``) or a ``Refusal``: the reason in the page's language, the field it
concerns when it concerns one, the status code, and the values submitted to refill the form.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from adapters.api.auth import Principal, refused
from adapters.api.commands import run_command
from adapters.api.problems import status_for
from adapters.api.web.forms import form_fields, parse_form
from adapters.api.web.pages.common import backend, page_translator
from adapters.api.web.session import csrf_ok
from domain.commands.base import Command
from domain.commands.catalogue import CATALOGUE
from domain.errors import KringloopError
from domain.messages import N_

FORM_EXPIRED = N_("The form has expired: reload the page and try again.")
NO_SUCH_STEP = N_("There is no step {command} here.")
NOT_YOUR_ROLE = N_("Your role ({role}) may not take the step {command}.")


@dataclasses.dataclass(frozen=True)
class Refusal:
    """A decision the record did not take, for the page to show next to its form."""

    command: str
    message: str  # in the page's language
    status: int
    field: str | None = None  # the form field the refusal concerns, when it concerns one
    # the values as submitted, to refill the form
    values: dict[str, str] = dataclasses.field(default_factory=dict)


async def decide_from_form(
    request: Request,
    who: Principal,
    command: str,
    groups: set[str],
    fixed: dict[str, Any],
) -> Refusal | None:
    """Run ``command`` from the submitted form as ``who`` (see the module's doc)."""
    t = page_translator(request, who)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    values = {k: v for k, v in form.items() if k != "csrf_token"}
    if not csrf_ok(request, form.get("csrf_token")):
        return Refusal(command, t.gettext(FORM_EXPIRED), 403, values=values)
    cls = CATALOGUE.get(command)
    if cls is None or cls.group not in groups:
        message = t.gettext(NO_SUCH_STEP).format(command=command)
        return Refusal(command, message, 404, values=values)
    if not who.may_run(cls):
        refused(request, 403, f"role {who.role.value} may not run {command}", who.name)
        message = t.gettext(NOT_YOUR_ROLE).format(
            role=t.term("role", who.role.value), command=t.term("command", command)
        )
        return Refusal(command, message, 403, values=values)
    try:
        fields = {**parse_form(cls, form), **fixed}
        await run_in_threadpool(run_command, backend(request), who, cls, fields, None)
    except KringloopError as error:
        return Refusal(
            command,
            t.message(error),
            status_for(error),
            field=_field_of(cls, error),
            values=values,
        )
    return None


def _field_of(cls: type[Command], error: KringloopError) -> str | None:
    """The form field an invalid command names first (from the model's validation), if
    the page shows that field."""
    cause = error.__cause__ or error.__context__
    if not isinstance(cause, ValidationError):
        return None
    shown = {f.name for f in form_fields(cls)}
    for item in cause.errors():
        if item["loc"] and str(item["loc"][0]) in shown:
            return str(item["loc"][0])
    return None
