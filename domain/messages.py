"""The marker of a text meant for a person: ``N_("cannot {action}: ...")``.

``N_`` returns its argument unchanged; it only tells ``pybabel extract`` (``make catalogues``,
keyword ``N_``) that the string is a message id, an English template whose ``{name}`` fields
are filled in from named parameters. A door translates it (``adapters.i18n``); the domain
never knows the language it will be read in.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """A message id, marked for extraction; unchanged."""
    return message
