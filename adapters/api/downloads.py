"""A table view downloaded over HTTP: asked for by `?format=csv|xlsx` or by the Accept
header (JSON stays the default), answered as an attachment with a dated file name.

Headings, title and sheet name speak the door's language: a page passes its own; the API
answers in the `Accept-Language` language when the request names one, in English when it
sends none (a script). The file name stays English, as the API's paths are."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response

from adapters.exports import (
    CSV_MEDIA_TYPE,
    MEDIA_TYPES,
    XLSX_MEDIA_TYPE,
    ExportFormat,
    delimiter_of,
    file_name,
    render,
)
from adapters.i18n import negotiate, translator
from adapters.tabular import Table, localised
from domain.engine import today_in_programme_tz

FormatQuery = Annotated[
    ExportFormat | None,
    Query(
        alias="format",
        description="csv (UTF-8 with BOM, ';'-separated, for Excel) or xlsx to download the "
        "table instead of JSON; `Accept: text/csv` or the XLSX media type does the same",
    ),
]
# Declared beside the JSON so the OpenAPI document (and clients generated from it) knows
# the other two answers.
TABLE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            CSV_MEDIA_TYPE: {"schema": {"type": "string"}},
            XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        }
    }
}


def wanted(request: Request, asked: ExportFormat | None) -> ExportFormat | None:
    """`?format=` first; else the first of JSON, CSV or XLSX the Accept header names."""
    if asked is not None:
        return asked
    for part in request.headers.get("accept", "").split(","):
        media_type = part.split(";")[0].strip().lower()
        if media_type == CSV_MEDIA_TYPE:
            return "csv"
        if media_type == XLSX_MEDIA_TYPE:
            return "xlsx"
        if media_type in ("application/json", "*/*", "application/*"):
            return None
    return None


def api_language(request: Request) -> str:
    """The API's language for a download: Accept-Language's when sent, else English."""
    asked = request.headers.get("accept-language")
    return negotiate(asked) if asked else "en"


def download(
    request: Request, table: Table, export_format: ExportFormat, lang: str | None = None
) -> Response:
    """The table as an attachment; `lang` is the page's language (None: the API's rule)."""
    settings = request.app.state.backend.settings
    language = lang or api_language(request)
    shown = localised(table, translator(language))
    body = render(shown, export_format, delimiter_of(settings.csv_delimiter))
    name = file_name(table, export_format, today_in_programme_tz())
    media_type = MEDIA_TYPES[export_format]
    return Response(
        body,
        media_type=f"{media_type}; charset=utf-8" if export_format == "csv" else media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Content-Language": language,
        },
    )
