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
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from adapters.api.auth import MAY_RUN, Principal, refused
from adapters.api.commands import run_command
from adapters.api.conditional import POSITION_COOKIE
from adapters.api.problems import status_for
from adapters.api.web.forms import field_of, field_problems, parse_form
from adapters.api.web.pages.common import backend, page_translator, render
from adapters.api.web.session import csrf_ok, set_cookie
from adapters.i18n import Translator
from domain.commands.base import Command
from domain.commands.catalogue import CATALOGUE
from domain.errors import KringloopError, localise
from domain.messages import N_

POSITION_KEPT = 60  # seconds: the next page, whichever worker answers, shows the decision
FORM_EXPIRED = N_("The form has expired: reload the page and try again.")
NO_SUCH_STEP = N_("There is no step {command} here.")
NOT_YOUR_ROLE = N_("Your role ({role}) may not take the step {command}.")


@dataclasses.dataclass(frozen=True)
class Refusal:
    """A decision the record did not take, for the page to show next to its form."""

    command: str
    message: str  # in the page's language
    status: int
    # the values as submitted, to refill the form
    values: dict[str, str] = dataclasses.field(default_factory=dict)
    # each form field the refusal concerns, in the form's order, and what is wrong with it
    # (in the page's language): shown under the field and linked from the form's summary
    errors: dict[str, str] = dataclasses.field(default_factory=dict)
    # the problems of no field the form shows (a rule between fields), when ``errors``
    # holds the rest; otherwise ``message`` says it all
    others: list[str] = dataclasses.field(default_factory=list)
    # each text in ``errors`` names its field (the form's summary then adds no label)
    labelled: bool = False

    @property
    def field(self) -> str | None:
        """The first form field the refusal concerns, when it concerns one."""
        return next(iter(self.errors), None)


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
        fields = {**parse_form(cls, form, t.lang), **fixed}
        _, position = await run_in_threadpool(run_command, backend(request), who, cls, fields, None)
    except KringloopError as error:
        return _refusal(t, cls, error, values)
    set_cookie(request, POSITION_COOKIE, str(position), POSITION_KEPT)
    return None


def _refusal(
    t: Translator, cls: type[Command], error: KringloopError, values: dict[str, str]
) -> Refusal:
    """The refusal for the page: each field's problem in the page's words when the model
    refused the fields (``forms.field_problems``), else the refusal's message, attached to
    the field it names (``forms.field_of``) when the form shows it."""
    by_field, others = field_problems(cls, error)
    if by_field:
        errors = {name: localise(problem, t) for name, problem in by_field.items()}
        rest = [localise(problem, t) for problem in others]
        message = " ".join([*errors.values(), *rest])
        return Refusal(cls.command, message, status_for(error), values, errors, rest, True)
    message = t.message(error)
    named = _field_of(cls, error)
    errors = {named: message} if named else {}
    return Refusal(cls.command, message, status_for(error), values, errors)


def submitted(form: FormData) -> dict[str, str]:
    """The form's text fields; a field sent more than once (the checkboxes of a list, such as
    a meeting's attendees) is its values, one a line, as a list field is typed."""
    values: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if isinstance(value, str):
            values.setdefault(name, []).append(value)
    return {name: "\n".join(found) for name, found in values.items()}


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
