"""Forms generated from the command models: fields from each command's JSON Schema, and
the submitted strings turned back into the command's fields.

A field's ``label`` and ``help`` are English message ids (marked ``N_`` in the tables below,
so ``make catalogues`` extracts them): a page shows ``_(field.label)``. A select's options
are slugs of an enum; ``term`` names the glossary kind their words come from (``|term``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from adapters.commanding import read_json
from domain.commands.base import Command
from domain.errors import InvalidCommandError, Message
from domain.messages import N_

HIDDEN = {"actor", "recorded_by", "command_id", "initiative_id"}
DECISION = {"reason", "evidence", "effective"}
"""The fields every decision has: a form shows them after the step's own."""

LABELS: dict[str, str] = {
    "reason": N_("Reason"),
    "evidence": N_("Evidence"),
    "effective": N_("Takes effect on"),
    "authority_id": N_("Authority register"),
    "archive_id": N_("Archive"),
    "request": N_("Request (a case or letter number)"),
    "kinds": N_("Kinds of decision published"),
    "rows": N_("Retention table"),
    "entries": N_("Records on the list"),
    "manager": N_("First manager"),
    "identity": N_("Identity"),
    "role": N_("Role"),
    "organisation": N_("Organisation"),
    "programme_id": N_("Programme"),
    "name": N_("Name"),
    "region": N_("Region"),
    "members": N_("Member organisations"),
    "demonstration": N_("Demonstration data"),
    "organisation_kind": N_("Kind of organisation"),
    "phase": N_("Phase"),
    "phase_status": N_("Phase status"),
    "approved_by": N_("Approved by"),
    "key": N_("Key"),
    "description": N_("Description"),
    "unit": N_("Unit"),
    "baseline": N_("Baseline"),
    "target": N_("Target"),
    "deadline": N_("Deadline"),
    "source": N_("Source"),
    "measure": N_("Measure"),
    "include_procurement_trajectories": N_("Count joint procurement trajectories"),
    "value": N_("Value"),
    "stream": N_("Stream"),
    "parent": N_("Parent stream"),
    "min_months_operating": N_("Minimum months operating"),
    "min_tonnes_per_year": N_("Minimum tonnes per year"),
    "min_jobs_fte": N_("Minimum jobs (FTE)"),
    "no_open_risks": N_("No open risks"),
    "broker": N_("Transition broker"),
    "streams": N_("Streams"),
    "title": N_("Title"),
    "option": N_("Option"),
    "circularity_level": N_("R-level"),
    "expert": N_("Expert"),
    "chosen_options": N_("Chosen options"),
    "company": N_("Company"),
    "willing_to_invest": N_("Willing to invest"),
    "willing_to_lead": N_("Willing to lead a consortium"),
    "stated_preconditions": N_("Stated preconditions"),
    "lead": N_("Lead entrepreneur"),
    "precondition": N_("Precondition"),
    "kind": N_("Kind"),
    "responsible": N_("Responsible"),
    "due": N_("Due"),
    "target_value": N_("Target value"),
    "target_unit": N_("Target unit"),
    "arrangement_type": N_("Kind of arrangement"),
    "shares": N_("Cost and benefit shares"),
    "operating_from": N_("Operating from"),
    "handover_note": N_("Handover note"),
    "ready": N_("Ready to scale up"),
    "at_risk": N_("At risk"),
    "criteria": N_("Criteria"),
    "figures": N_("Figures"),
    "level": N_("Level"),
    "period": N_("Year"),
    "jobs_fte": N_("New jobs (FTE)"),
    "companies_started": N_("Companies started"),
    "tonnes_processed_per_year": N_("Tonnes processed per year"),
    "raw_material_import_avoided_t": N_("Raw-material imports avoided (t)"),
    "environmental_pressure_reduction_t_co2e": N_("Environmental pressure reduced (t CO2e)"),
    "concern": N_("Concern"),
    "subject": N_("Subject"),
    "to_stage": N_("Back to stage"),
    "corrects": N_("Decision to correct"),
    "corrected_reason": N_("Corrected reason"),
    "corrected_evidence": N_("Corrected evidence"),
    "commitment_id": N_("Commitment"),
    "path": N_("Path"),
    "category": N_("Category"),
    "year": N_("Year"),
    "total_spend_eur": N_("Total spend (EUR)"),
    "circular_spend_eur": N_("Circular spend (EUR)"),
    "investment_eur": N_("Investment (EUR)"),
    "community_id": N_("Community of practice"),
    "moderator": N_("Moderator"),
    "meeting": N_("Meeting number"),
    "attendees": N_("Attendees"),
    "topic": N_("Topic"),
    "trajectory": N_("Trajectory"),
    "participants": N_("Participants"),
    "invested_eur": N_("Invested (EUR)"),
}
"""The label of each field, by its name (the same name means the same thing in every
command); a field missing here shows its name with spaces (a test keeps this complete)."""

