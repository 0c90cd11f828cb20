"""Notices as e-mail: rendered in the reader's language from Jinja2 templates, sent over SMTP.

Rendering (``render``): ``templates/<kind>.txt`` and ``templates/<kind>.html`` are rendered
with the words and figures of the project's translator (``adapters.i18n``), as the web pages
are: ``_()``/``ngettext()`` through the catalogues, ``|day``, ``|moment``, ``|number`` in the
language's way ("30 november 2026") and ``|term(kind)`` for glossary words. The subject is
the ``subject`` block of the text template (the layout never prints it), collapsed to one
line; the HTML template gets it as ``subject`` for its title. The HTML is escaped
(autoescape), the text is not, and an unknown name in a template is an error
(StrictUndefined), not an empty gap in a mail.

Sending (``send``): one multipart/alternative message (text, then HTML) over SMTP with
STARTTLS (verified, against ``smtp_ca_file`` when set) and a login when a user is set.
``Message-ID`` is the mail's own stable id, so a retry after an unclear failure reaches the
reader as the same message again, which mail clients show once. Every failure is a
``DeliveryFailed`` saying what went wrong, never with the password in it.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from typing import Any, Final

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    select_autoescape,
)

from adapters.i18n import translator
from adapters.i18n.templating import speak

TEMPLATES: Final = Path(__file__).parent / "templates"
KINDS: Final[tuple[str, ...]] = (
    "overdue-precondition",
    "stalled",
    "scale-up-assessed",
    "consortium-formed",
    "board-withdrawn",
    "weekly-digest",
)


@dataclass(frozen=True)
class Mail:
    """One rendered e-mail to one reader; ``message_id`` stays the same on every retry."""

    to: str
    subject: str
    text: str
    html: str
    message_id: str


class DeliveryFailed(Exception):
    """A notice could not be delivered. ``permanent`` when the receiver refused it for good
    (an SMTP 5xx reply, a bad address): trying again will not help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def message_id_for(key: str, domain: str = "kringloop.local") -> str:
    """The Message-ID of a notice's mail, made from its key alone so that every attempt to
    deliver it carries the same one: ``<`` + the first 32 hex digits of SHA-256(key) +
    ``@domain>``."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


# -- rendering ---------------------------------------------------------------------------


def render(kind: str, language: str, context: dict[str, Any], to: str, message_id: str) -> Mail:
    """The mail of a notice of ``kind`` in ``language`` ("nl", "en"; another falls back to
    Dutch as the translator does) from its ``context`` (the keys each kind's template
    reads: see the templates)."""
    if kind not in KINDS:
        raise ValueError(f"no mail template for the notice kind {kind!r}")
    t = translator(language)
    values = {**context, "t": t, "language": t.lang}
    text_template = _environment().get_template(f"{kind}.txt")
    subject = _one_line("".join(text_template.blocks["subject"](text_template.new_context(values))))
    text = text_template.render(values)
    html = _environment().get_template(f"{kind}.html").render({**values, "subject": subject})
    return Mail(to=to, subject=subject, text=text, html=html, message_id=message_id)


def _one_line(text: str) -> str:
    """A header is one line: runs of white space (a newline in a title too) become a space."""
    return " ".join(text.split())


@cache
def _environment() -> Environment:
    """The templates' environment, made once: HTML escaped, text not, undefined names an
    error, the translator's words and figures installed as in the web pages."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    speak(env)
    return env


# -- sending -----------------------------------------------------------------------------


