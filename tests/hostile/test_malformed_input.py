"""Broken input at the doors that parse it: `kringloop apply` files with bad lines, API
bodies that are not JSON objects, and JSON fields of the CLI and the web forms. Each is
refused with a clear message, nothing of it is recorded, and nothing crashes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.cli.app import app as cli
from tests.security.conftest import Api, csrf_of, event_count, log_in


def stall(command_id: str, reason: str = "waiting for the permit") -> bytes:
    line = {
        "command": "stall",
        "command_id": command_id,
        "initiative_id": "timber-reuse",
        "actor": "broker-bas",
        "reason": reason,
    }
    return json.dumps(line).encode()


RESUME = json.dumps(
    {
        "command": "resume",
        "command_id": "after",
        "initiative_id": "timber-reuse",
        "actor": "broker-bas",
        "reason": "the permit came",
    }
).encode()
BAD_LINES = {
    "truncated": (b'{"command": "stall", "initiative_id": "timb', "not a JSON object ("),
    "a list": (b"[1, 2, 3]", "not a JSON object"),
    "a number": (b"42", "not a JSON object"),
    "a string": (b'"stall"', "not a JSON object"),
    "null": (b"null", "not a JSON object"),
    "unknown command": (b'{"command": "drop-tables", "reason": "x"}', "unknown command"),
    "no command": (b'{"initiative_id": "timber-reuse"}', "unknown command None"),
    "command not a string": (b'{"command": ["stall"]}', "unknown command"),
    "invalid UTF-8": (b'{"command": "stall", "reason": "\xff\xfe"}', "not valid UTF-8"),
    "a lone surrogate": (stall("s", "\ud800"), "unable to parse raw data as a unicode string"),
    "a NUL in the reason": (stall("n", "nul\x00byte"), "may not contain U+0000"),
    "nested too deeply": (b"[" * 100_000, "not a JSON object (nested too deeply)"),
    "5000 digits": (b'{"command": "hold-meeting", "meeting": %s}' % (b"9" * 5000), "digits"),
    "a field twice": (b'{"command": "stall", "command": "drop-tables"}', "drop-tables"),
    "NaN": (
        b'{"command": "report-impact", "initiative_id": "timber-reuse", "actor": "a", '
        b'"reason": "r", "period": 2020, "tonnes_processed_per_year": NaN}',
        "finite number",
    ),
    "a 2 MiB line": (stall("big", "x" * 2 * 1024 * 1024), "line longer than 1048576 bytes"),
}


def apply(home: Path, path: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--home", str(home), "apply", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("kind", list(BAD_LINES))
def test_apply_stops_at_a_bad_line_names_it_and_records_what_came_before(
    loaded_home: tuple[Path, dict[str, str]], tmp_path: Path, kind: str
) -> None:
    home, _ = loaded_home
    bad, words = BAD_LINES[kind]
    path = tmp_path / "commands.jsonl"
    path.write_bytes(b"\n".join([stall("before"), bad, RESUME]) + b"\n")
    before = event_count(home)

    code, out, err = apply(home, path)

    assert code == 1
    assert "Traceback" not in out + err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"refused: {path}:2: "), err
    assert words in err
    assert event_count(home) == before + 1, "the line before it, and nothing more"

    path.write_bytes(b"\n".join([stall("before"), RESUME]) + b"\n")  # fixed: run it again
    code, out, _ = apply(home, path)
    assert code == 0
    assert "applied 1 commands, 1 already applied" in out


def test_apply_takes_crlf_a_bom_blank_lines_and_comments(
    loaded_home: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    home, _ = loaded_home
    path = tmp_path / "windows.jsonl"
    bom = b"\xef\xbb\xbf"
    path.write_bytes(bom + stall("crlf") + b"\r\n\r\n# a comment\r\n" + RESUME + b"\r\n")
    before = event_count(home)
    code, _, err = apply(home, path)
    assert code == 0, err
    assert event_count(home) == before + 2


def test_apply_refuses_a_file_that_is_not_text(
    loaded_home: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    home, _ = loaded_home
    path = tmp_path / "picture.jsonl"
    path.write_bytes(bytes(range(256)) * 10)
    before = event_count(home)
    code, _, err = apply(home, path)
    assert code == 1
    assert re.match(rf"refused: {re.escape(str(path))}:1: ", err)
    assert event_count(home) == before


API_BODIES = {
    "truncated": (b'{"initiative_id": "timber-re', 422, "JSON decode error"),
    "a list": (b"[1, 2]", 422, "valid dictionary"),
    "null": (b"null", 422, "Field required"),
    "a string": (b'"stall"', 422, "valid dictionary"),
    "invalid UTF-8": (b'{"initiative_id": "timber-reuse", "reason": "\xff"}', 400, "parsing"),
    "nested too deeply": (b"[" * 100_000, 400, "parsing the body"),
    "a 5000-digit number": (b'{"reason": ' + b"9" * 5000 + b"}", 400, "parsing the body"),
    "empty": (b"", 422, "Field required"),
}


@pytest.mark.parametrize("kind", list(API_BODIES))
def test_the_api_refuses_a_body_that_is_no_command(api: Api, kind: str) -> None:
    body, status, words = API_BODIES[kind]
    before = event_count(api.home)
    response = api.post_body("broker-bas", "stall", body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert words in response.json()["detail"]
    assert event_count(api.home) == before


def test_the_api_refuses_a_body_that_is_not_json(api: Api) -> None:
    response = api.post_body(
        "broker-bas",
        "stall",
        b"initiative_id=timber-reuse&reason=x",
        "application/x-www-form-urlencoded",
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("shares", ["[" * 50_000, "[{]", "9" * 5000, '{"a": 1}'])
def test_json_fields_of_the_cli_and_the_forms_refuse_what_no_parser_takes(
    api: Api, shares: str
) -> None:
    before = event_count(api.home)
    result = CliRunner().invoke(
        cli,
        [
            *("--home", str(api.home), "initiative", "agree-arrangement", "timber-reuse"),
            *("--arrangement-type", "gain share", "--reason", "r", "--actor", "broker-bas"),
            *("--shares", shares),
        ],
    )
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("refused: ")
    assert len(result.stderr.strip().splitlines()) == 1

    log_in(api.client, api.tokens["broker-bas"])
    csrf = csrf_of(api.client.get("/initiatives/timber-reuse").text)
    page = api.client.post(
        "/initiatives/timber-reuse/commands/agree-arrangement",
        data={"arrangement_type": "gain", "reason": "r", "shares": shares, "csrf_token": csrf},
    )
    assert page.status_code in (409, 422), page.status_code
    assert "refusal" in page.text
    assert event_count(api.home) == before
