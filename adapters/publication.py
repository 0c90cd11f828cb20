"""Active publication under the Woo (Wet open overheid): the programme's public decisions
and its progress, written to a folder as JSON, CSV (as Dutch Excel reads it) and an HTML
index, with DIWOO-style metadata, and a manifest signed with the audit signing key so
anyone holding the public key can check offline that the files are the programme's.

Which kinds of decision are published is the programme's own decision (``kringloop
programme set-publication``); until it takes one, ``PUBLIC`` applies. The manifest and the
index page say which applied: the decision (its command id and date) or the default.

Personal data is left out by construction: a published record is built from the fields
named in ``FIELDS`` only, never from who decided, who recorded, the authority, the
evidence or the event's details, whatever kinds are marked public (and the authority
register, whose decisions are about persons, can be marked by no programme). The reason
(``toelichting``) is published as written: keeping names out of it is its author's
responsibility.

Re-running adds only decisions not yet published: entries already in ``besluiten.json``
are kept exactly as they were published, ``gepubliceerd_op`` included. A kind withdrawn
from the public set adds no new decisions; those already published stay (under the Woo a
publication is not taken back by a later choice of what to publish)."""

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from adapters.audit.keys import parse_public, public_text, sign, signing_key, verify
from adapters.exports import to_csv
from adapters.tabular import Column, Table
from domain.programme import EVERY_DECISION, PUBLISHABLE

if TYPE_CHECKING:
    from projections.progress import TargetProgress
    from projections.queries import DecisionLogEntry
    from projections.store import ReadStore

FORMAT: Final = "kringloop-woo/1"
PUBLIC: Final = frozenset(
    {
        ("initiative", "ConsortiumFormed"),
        ("initiative", "BoardWithdrew"),
        ("programme", "*"),
    }
)
"""The decisions published until the programme decides which (``set-publication``): an
initiative's consortium formed and the Board's withdrawal, and every decision on the
programme itself (created, phases, targets set and measured, streams, mandates)."""

DECISION_CATEGORY: Final = "Overige besluiten van algemene strekking"
"""Woo article 3.3, first paragraph (b), as the DIWOO category lists name it."""
PROGRESS_CATEGORY: Final = "Jaarplannen en jaarverslagen"
"""Woo article 3.3, second paragraph (i): the account of carrying out the task."""

TITLES: Final = {
    "ConsortiumFormed": "Consortium gevormd",
    "BoardWithdrew": "Board trekt zich terug",
    "Created": "Programma ingesteld",
    "PhaseChanged": "Fase gewijzigd",
    "TargetSet": "Doel vastgesteld",
    "TargetMeasured": "Meting van een doel vastgelegd",
    "StreamRegistered": "Materiaalstroom geregistreerd",
    "MandateGranted": "Mandaat verleend",
    "MandateRevoked": "Mandaat ingetrokken",
    "MemberAdded": "Lid toegevoegd",
    "ScaleUpCriteriaSet": "Criteria voor opschaling vastgesteld",
    "DecisionCorrected": "Besluit gecorrigeerd",
    "PublicationSet": "Openbaar te maken besluiten vastgesteld",
    "Proposed": "Initiatief voorgesteld",
    "ExpertScanStarted": "Expertonderzoek gestart",
    "InnovativeOptionRecorded": "Innovatieve optie vastgelegd",
    "ExpertScanCompleted": "Expertonderzoek afgerond",
    "MarketConsultationOpened": "Marktconsultatie geopend",
    "ConsultationResponseRecorded": "Reactie op de marktconsultatie vastgelegd",
    "MarketConsultationClosed": "Marktconsultatie gesloten",
    "PreconditionRegistered": "Randvoorwaarde geregistreerd",
    "PreconditionFulfilled": "Randvoorwaarde vervuld",
    "PreconditionWaived": "Randvoorwaarde laten vallen",
    "PreconditionFailed": "Randvoorwaarde onhaalbaar",
    "ConsortiumMemberJoined": "Lid toegelaten tot het consortium",
    "FinancialArrangementAgreed": "Financieel arrangement vastgelegd",
    "FinancialArrangementNotNeeded": "Geen nieuw financieel arrangement nodig",
    "ScaleUpAssessed": "Opschaling beoordeeld",
    "ScaleUpStarted": "Opschaling gestart",
    "ScaleUpCompleted": "Opschaling afgerond",
    "ImpactReported": "Impact over een jaar gerapporteerd",
    "Escalated": "Geëscaleerd",
    "Stalled": "Stilgevallen",
    "Resumed": "Hervat",
    "Abandoned": "Stopgezet",
    "Reopened": "Heropend",
    "FellBack": "Teruggezet naar een eerdere fase",
    "Committed": "Toezegging circulair inkopen",
    "CategoryAdopted": "Inkoopcategorie overgenomen",
    "SpendReported": "Inkoopuitgaven gerapporteerd",
    "Founded": "Community of practice opgericht",
    "MemberJoined": "Aangesloten bij een community of practice",
    "MeetingHeld": "Bijeenkomst gehouden",
    "JointTrajectoryStarted": "Gezamenlijk inkooptraject gestart",
}
"""The decision in Dutch words, for the title; an event not named here is titled by its
step as the decision log words it."""