HELP: dict[str, str] = {
    "reason": N_("Why: the decision's justification, in words an auditor reads."),
    "evidence": N_("References to documents, hashes or web addresses, one per line."),
    "effective": N_("The day the decision took effect (empty: today)."),
    "manager": N_("The first manager, who grants every other role."),
    "identity": N_("Who receives the role (the id they decide as)."),
    "programme_id": N_("Lower-case letters, digits and hyphens, at most 63 characters."),
    "members": N_("One per line."),
    "demonstration": N_("The programme holds demonstration data: every view says so."),
    "phase": N_("1 draw up, 2 build, 3 scale up, 4 mainstream."),
    "key": N_("Lower-case letters, digits and hyphens, at most 63 characters."),
    "include_procurement_trajectories": N_(
        "Count joint procurement trajectories beside formed consortia (the programme's own "
        "decision; the views then say so)."
    ),
    "stream": N_("Lower-case letters, digits and hyphens, at most 63 characters."),
    "parent": N_("Lower-case letters, digits and hyphens, at most 63 characters."),
    "min_months_operating": N_("Counted from the board's withdrawal."),
    "min_tonnes_per_year": N_("From the latest yearly impact report."),
    "no_open_risks": N_("Not stalled, no escalation, no failed precondition."),
    "streams": N_("One per line."),
    "option": N_("Lower-case letters, digits and hyphens, at most 63 characters."),
    "circularity_level": N_("The R-ladder: R0 refuse ... R9 recover energy."),
    "chosen_options": N_("The options chosen, one per line."),
    "stated_preconditions": N_("The preconditions the company stated, one per line."),
    "precondition": N_("Lower-case letters, digits and hyphens, at most 63 characters."),
    "responsible": N_("The party responsible for meeting it."),
    "target_value": N_("For example 50000."),
    "target_unit": N_("For example t/yr."),
    "arrangement_type": N_("For example joint venture, offtake contract, gain share."),
    "shares": N_(
        "Each member's share of the costs and of the benefits, in percent; each adds up to "
        'a hundred. JSON, for example [{"party": "GrassFibre BV", "cost_share": 50, '
        '"benefit_share": 50}, ...].'
    ),
    "operating_from": N_(
        "The day the consortium starts (or started) operating, from which phase 3 counts its "
        "months (empty: the day it is formed)."
    ),
    "figures": N_('The figures the assessment weighed, by name; JSON, for example {"tonnes": 5}.'),
    "period": N_("The year reported on."),
    "subject": N_("The precondition, or what the stall waits for."),
    "corrects": N_("The id of the decision to correct (shown in the timeline)."),
    "corrected_evidence": N_("The evidence as it should have been recorded (all of it)."),
    "commitment_id": N_("Usually the organisation's id."),
    "path": N_(
        "The circular share of spend (percent) by each year; a last step without a year is "
        "the open goal. JSON."
    ),
    "approved_by": N_("One per line."),
    "attendees": N_("One per line."),
    "participants": N_("One per line."),
    "topic": N_("What the meeting was about."),
}
"""The help under a field, by its name (shown when there is one)."""

