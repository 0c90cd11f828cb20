"""`--format csv|xlsx --out FILE` on the CLI's table commands: real processes, the rows of
`--json`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_cli import kringloop
from tests.exports.sheets import VIEWS, View, csv_rows, xlsx_rows


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.name)
def test_csv_on_stdout_and_xlsx_in_a_file_hold_the_rows_of_json(
    loaded_home: tuple[Path, dict[str, str]], view: View
) -> None:
    home, _ = loaded_home
    found = json.loads(kringloop(home, *view.cli, "--json").stdout)
    printed = kringloop(home, *view.cli, "--format", "csv")
    view.check(found, csv_rows(printed.stdout.encode("utf-8")))
    out = home / f"{view.name}.xlsx"
    written = kringloop(home, *view.cli, "--format", "xlsx", "--out", str(out))
    assert written.stdout == ""
    assert f"to {out}" in written.stderr
    view.check(found, xlsx_rows(out.read_bytes()))


def test_a_comma_delimiter_is_an_option_and_a_setting(
    loaded_home: tuple[Path, dict[str, str]],
) -> None:
    home, _ = loaded_home
    by_option = kringloop(home, "preconditions", "--format", "csv", "--csv-delimiter", ",")
    by_setting = kringloop(
        home, "preconditions", "--format", "csv", env={"KRINGLOOP_CSV_DELIMITER": ","}
    )
    assert by_option.stdout == by_setting.stdout
    assert csv_rows(by_option.stdout.encode("utf-8"), delimiter=",")


def test_an_out_file_named_csv_picks_the_format(loaded_home: tuple[Path, dict[str, str]]) -> None:
    home, _ = loaded_home
    out = home / "register.csv"
    kringloop(home, "preconditions", "--out", str(out))
    assert csv_rows(out.read_bytes())


def test_xlsx_without_out_is_refused_with_a_reason(
    loaded_home: tuple[Path, dict[str, str]],
) -> None:
    home, _ = loaded_home
    refused = kringloop(home, "decisions", "--format", "xlsx", ok=False)
    assert refused.returncode == 1
    assert "--out" in refused.stderr
    assert refused.stdout == ""


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--format", "csv", "--json"), "choose one"),
        (("--format", "csv", "--csv-delimiter", "ab"), "CSV delimiter"),
        (("--out", "register.pdf"), "--format csv"),
        (("--format", "ods"), "ods"),
    ],
)
def test_export_options_that_do_not_fit_are_refused(
    loaded_home: tuple[Path, dict[str, str]], args: tuple[str, ...], says: str
) -> None:
    home, _ = loaded_home
    refused = kringloop(home, "preconditions", *args, ok=False)
    assert refused.returncode != 0
    assert says in refused.stdout + refused.stderr


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.name)
def test_help_names_the_export_options(
    loaded_home: tuple[Path, dict[str, str]], view: View
) -> None:
    home, _ = loaded_home
    grouped = view.cli[0] in ("audit", "programme", "procurement")
    shown = kringloop(home, *view.cli[: 2 if grouped else 1], "--help")
    for option in ("--format", "--out", "--csv-delimiter", "xlsx"):
        assert option in shown.stdout
