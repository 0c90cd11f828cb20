"""Domain words in the CLI's language (``KRINGLOOP_LANG``, else the locale: see
``adapters.i18n.cli_language``), from the one glossary the pages use too."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adapters.i18n import Translator


def words() -> Translator:
    """The CLI's language: KRINGLOOP_LANG, else the locale (adapters.i18n.cli_language)."""
    from adapters.i18n import cli_language, translator  # when a command speaks, not at --help

    return translator(cli_language())


def term(kind: str, value: object) -> str:
    """The agreed word for a slug: ``term("stage", "expert_scan")`` is "expertonderzoek" in
    Dutch, "expert scan" in English."""
    return words().term(kind, value)


def _(message: str) -> str:
    """A text of the CLI's own in its language (the English text is the message id)."""
    return words().gettext(message)


def said(refusal: BaseException) -> str:
    """A refusal in the CLI's language (its message id and parameters); in English its own
    text, word for word as the CLI's refusals print it (scripts may match on it)."""
    return words().refusal(refusal)
