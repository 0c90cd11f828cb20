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
import re
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from adapters.api.auth import MAY_RUN, Principal, refused
from adapters.api.commands import run_command
from adapters.api.problems import status_for
from adapters.api.web.forms import field_of, parse_form
from adapters.api.web.pages.common import backend, page_translator, render
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
    form = submitted(await request.form())
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


def submitted(form: FormData) -> dict[str, str]:
    """The form's text fields; a field sent more than once (the checkboxes of a list, such as
    a meeting's attendees) is its values, one a line, as a list field is typed."""
    values: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if isinstance(value, str):
            values.setdefault(name, []).append(value)
    return {name: "\n".join(found) for name, found in values.items()}


def figure(text: str, lang: str) -> str:
    """A figure as a person types it, in the page's language's way or plainly: Dutch
    ``1.500.000,50`` or English ``1,500,000.50``, or ``1500000.5``; returned for the command
    model to validate (a text that is no figure stays as it was, and is refused there)."""
    plain = text.strip().replace(" ", "").replace("\u00a0", "").removeprefix("€")
    thousands, decimal = (".", ",") if lang != "en" else (",", ".")
    grouped = rf"^\d{{1,3}}(\{thousands}\d{{3}})+(\{decimal}\d+)?$"
    if re.match(grouped, plain):
        plain = plain.replace(thousands, "")
    if decimal == "," and plain.count(",") == 1 and "." not in plain:
        plain = plain.replace(",", ".")
    return plain


def _field_of(cls: type[Command], error: KringloopError) -> str | None:
    """The form field a refusal concerns, if the page shows that field (forms.field_of)."""
    return field_of(cls, error)


def role_refusal(
    request: Request, who: Principal, command: str, groups: set[str]
) -> Response | None:
    """The 403 page when no form of ``groups`` is the user's to send, before anything is
    looked up (a page's record is not told to whom may not act on it); None otherwise."""
    if any(group in MAY_RUN[who.role] for group in groups):
        return None
    refused(request, 403, f"role {who.role.value} may not run {command}", who.name)
    t = page_translator(request, who)
    message = t.gettext(NOT_YOUR_ROLE).format(
        role=t.term("role", who.role.value), command=t.term("command", command)
    )
    return render(request, "error.html", who, 403, message=message)
