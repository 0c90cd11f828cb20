"""Personal data figures (issue 18): what sealing, showing and erasing a person's data costs.

On an SQLite store in a temporary data folder, with the first-steps scenario and N people
(small 300, large 3,000) each granted a role:

* ``privacy_name_person_per_s``: ``authority name-person`` decisions (each name sealed with
  its person's own AES-256-GCM key, a new key made and wrapped) per second. Baseline: the
  same number of ``grant-role`` decisions on the same register through the same engine (no
  personal data). ``ratio = value / baseline``.
* ``privacy_reveal_ms``: the keyring revealing every name at once, as the roles table on the
  programme page asks for them (one key query, unwrap and open each). Baseline: the bare
  query of the same key rows (sqlite3, no decryption). ``ratio = baseline / value``.
* ``privacy_forget_s``: ``privacy forget`` of one person (the decision recorded, the key
  destroyed, what is kept beside the record removed, the read store and key file vacuumed).
  Baseline: a bare ``VACUUM`` of the same read store file. ``ratio = baseline / value``.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from figure import figure, note

from adapters.bootstrap import bootstrap
from adapters.demo import scenario_path
from adapters.settings import Settings
from domain.commands.catalogue import parse_command

PEOPLE = {"quick": 300, "small": 300, "large": 3_000}


def _decide(kringloop: Any, command: str, number: int, **fields: Any) -> None:
    kringloop.engine.execute(
        parse_command(
            {
                "command": command,
                "command_id": f"bench-{command}-{number}",
                "actor": "board-secretariat",
                "reason": "benchmark",
                **fields,
            }
        )
    )


def run(size: str) -> list[dict[str, Any]]:
    people = PEOPLE.get(size, 300)
    with tempfile.TemporaryDirectory(prefix="kringloop-bench-privacy-") as folder:
        home = Path(folder)
        kringloop = bootstrap(Settings(home=home), logs="kept")
        try:
            lines = scenario_path("first-steps").read_text().splitlines()
            kringloop.execute_many([parse_command(json.loads(x)) for x in lines])
            started = time.perf_counter()
            for n in range(people):
                _decide(kringloop, "grant-role", n, identity=f"person-{n:05d}", role="auditor")
            granted_s = time.perf_counter() - started
            started = time.perf_counter()
            for n in range(people):
                _decide(kringloop, "name-person", n, identity=f"person-{n:05d}", name=f"P {n}")
            named_s = time.perf_counter() - started
            register = kringloop.engine.register()
            assert register is not None
            sealed = list(register.people.values())
            started = time.perf_counter()
            shown = kringloop.engine.keyring.reveal(sealed)
            reveal_s = time.perf_counter() - started
            assert all(shown.values())
            keys = home / "privacy" / "keys.sqlite"
            started = time.perf_counter()
            with closing(sqlite3.connect(keys)) as conn:
                rows = conn.execute(
                    "SELECT subject, key_id, wrapped FROM kringloop_subject_keys"
                ).fetchall()
            bare_reveal_s = time.perf_counter() - started
            assert len(rows) >= people
            kringloop.fresh_reads()
            from adapters.privacy.subjects import forget
            from domain.commands.authority import ForgetSubject

            command = ForgetSubject(
                subject="person-00000",
                request="bench",
                actor="board-secretariat",
                reason="benchmark",
            )
            started = time.perf_counter()
            forget(kringloop, command)
            forget_s = time.perf_counter() - started
            kringloop.read_store.engine.dispose()
            started = time.perf_counter()
            with closing(sqlite3.connect(home / "read.sqlite")) as conn:
                conn.execute("VACUUM")
            vacuum_s = time.perf_counter() - started
        finally:
            kringloop.close()
    note(f"privacy: {people} people named; reveal {reveal_s * 1000:.1f} ms")
    return [
        figure(
            "privacy_name_person_per_s",
            people / named_s,
            "decisions/s",
            people / granted_s,
            "higher",
        ),
        figure("privacy_reveal_ms", reveal_s * 1000, "ms", bare_reveal_s * 1000, "lower"),
        figure("privacy_forget_s", forget_s, "s", vacuum_s, "lower"),
    ]