RECORDS: Final = {
    "programme": "het programma",
    "initiative": "een initiatief",
    "commitment": "een toezegging circulair inkopen",
    "community": "een community of practice",
}
"""Each kind of record whose decisions may be published, in Dutch, for "record:*"."""

FIELDS: Final = (
    "identifier",
    "titel",
    "datum",
    "informatiecategorie",
    "verantwoordelijke",
    "onderwerp",
    "toelichting",
    "gepubliceerd_op",
)
PROGRESS_FIELDS: Final = (
    "sleutel",
    "omschrijving",
    "eenheid",
    "nulmeting",
    "doel",
    "huidige_waarde",
    "bron",
)
FILES: Final = ("besluiten.json", "besluiten.csv", "voortgang.json", "voortgang.csv", "index.html")
MANIFEST: Final = "manifest.json"
PUBLIC_FOLDER: Final = 0o755
PUBLIC_FILE: Final = 0o644


@dataclass(frozen=True)
class Published:
    added: int
    total: int
    files: list[str]


@dataclass(frozen=True)
class PublicKinds:
    """The kinds of decision a programme publishes, and the decision that set them (without
    one, ``PUBLIC``, the default)."""

    kinds: frozenset[tuple[str, str]]
    command_id: str | None = None
    effective: date | None = None

    @property
    def decided(self) -> bool:
        return self.command_id is not None

    def covers(self, entry: DecisionLogEntry) -> bool:
        """Public: a decision of a kind marked public, on a record that may be published."""
        return entry.subject_kind in PUBLISHABLE and (
            (entry.subject_kind, entry.event) in self.kinds
            or (entry.subject_kind, EVERY_DECISION) in self.kinds
        )

    def listed(self) -> list[dict[str, str]]:
        """Each kind, ``record:Decision``, with its Dutch title; in a stable order."""
        return [
            {"kind": f"{record}:{event}", "title": kind_title(record, event)}
            for record, event in sorted(self.kinds)
        ]

    def manifest(self) -> dict[str, Any]:
        """What the manifest records: the kinds, and the decision that set them or null."""
        decision = (
            {"command_id": self.command_id, "effective": _iso(self.effective)}
            if self.decided
            else None
        )
        return {"kinds": [k["kind"] for k in self.listed()], "decided_by": decision}


def kind_title(record: str, event: str) -> str:
    if event == EVERY_DECISION:
        return f"Alle besluiten over {RECORDS.get(record, record)}"
    return TITLES.get(event, event)


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def public_kinds(log: list[DecisionLogEntry], programme_id: str, today: date) -> PublicKinds:
    """The kinds in force today: the programme's latest decision on them taking effect by
    today (history may be entered out of order), else the default."""
    decided = [
        entry
        for entry in log
        if entry.programme_id == programme_id
        and entry.subject_kind == "programme"
        and entry.event == "PublicationSet"
        and entry.effective <= today
    ]
    if not decided:
        return PublicKinds(kinds=PUBLIC)
    latest = max(decided, key=lambda entry: (entry.effective, entry.notification_id))
    kinds = frozenset(
        (record, event)
        for record, _, event in (str(k).partition(":") for k in latest.details["kinds"])
    )
    return PublicKinds(kinds=kinds, command_id=latest.command_id, effective=latest.effective)


def kinds_in_force(current: Any, programme_id: str) -> PublicKinds:
    """The kinds ``programme_id`` publishes today (ValueError for an unknown programme)."""
    from projections.queries import decision_log

    store = current.fresh_reads()
    programme_name(store, programme_id)
    return public_kinds(decision_log(store, limit=10**9), programme_id, _today())


def _today() -> date:
    from domain.values import PROGRAMME_TZ

    return datetime.now(tz=PROGRAMME_TZ).date()


def programme_name(store: ReadStore, programme_id: str) -> str:
    """The responsible body: the programme's name. ValueError for an unknown programme."""
    from sqlmodel import Session

    from projections.tables import ProgrammeRow

    with Session(store.engine) as session:
        row = session.get(ProgrammeRow, programme_id)
    if row is None:
        raise ValueError(f"programme '{programme_id}' not found")
    return row.name