def send(mail: Mail, settings: Any, timeout: float = 30.0) -> None:
    """Send ``mail`` through the SMTP server of ``settings`` (``smtp_host``, ``smtp_port``,
    ``smtp_starttls``, ``smtp_user``, ``smtp_password`` or ``smtp_password_file``,
    ``smtp_from``, ``smtp_ca_file``); raises ``DeliveryFailed`` when it was not accepted."""
    host = getattr(settings, "smtp_host", None)
    if not host:
        raise DeliveryFailed("no SMTP server is set (smtp_host)", permanent=True)
    port = int(getattr(settings, "smtp_port", 587))
    where = f"the SMTP server {host}:{port}"
    user = getattr(settings, "smtp_user", None)
    password = _password(settings) if user else None
    message = compose(mail, str(getattr(settings, "smtp_from", "kringloop@localhost")))
    try:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryFailed(f"could not reach {where}: {_describe(error)}") from None
    try:
        if getattr(settings, "smtp_starttls", True):
            _starttls(smtp, where, getattr(settings, "smtp_ca_file", None))
        if user:
            _login(smtp, where, str(user), password or "")
        refused = smtp.send_message(message)
        _quit(smtp)
    except DeliveryFailed as failed:
        raise _scrubbed(failed, password) from None
    except smtplib.SMTPRecipientsRefused as error:
        replies = "; ".join(f"{to}: {_reply(*reply)}" for to, reply in error.recipients.items())
        raise _scrubbed(
            DeliveryFailed(f"{where} refused the recipient ({replies})", permanent=True), password
        ) from None
    except smtplib.SMTPResponseException as error:
        raise _scrubbed(
            DeliveryFailed(
                f"{where} refused the message: {_reply(error.smtp_code, error.smtp_error)}",
                permanent=500 <= error.smtp_code < 600,
            ),
            password,
        ) from None
    except (smtplib.SMTPException, OSError) as error:
        raise _scrubbed(
            DeliveryFailed(f"could not deliver through {where}: {_describe(error)}"), password
        ) from None
    finally:
        smtp.close()
    if refused:
        replies = "; ".join(f"{to}: {_reply(*reply)}" for to, reply in refused.items())
        raise DeliveryFailed(f"{where} refused the recipient ({replies})", permanent=True)


def _quit(smtp: smtplib.SMTP) -> None:
    """QUIT after the server took the message; it is delivered whatever QUIT answers, so
    a failure here must not make the caller send it again."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def compose(mail: Mail, sender: str) -> EmailMessage:
    """The message as it goes over the wire: text and HTML alternatives, the stable
    Message-ID, and ``Auto-Submitted`` so that out-of-office replies leave it alone
    (RFC 3834)."""
    message = EmailMessage()
    try:
        message["From"] = sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Message-ID"] = mail.message_id
    except (ValueError, TypeError) as error:
        raise DeliveryFailed(f"the mail cannot be sent as it is: {error}", permanent=True) from None
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message


def _starttls(smtp: smtplib.SMTP, where: str, ca_file: Path | str | None) -> None:
    """STARTTLS with a context that verifies the server's certificate and name, against
    ``ca_file`` alone when one is given (a private or test CA), else the system's CAs."""
    try:
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    except (OSError, ssl.SSLError) as error:
        raise DeliveryFailed(f"cannot read the CA file {ca_file}: {_describe(error)}") from None
    try:
        smtp.starttls(context=context)
    except smtplib.SMTPNotSupportedError:
        raise DeliveryFailed(f"{where} does not offer STARTTLS", permanent=True) from None
    except ssl.SSLError as error:
        raise DeliveryFailed(f"TLS with {where} failed: {_describe(error)}") from None


def _login(smtp: smtplib.SMTP, where: str, user: str, password: str) -> None:
    try:
        smtp.login(user, password)
    except smtplib.SMTPAuthenticationError as error:
        raise DeliveryFailed(
            f"{where} refused the login of {user!r}: {_reply(error.smtp_code, error.smtp_error)}",
            permanent=True,
        ) from None
    except smtplib.SMTPNotSupportedError:
        raise DeliveryFailed(
            f"{where} offers no login (AUTH); smtp_user is set", permanent=True
        ) from None


def _password(settings: Any) -> str | None:
    """``smtp_password_file`` when set (its first line), else ``smtp_password``."""
    path = getattr(settings, "smtp_password_file", None)
    if path:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise DeliveryFailed(
                f"cannot read the SMTP password file {path}: {error.strerror}"
            ) from None
        return lines[0] if lines else ""
    secret = getattr(settings, "smtp_password", None)
    if secret is None:
        return None
    get = getattr(secret, "get_secret_value", None)
    return str(get()) if callable(get) else str(secret)


def _reply(code: int, text: bytes | str) -> str:
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {said}".strip()


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _scrubbed(failed: DeliveryFailed, password: str | None) -> DeliveryFailed:
    """The failure with the password taken out of its message, should a server have echoed
    it back."""
    if not password:
        return failed
    cleaned = re.sub(re.escape(password), "***", str(failed))
    return DeliveryFailed(cleaned, permanent=failed.permanent)