TERMS: dict[str, str] = {
    "AuthorityRole": "role",
    "OrganisationKind": "organisation_kind",
    "PhaseStatus": "phase_status",
    "Measure": "measure",
    "CircularityLevel": "level",
    "PreconditionKind": "precondition_kind",
    "Role": "consortium_role",
    "ScaleLevel": "scale_level",
    "Stage": "stage",
}
"""The glossary kind of each enum a field takes (its name in the JSON Schema)."""
FIELD_TERMS = {"concern": "concern"}
"""The glossary kind of a field whose values are listed in place (a ``Literal``)."""
NOT_JSON = N_("{label}: not valid JSON ({why})")


@dataclass(frozen=True)
class FormField:
    name: str
    label: str  # an English message id: show _(label)
    kind: str  # text, textarea, lines, json, number, integer, date, checkbox, select
    required: bool
    help: str = ""  # an English message id, or ""
    options: list[str] = field(default_factory=list)
    term: str | None = None  # the glossary kind of the options' words, for a select
    # the words of each option that is a record's (a precondition, a decision), by its id:
    # record data, shown as it is; the page fills them in (a select of this record's)
    names: dict[str, str] = field(default_factory=dict)


class FieldError(InvalidCommandError):
    """A submitted value the form could not read, naming its field."""

    def __init__(self, message_id: str, /, field: str, **params: Any) -> None:
        super().__init__(message_id, **params)
        self.field = field


@cache  # a command's schema does not change while the server runs
def form_fields(cls: type[Command]) -> list[FormField]:
    schema = cls.model_json_schema()
    required = set(schema.get("required", []))
    fields = []
    for name, prop in schema["properties"].items():
        if name in HIDDEN:
            continue
        enum = _enum_name(prop)
        prop = _resolve(schema, prop)
        kind, options = _kind(schema, name, prop)
        fields.append(
            FormField(
                name=name,
                label=LABELS.get(name, name.replace("_", " ")),
                kind=kind,
                required=name in required,
                help=HELP.get(name, ""),
                options=options,
                term=(TERMS.get(enum or "") or FIELD_TERMS.get(name)) if options else None,
            )
        )
    return sorted(fields, key=lambda f: f.name in DECISION)  # the step's own fields first


def _enum_name(prop: dict[str, Any]) -> str | None:
    refs = [prop.get("$ref")] + [p.get("$ref") for p in prop.get("anyOf", [])]
    found = [str(r).rsplit("/", 1)[-1] for r in refs if r]
    return found[0] if found else None


def _resolve(schema: dict[str, Any], prop: dict[str, Any]) -> dict[str, Any]:
    if "anyOf" in prop:
        choices = [p for p in prop["anyOf"] if p.get("type") != "null"]
        if len(choices) == 1:
            prop = {**prop, **choices[0]}
    if "$ref" in prop:
        ref = prop["$ref"].rsplit("/", 1)[-1]
        prop = {**prop, **schema.get("$defs", {}).get(ref, {})}
    return prop


def _kind(schema: dict[str, Any], name: str, prop: dict[str, Any]) -> tuple[str, list[str]]:
    kind = prop.get("type")
    if "enum" in prop:
        return "select", [str(v) for v in prop["enum"]]
    if kind == "boolean":
        return "checkbox", []
    if kind in ("integer", "number"):
        return str(kind), []
    if kind == "string" and prop.get("format") == "date":
        return "date", []
    if kind == "array" and _resolve(schema, prop.get("items", {})).get("type") == "string":
        return "lines", []
    if kind == "string":
        return ("textarea" if name in ("reason", "description", "handover_note") else "text"), []
    return "json", []


