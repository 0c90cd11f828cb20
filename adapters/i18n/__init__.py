"""Dutch and English for every door: gettext catalogues (managed with Babel), the glossary of
domain words, and Dutch and English number and date formats.

- Catalogues: ``locale/messages.pot`` and ``locale/{nl,en}/LC_MESSAGES/messages.po`` hold
  English message ids; ``make catalogues`` extracts and updates them (``pybabel``). The
  ``.mo`` files are compiled from the ``.po`` files at first use when missing or stale, so
  a stale one is never read (and none is committed).
- The glossary (``glossary.toml``): one agreed Dutch and English word per domain slug,
  grouped by kind (stage, status, stream, command...), read by the pages and the CLI.
- ``qps`` is a pseudo-locale for tests: every translated string, glossary word and formatted
  figure comes out marked ``⟦…⟧``, so a page rendered in it shows any text that did not pass
  through here.

Babel is imported on first use only: a CLI command that prints nothing translated does not
pay for it.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from domain.errors import KringloopError, Message, localise
from domain.values import PROGRAMME_TZ

if TYPE_CHECKING:
    from babel.support import NullTranslations

Language = Literal["nl", "en"]
LANGUAGES: Final[tuple[Language, ...]] = ("nl", "en")
DEFAULT: Final[Language] = "nl"
PSEUDO: Final = "qps"  # tests only: marks everything that passed through a translator
LANGUAGE_NAMES: Final[dict[str, str]] = {"nl": "Nederlands", "en": "English"}

HERE = Path(__file__).parent
LOCALE_DIR = HERE / "locale"
GLOSSARY = HERE / "glossary.toml"
DOMAIN = "messages"

# The conventions each language writes numbers and dates in (English as in Britain:
# "1 June 2018", the day first, as the Dutch reader expects).
_BABEL_LOCALE: Final[dict[str, str]] = {"nl": "nl_NL", "en": "en_GB", PSEUDO: "nl_NL"}
_OPEN, _CLOSE = "⟦", "⟧"


class Translator:
    """Everything a door needs to speak one language."""

    def __init__(self, lang: str, translations: NullTranslations) -> None:
        self.lang = lang
        self._translations = translations
        self._babel_locale = _BABEL_LOCALE[lang]
        self._pseudo = lang == PSEUDO

    def _mark(self, text: str) -> str:
        return f"{_OPEN}{text}{_CLOSE}" if self._pseudo else text

    # -- words -------------------------------------------------------------------------

    def gettext(self, message: str) -> str:
        if self._pseudo:
            return self._mark(message)
        return str(self._translations.gettext(message))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        if self._pseudo:
            return self._mark(singular if n == 1 else plural)
        return str(self._translations.ngettext(singular, plural, n))

    def term(self, kind: str, value: object) -> str:
        """The agreed word for a domain slug (``glossary.toml``); the slug with spaces for
        underscores when the glossary has none (a test keeps the glossary complete)."""
        if value is None:
            return ""
        slug = str(getattr(value, "value", value))
        entry = glossary().get(kind, {}).get(slug)
        lang = DEFAULT if self._pseudo else self.lang
        word = entry.get(lang) if entry else None
        return self._mark(word or slug.replace("_", " "))

    def message(self, error: BaseException) -> str:
        """A refusal (or a ``domain.errors.Message``) in this language: its message id
        translated, its parameters too (domain words through the glossary, nested messages
        in turn, dates and numbers in this language's way: ``domain.errors.localise``)."""
        if isinstance(error, KringloopError | Message) and error.message_id:
            return localise(error, self)
        return str(error)

    def refusal(self, error: BaseException) -> str:
        """A refusal as a door says it: in English its own text word for word (what logs,
        scripts and the CLI have always said), in another language from its message id."""
        return str(error) if self.lang == "en" else self.message(error)

    # -- figures -----------------------------------------------------------------------

    def day(self, value: date | str | None) -> str:
        """``1 juni 2018`` / ``1 June 2018``."""
        if value is None or value == "":
            return ""
        from babel.dates import format_date

        found = date.fromisoformat(value[:10]) if isinstance(value, str) else value
        return self._mark(format_date(found, format="long", locale=self._babel_locale))

    def moment(self, value: datetime | None) -> str:
        """``1 juni 2018 14:05`` / ``1 June 2018 14:05``, in the programme's time zone (a
        moment recorded in UTC shows as the Amsterdam clock read it)."""
        if value is None:
            return ""
        from babel.dates import format_datetime

        local = value.astimezone(PROGRAMME_TZ) if value.tzinfo else value
        return self._mark(format_datetime(local, "d MMMM y HH:mm", locale=self._babel_locale))

    def number(self, value: float | int | Decimal | None, digits: int = 0) -> str:
        """``150.000.000`` / ``150,000,000``; at most ``digits`` decimals, no trailing zeros."""
        if value is None:
            return ""
        from babel.numbers import format_decimal

        pattern = "#,##0" + ("." + "#" * digits if digits else "")
        return self._mark(format_decimal(value, format=pattern, locale=self._babel_locale))

    def money(self, euros: float | int | Decimal | None) -> str:
        """``€ 150 mln`` / ``€150m`` for millions and more; ``€ 12.500`` below."""
        if euros is None:
            return ""
        amount = float(euros)
        dutch = self.lang != "en"
        for size, nl, en in ((1e9, "mld", "bn"), (1e6, "mln", "m")):
            if abs(amount) >= size:
                figure = self._plain_number(amount / size, digits=1)
                return self._mark(f"€ {figure} {nl}" if dutch else f"€{figure}{en}")
        figure = self._plain_number(amount, digits=0)
        return self._mark(f"€ {figure}" if dutch else f"€{figure}")

    def percent(self, pct: float | int | Decimal | None, digits: int = 0) -> str:
        """``35 %`` (Dutch, with a space) / ``35%``; the argument is a percentage (35.0)."""
        if pct is None:
            return ""
        figure = self._plain_number(pct, digits)
        return self._mark(f"{figure} %" if self.lang != "en" else f"{figure}%")

    def _plain_number(self, value: float | int | Decimal, digits: int) -> str:
        from babel.numbers import format_decimal

        pattern = "#,##0" + ("." + "#" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self._babel_locale)


@cache
def translator(lang: str) -> Translator:
    """The translator of a language ("nl", "en" or the tests' "qps"); unknown → Dutch."""
    if lang == PSEUDO:
        from babel.support import NullTranslations

        return Translator(PSEUDO, NullTranslations())
    found: Language = lang if lang in LANGUAGES else DEFAULT
    return Translator(found, _translations(found))


def _translations(lang: Language) -> NullTranslations:
    from babel.support import NullTranslations, Translations

    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.exists():
        return NullTranslations()
    mo = po.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        compile_catalogue(po, mo)
    with mo.open("rb") as file:
        return Translations(fp=file, domain=DOMAIN)


def compile_catalogue(po: Path, mo: Path) -> None:
    """``po`` compiled to ``mo`` (what ``pybabel compile`` does), written atomically so a
    second process starting at the same moment reads a whole file."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as file:
        catalogue = read_po(file, locale=po.parent.parent.name)
    partial = mo.with_suffix(f".{os.getpid()}.tmp")
    with partial.open("wb") as out:
        write_mo(out, catalogue, use_fuzzy=False)
    partial.replace(mo)


def compile_all() -> list[Path]:
    """Every catalogue compiled (the install step and ``make catalogues`` call this)."""
    done = []
    for lang in LANGUAGES:
        po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        if po.exists():
            compile_catalogue(po, po.with_suffix(".mo"))
            done.append(po.with_suffix(".mo"))
    translator.cache_clear()
    return done


@cache
def glossary() -> dict[str, dict[str, dict[str, str]]]:
    """kind → slug → {"nl": word, "en": word}."""
    if not GLOSSARY.exists():
        return {}
    with GLOSSARY.open("rb") as file:
        return tomllib.load(file)


# -- which language ----------------------------------------------------------------------


def negotiate(accept_language: str | None) -> Language:
    """The first of our languages the ``Accept-Language`` header prefers; Dutch otherwise."""
    if not accept_language:
        return DEFAULT
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranked.append((-quality, position, tag.strip().lower()))
    for negative_quality, _position, tag in sorted(ranked):
        primary = tag.split("-")[0]
        if negative_quality < 0 and primary in LANGUAGES:
            return primary
    return DEFAULT


def chosen(value: str | None) -> Language | None:
    """A language someone asked for by name ("nl", "en", "nl_NL.UTF-8"), or None."""
    if not value:
        return None
    primary = value.strip().lower().replace("-", "_").split("_")[0].split(".")[0]
    return primary if primary in LANGUAGES else None


def cli_language() -> Language:
    """The CLI's language: ``KRINGLOOP_LANG``, else the locale (``LC_ALL``, ``LC_MESSAGES``,
    ``LANG``: ``nl_NL.UTF-8`` is Dutch); English where the locale names neither (``C``)."""
    for name in ("KRINGLOOP_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return chosen(value) or "en"
    return "en"


@dataclass(frozen=True)
class Choice:
    """A language on the switch: its code, its own name, and whether it is the current one."""

    code: str
    name: str
    current: bool


def choices(current: str) -> list[Choice]:
    return [Choice(code, LANGUAGE_NAMES[code], code == current) for code in LANGUAGES]
