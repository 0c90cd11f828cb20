"""The translator's words and figures in Jinja2 templates, the web pages' and the mails'
alike: a template's context holds its Translator as ``t``; ``_()``, ``ngettext()`` and the
filters ``day``, ``moment``, ``number``, ``money``, ``percent`` (the arguments after the
value pass on: ``{{ pct|percent(1) }}``) and ``term`` (a glossary word) speak its language.
A module of its own, so that importing adapters.i18n loads no Jinja2."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from adapters.i18n import Translator

FIGURES = ("day", "moment", "number", "money", "percent")


def speak(env: Environment) -> None:
    """Give ``env``'s templates the translator's words and figures."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True
    )
    env.filters.update({name: _figure(name) for name in FIGURES}, term=_term)


def _t(context: Context) -> Translator:
    found: Translator = context["t"]
    return found


@pass_context
def _gettext(context: Context, message: str) -> str:
    return _t(context).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return _t(context).ngettext(singular, plural, n)


def _figure(method: str) -> Callable[..., str]:
    @pass_context
    def formatted(context: Context, value: Any, *args: Any) -> str:
        result: str = getattr(_t(context), method)(value, *args)
        return result

    return formatted


@pass_context
def _term(context: Context, value: Any, kind: str) -> str:
    return _t(context).term(kind, value)
