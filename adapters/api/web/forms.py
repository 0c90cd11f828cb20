"""Forms generated from the command models: fields from each command's JSON Schema, and
the submitted strings turned back into the command's fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from adapters.commanding import read_json
from domain.commands.base import Command

HIDDEN = {"actor", "recorded_by", "command_id", "initiative_id"}


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    kind: str  # text, textarea, lines, json, number, date, checkbox, select
    required: bool
    help: str = ""
    options: list[str] = field(default_factory=list)


@cache  # a command's schema does not change while the server runs
def form_fields(cls: type[Command]) -> list[FormField]:
    schema = cls.model_json_schema()
    required = set(schema.get("required", []))
    fields = []
    for name, prop in schema["properties"].items():
        if name in HIDDEN:
            continue
        prop = _resolve(schema, prop)
        kind, options = _kind(schema, name, prop)
        fields.append(
            FormField(
                name=name,
                label=name.replace("_", " "),
                kind=kind,
                required=name in required,
                help=str(prop.get("description", "")),
                options=options,
            )
        )
    return fields


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
        return "number", []
    if kind == "string" and prop.get("format") == "date":
        return "date", []
    if kind == "array" and _resolve(schema, prop.get("items", {})).get("type") == "string":
        return "lines", []
    if kind == "string":
        return ("textarea" if name in ("reason", "description", "handover_note") else "text"), []
    return "json", []


def parse_form(cls: type[Command], form: dict[str, str]) -> dict[str, Any]:
    """The command's fields from the submitted strings; the command model validates them."""
    values: dict[str, Any] = {}
    for f in form_fields(cls):
        raw = form.get(f.name, "")
        if f.kind == "checkbox":
            if raw or f.required:
                values[f.name] = bool(raw)
            continue
        raw = raw.strip()
        if not raw:
            continue
        if f.kind == "lines":
            values[f.name] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif f.kind == "json":
            values[f.name] = read_json(raw, f"{f.label}: not valid JSON")
        else:
            values[f.name] = raw
    return values