def parse_form(cls: type[Command], form: dict[str, str], lang: str = "nl") -> dict[str, Any]:
    """The command's fields from the submitted strings; the command model validates them.
    A figure is read the page's language's way or the English way (``figure``: "12,5" is
    12.5 in Dutch), a day as the browser sends it or as a Dutch person types it
    ("31-12-2027"); what is no figure or day is passed on as typed, for the model to refuse
    naming its field. A field that takes JSON and holds none is refused here, naming the
    field (``FieldError``)."""
    values: dict[str, Any] = {}
    for f in form_fields(cls):
        raw = form.get(f.name, "")
        if f.kind == "checkbox":  # shown, so an unticked box says no (the browser sends none)
            values[f.name] = bool(raw)
            continue
        raw = raw.strip()
        if not raw:
            continue
        if f.kind == "lines":
            values[f.name] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif f.kind == "json":
            values[f.name] = _json(f, raw)
        elif f.kind in ("number", "integer"):
            values[f.name] = figure(raw, lang)
        elif f.kind == "date":
            values[f.name] = _day(raw)
        else:
            values[f.name] = raw
    return values


def figure(text: str, lang: str) -> str:
    """A figure as a person types it, in the page's language's way or plainly: Dutch
    ``1.500.000,50`` or English ``1,500,000.50``, or ``1500000.5``; returned for the command
    model to validate (a text that is no figure stays as it was, and is refused there)."""
    plain = text.strip().replace(" ", "").replace("\u00a0", "").removeprefix("€")
    thousands, decimal = (".", ",") if lang != "en" else (",", ".")
    grouped = rf"^-?\d{{1,3}}(\{thousands}\d{{3}})+(\{decimal}\d+)?$"
    if re.match(grouped, plain):
        plain = plain.replace(thousands, "")
    if decimal == "," and plain.count(",") == 1 and "." not in plain:
        plain = plain.replace(",", ".")
    return plain


_DUTCH_DAY = re.compile(r"(\d{1,2})-(\d{1,2})-(\d{4})")


def _day(text: str) -> str:
    """A day typed day-month-year ("31-12-2027", where the browser offers no date picker)
    as the model reads it (2027-12-31); anything else as typed."""
    found = _DUTCH_DAY.fullmatch(text)
    if found is None:
        return text
    day, month, year = found.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}"


def _json(f: FormField, raw: str) -> Any:
    try:
        return read_json(raw, f.name)
    except InvalidCommandError as error:  # "name (why)": the why in the parser's words
        why = str(error).removeprefix(f.name).strip(" ()")
        raise FieldError(NOT_JSON, field=f.name, label=Message(f.label), why=why) from None


def field_of(cls: type[Command], error: BaseException) -> str | None:
    """The form field a refusal concerns, when it names one the form shows: a value the
    form could not read (``FieldError``), the first field the model's validation refused,
    or a field the refusal's message names as a parameter (``precondition`` in "cannot
    fulfil precondition '{precondition}'": the record has no such precondition)."""
    from pydantic import ValidationError

    shown = {f.name for f in form_fields(cls)}
    named = getattr(error, "field", None)
    if isinstance(named, str) and named in shown:
        return named
    cause = error.__cause__ or error.__context__
    if isinstance(cause, ValidationError):
        for item in cause.errors():
            if item["loc"] and str(item["loc"][0]) in shown:
                return str(item["loc"][0])
    texts: list[Any] = [error]
    while texts:  # the refusal's parameters, then those of the texts it holds, in turn
        params = getattr(texts.pop(0), "params", None) or {}
        for name, value in params.items():
            if name in shown:
                return str(name)
            texts.append(value)
    return None


FILL_IN = N_("Fill in {field}.")
TOO_LONG = N_("{field}: use at most {max_length} characters.")
SLUG = N_("{field}: use lower-case letters, digits and hyphens only, at most 63 characters.")
NOT_IN_FORM = N_("{field}: not in the expected form.")
WHOLE_NUMBER = N_("{field}: enter a whole number, for example 12.")
NUMBER = N_("{field}: enter a number, for example 12.5.")
GREATER_THAN = N_("{field}: enter a number greater than {limit}.")
AT_LEAST = N_("{field}: enter a number of at least {limit}.")
LESS_THAN = N_("{field}: enter a number less than {limit}.")
AT_MOST = N_("{field}: enter a number of at most {limit}.")
DATE = N_("{field}: enter a date, for example 31-12-2027.")
CHOOSE = N_("{field}: choose one of the options.")
YES_OR_NO = N_("{field}: choose yes or no.")
TOO_MANY = N_("{field}: at most {max_length} items.")
NOT_A_FIELD = N_("{field} is not a field of this step.")
JSON = N_("{field}: not valid JSON.")
PROBLEM = N_("{field}: {problem}")
PROBLEM_AT = N_("{field} ({where}): {problem}")