def initiative_titles(store: ReadStore, programme_id: str) -> dict[str, str]:
    from sqlmodel import Session, col, select

    from projections.tables import InitiativeRow

    with Session(store.engine) as session:
        rows = session.exec(
            select(InitiativeRow.initiative_id, InitiativeRow.title).where(
                col(InitiativeRow.programme_id) == programme_id
            )
        ).all()
    return dict(rows)


SUBJECTS: Final = {
    "MemberAdded": ("organisation",),
    "TargetSet": ("key", "description"),
    "TargetMeasured": ("key",),
    "StreamRegistered": ("stream", "name"),
}
"""What a decision is about, from its details, where that is public and not a person: the
member organisation (organisations are not persons), the target, the stream. Mandates are
left out: they name the broker."""


def subject(entry: DecisionLogEntry) -> str:
    """The public subject of a decision in a few words, or "" (see ``SUBJECTS``)."""
    fields = SUBJECTS.get(entry.event, ())
    found = [str(entry.details[f]) for f in fields if entry.details.get(f)]
    if not found:
        return ""
    key, *described = found  # a key and its name or description, when there is one
    return f"{key} ({described[0]})" if described else key


def record(
    entry: DecisionLogEntry, programme_id: str, name: str, titles: dict[str, str], now: str
) -> dict[str, str]:
    """One decision as published: the DIWOO-style fields, nothing about persons."""
    words = TITLES.get(entry.event, entry.step.capitalize())
    about = name if entry.subject_kind == "programme" else titles.get(entry.subject_id)
    what = subject(entry)
    return {
        "identifier": f"kringloop:{programme_id}:{entry.notification_id}",
        "titel": f"{words}: {what} — {about or entry.subject_id}"
        if what
        else f"{words}: {about or entry.subject_id}",
        "datum": entry.effective.isoformat(),
        "informatiecategorie": DECISION_CATEGORY,
        "verantwoordelijke": name,
        "onderwerp": entry.subject_id,
        "toelichting": entry.reason,
        "gepubliceerd_op": now,
    }


def progress_record(target: TargetProgress) -> dict[str, Any]:
    return {
        "sleutel": target.key,
        "omschrijving": target.description,
        "eenheid": target.unit,
        "nulmeting": target.baseline,
        "doel": target.target,
        "huidige_waarde": target.current,
        "bron": target.source,
    }


def _earlier(out: Path, programme_id: str, public_key: str) -> list[dict[str, Any]]:
    """The decisions published before, from a folder that still checks with this key (a
    changed file is not carried forward into a newly signed manifest)."""
    path = out / "besluiten.json"
    if not path.exists():
        return []
    problems = check(out, public_key)
    if problems:
        raise ValueError(f"{out} does not check: {'; '.join(problems)}")
    earlier = json.loads(path.read_text(encoding="utf-8"))
    if earlier.get("programma") != programme_id:
        raise ValueError(f"{out} holds the decisions of programme '{earlier.get('programma')}'")
    found: list[dict[str, Any]] = earlier["besluiten"]
    return found


def publish(current: Any, out: Path, programme_id: str) -> Published:
    """Write (or bring up to date) the public decision log of ``programme_id`` in ``out``."""
    from projections.progress import programme_progress
    from projections.queries import decision_log

    store = current.fresh_reads()
    name = programme_name(store, programme_id)
    titles = initiative_titles(store, programme_id)
    now = datetime.now(tz=UTC).isoformat(timespec="seconds")
    earlier = _earlier(out, programme_id, public_text(signing_key(current.settings.home)))
    known = {e["identifier"] for e in earlier}
    log = decision_log(store, limit=10**9)
    kinds = public_kinds(log, programme_id, _today())
    fresh = [
        record(entry, programme_id, name, titles, now)
        for entry in log
        if entry.programme_id == programme_id and kinds.covers(entry)
    ]
    added = [r for r in fresh if r["identifier"] not in known]
    decisions = earlier + added
    progress = [progress_record(t) for t in programme_progress(store, programme_id)]
    out.mkdir(parents=True, exist_ok=True)
    # public: a web server running as another user serves it (bits added, none taken away)
    out.chmod(out.stat().st_mode & 0o7777 | PUBLIC_FOLDER)
    meta = {"programma": programme_id, "verantwoordelijke": name}
    contents = {
        "besluiten.json": _json({**meta, "besluiten": decisions}),
        "besluiten.csv": to_csv(_table("besluiten", FIELDS, decisions)),
        "voortgang.json": _json(
            {**meta, "informatiecategorie": PROGRESS_CATEGORY, "doelen": progress}
        ),
        "voortgang.csv": to_csv(_table("voortgang", PROGRESS_FIELDS, progress)),
        "index.html": _index(name, programme_id, decisions, kinds).encode(),
    }
    for file, body in contents.items():
        _public(out / file, body)
    _sign(current.settings.home, out, programme_id, now, contents, kinds)
    return Published(added=len(added), total=len(decisions), files=[*FILES, MANIFEST])