_WORDING: dict[str, str] = {
    "missing": FILL_IN,
    "string_too_long": TOO_LONG,
    "int_parsing": WHOLE_NUMBER,
    "int_from_float": WHOLE_NUMBER,
    "int_type": WHOLE_NUMBER,
    "float_parsing": NUMBER,
    "float_type": NUMBER,
    "decimal_parsing": NUMBER,
    "decimal_type": NUMBER,
    "finite_number": NUMBER,
    "greater_than": GREATER_THAN,
    "greater_than_equal": AT_LEAST,
    "less_than": LESS_THAN,
    "less_than_equal": AT_MOST,
    "date_parsing": DATE,
    "date_from_datetime_parsing": DATE,
    "date_from_datetime_inexact": DATE,
    "date_type": DATE,
    "enum": CHOOSE,
    "literal_error": CHOOSE,
    "bool_parsing": YES_OR_NO,
    "bool_type": YES_OR_NO,
    "too_long": TOO_MANY,
    "extra_forbidden": NOT_A_FIELD,
    "json_invalid": JSON,
    "json_type": JSON,
}
"""The message id of each kind of problem pydantic finds in a field (its ``type``)."""
_LIMITS = {
    "greater_than": "gt",
    "greater_than_equal": "ge",
    "less_than": "lt",
    "less_than_equal": "le",
}


def field_problems(
    cls: type[Command], error: BaseException
) -> tuple[dict[str, Message], list[Message]]:
    """The problems the command's model found in the submitted fields, each worded for a
    person (a message id with the field's label as a parameter): by the form field it
    concerns, the first problem of each, and those of no field the form shows (a rule
    between fields). Empty when the refusal was no validation of the fields."""
    shown = {f.name: f for f in form_fields(cls)}
    by_field: dict[str, Message] = {}
    others: list[Message] = []
    for item in getattr(error, "problems", ()):
        loc = tuple(item.get("loc", ()))
        name = str(loc[0]) if loc else ""
        f = shown.get(name)
        if f is None:
            others.append(Message(PROBLEM, field=Message(N_("The form")), problem=_said(item)))
        elif name not in by_field:
            by_field[name] = _worded(f, item, loc[1:])
    return {n: by_field[n] for n in shown if n in by_field}, others


def _worded(f: FormField, item: Mapping[str, Any], where: tuple[Any, ...]) -> Message:
    label = Message(f.label)
    kind = str(item.get("type", ""))
    ctx = item.get("ctx") or {}
    if where:  # inside a JSON field: a record's field
        at = ".".join(str(part) for part in where)
        return Message(PROBLEM_AT, field=label, where=at, problem=_said(item))
    if kind in ("missing", "string_too_short"):
        return Message(FILL_IN, field=label)
    if kind == "string_pattern_mismatch":
        return Message(
            SLUG if "a-z0-9" in str(ctx.get("pattern", "")) else NOT_IN_FORM, field=label
        )
    if f.kind == "date" and kind not in _WORDING:  # the programme's own check of a day
        return Message(DATE, field=label)
    wording = _WORDING.get(kind)
    if wording is None:
        return Message(PROBLEM, field=label, problem=_said(item))
    params: dict[str, Any] = {"field": label}
    if kind in _LIMITS:
        limit = ctx.get(_LIMITS[kind])
        params["limit"] = int(limit) if isinstance(limit, float) and limit.is_integer() else limit
    if "max_length" in wording:
        params["max_length"] = ctx.get("max_length")
    return Message(wording, **params)


def _said(item: Mapping[str, Any]) -> str:
    """Pydantic's (or the model's own) words for a problem, without its "Value error, "."""
    return str(item.get("msg", "")).removeprefix("Value error, ")