def _public(path: Path, body: bytes) -> None:
    """Write a published file readable by all, whatever the umask (0600 under the CLI's)."""
    path.write_bytes(body)
    path.chmod(PUBLIC_FILE)


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()


def _table(name: str, fields: tuple[str, ...], rows: list[dict[str, Any]]) -> Table:
    numeric = {"nulmeting", "doel", "huidige_waarde"}
    return Table(
        name=name,
        title=name,
        columns=tuple(Column(f, "float" if f in numeric else "text") for f in fields),
        rows=[tuple(r[f] for f in fields) for r in rows],
    )


def _index(
    name: str, programme_id: str, decisions: list[dict[str, Any]], kinds: PublicKinds
) -> str:
    """A plain page in Dutch: a heading, the files, and the decisions as a table."""
    from adapters.i18n import translator

    e, dutch = html.escape, translator("nl")
    links = "".join(f'<li><a href="{f}">{f}</a></li>' for f in (*FILES[:4], MANIFEST))
    rows = "".join(
        f"<tr><td>{e(dutch.day(date.fromisoformat(d['datum'])))}</td><td>{e(d['titel'])}</td>"
        f"<td>{e(d['informatiecategorie'])}</td><td>{e(d['toelichting'])}</td></tr>"
        for d in decisions
    )
    return (
        '<!DOCTYPE html>\n<html lang="nl">\n<head><meta charset="utf-8">'
        f"<title>Openbare besluiten: {e(name)}</title></head>\n<body>\n<main>\n"
        f"<h1>Openbare besluiten: {e(name)}</h1>\n"
        f"<p>Actief openbaar gemaakt onder de Wet open overheid. Programma {e(programme_id)}."
        f"</p>\n<p>{e(_which(kinds, dutch.day))}</p>\n<h2>Bestanden</h2>\n"
        f"<ul>{links}</ul>\n<table>\n<caption>Besluiten van {e(name)}</caption>\n"
        '<thead><tr><th scope="col">Datum</th><th scope="col">Titel</th>'
        '<th scope="col">Informatiecategorie</th><th scope="col">Toelichting</th></tr></thead>\n'
        f"<tbody>{rows}</tbody>\n</table>\n</main>\n</body>\n</html>\n"
    )


def _which(kinds: PublicKinds, day: Any) -> str:
    """One line in Dutch: which kinds are published, and on whose decision."""
    titles = ", ".join(k["title"] for k in kinds.listed())
    if kinds.effective is not None:
        basis = (
            f"zoals het programma besloot op {day(kinds.effective)} (besluit {kinds.command_id})"
        )
    else:
        basis = "zolang het programma daar niet over besloten heeft, de standaardkeuze"
    return (
        f"Openbaar gemaakt worden: {titles}; {basis}. Een besluit dat eenmaal openbaar "
        "gemaakt is, blijft openbaar."
    )


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _sign(
    home: Path,
    out: Path,
    programme_id: str,
    now: str,
    contents: dict[str, bytes],
    kinds: PublicKinds,
) -> None:
    key = signing_key(home)
    body = {
        "format": FORMAT,
        "programme": programme_id,
        "published_at": now,
        "public_kinds": kinds.manifest(),
        "public_key": public_text(key),
        "files": [
            {"name": file, "sha256": hashlib.sha256(data).hexdigest()}
            for file, data in contents.items()
        ],
    }
    manifest = {**body, "signature": sign(key, _canonical(body))}
    _public(out / MANIFEST, _json(manifest))


def check(folder: Path, public_key: str | None) -> list[str]:
    """What is wrong with a published folder, checked offline: each file's hash and the
    manifest's signature (with ``public_key``, else the key the manifest carries, which
    proves only that the files were not changed since they were signed). Empty: fine."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        signature = str(manifest.pop("signature"))
        files = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return [f"{MANIFEST}: missing or unreadable"]
    problems: list[str] = []
    if manifest.get("format") != FORMAT:
        problems.append(f"{MANIFEST}: not a {FORMAT} manifest")
    named = {str(listed.get("name")) for listed in files}
    problems += [f"{file}: not in the manifest" for file in FILES if file not in named]
    for listed in files:
        path = folder / str(listed.get("name", ""))
        if not path.is_file() or path.parent != folder:
            problems.append(f"{listed.get('name')}: missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != listed.get("sha256"):
            problems.append(f"{listed['name']}: differs from what was signed")
    try:
        key = parse_public(public_key or str(manifest.get("public_key", "")))
    except ValueError as error:
        return [*problems, f"{MANIFEST}: {error}"]
    if not verify(key, _canonical(manifest), signature):
        problems.append(f"{MANIFEST}: the signature does not match this public key")
    return problems
