"""The SMTP transport: ``KEYSTEAD_SMTP_URL`` parsed into an ``SmtpTarget``, and ``send``.

Accepted URLs (user and password percent-encoded, e.g. ``@`` as ``%40``)::

    smtp://[user:pass@]host[:port]            plain SMTP, default port 25 (a login: localhost only)
    smtp+starttls://[user:pass@]host[:port]   STARTTLS required, default port 587
    smtps://[user:pass@]host[:port]           implicit TLS (RFC 8314), default port 465

The password is never logged, never in a repr and never in an error message.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    import aiosmtplib
    from pydantic import SecretStr

Security = Literal["plain", "starttls", "tls"]

SCHEMES: dict[str, tuple[Security, int]] = {
    "smtp": ("plain", 25),
    "smtp+starttls": ("starttls", 587),
    "smtps": ("tls", 465),
}
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
ACCEPTED_FORMS = (
    "smtp://[user:pass@]host[:port] (port 25), "
    "smtp+starttls://[user:pass@]host[:port] (port 587), "
    "smtps://[user:pass@]host[:port] (port 465); "
    "percent-encode special characters in user and password"
)


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    host: str
    port: int
    security: Security = "plain"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    # A CA bundle trusted instead of the system's (a private CA; a test's self-signed one).
    ca_file: Path | None = None

    def __str__(self) -> str:
        """The URL without the password: safe for logs and error messages."""
        scheme = next(name for name, (sec, _) in SCHEMES.items() if sec == self.security)
        user = f"{self.username}@" if self.username else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{user}{host}:{self.port}"


class MailError(Exception):
    """A message that was not sent. ``permanent``: sending it again will fail the same way
    (a 5xx reply to this message: unknown recipient, refused sender or content), so do not
    retry; otherwise (connection, TLS, timeout, 4xx, login) retry later."""

    def __init__(self, reason: str, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent

    def __repr__(self) -> str:
        return f"MailError({self.reason!r}, permanent={self.permanent})"


def _invalid(reason: str) -> ValueError:
    return ValueError(f"{reason}; accepted forms: {ACCEPTED_FORMS}")


def parse_smtp_url(text: str, *, ca_file: Path | None = None) -> SmtpTarget:
    """``KEYSTEAD_SMTP_URL`` as an ``SmtpTarget``; ValueError with a reason that never quotes
    the password (nor any part of the URL that could hold it: a raw ``/`` or ``#`` in a
    password moves it into the path or fragment)."""
    text = text.strip()
    scheme, sep, _ = text.partition("://")
    if not sep:
        raise _invalid("the SMTP URL has no scheme")
    if scheme.lower() not in SCHEMES:
        shown = f" {scheme!r}" if scheme.replace("+", "").isalpha() and len(scheme) < 20 else ""
        raise _invalid(f"unknown SMTP URL scheme{shown}")
    security, default_port = SCHEMES[scheme.lower()]
    parts = urlsplit(text)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise _invalid(
            "the SMTP URL has a path, query or fragment (a password with '/', '?' or '#' "
            "must be percent-encoded)"
        )
    if not parts.hostname:
        raise _invalid("the SMTP URL has no host")
    try:
        port = parts.port
    except ValueError:
        raise _invalid("the SMTP URL's port is not a number from 1 to 65535") from None
    if port == 0:
        raise _invalid("the SMTP URL's port is not a number from 1 to 65535")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is not None and not username:
        raise _invalid("the SMTP URL has a password but no user name")
    if username and not password:
        raise _invalid("the SMTP URL has a user name but no password (user:pass@host)")
    if username and security == "plain" and parts.hostname not in LOOPBACK:
        # RFC 4954 §4: no password in clear text over a network.
        raise _invalid(
            "smtp:// with a user name and password would send the password unencrypted "
            "(allowed only to localhost); use smtp+starttls:// or smtps://"
        )
    return SmtpTarget(
        host=parts.hostname,
        port=port or default_port,
        security=security,
        username=username,
        password=password,
        ca_file=ca_file,
    )


class SmtpSettings(Protocol):
    """The part of keystead.config.Settings read here (config imports this module)."""

    @property
    def smtp_url(self) -> SecretStr | None: ...
    @property
    def smtp_ca_file(self) -> Path | None: ...


def target_from_settings(settings: SmtpSettings) -> SmtpTarget | None:
    """The configured SMTP server, or None when ``KEYSTEAD_SMTP_URL`` is unset."""
    if settings.smtp_url is None:
        return None
    return parse_smtp_url(settings.smtp_url.get_secret_value(), ca_file=settings.smtp_ca_file)


def _scrub(reason: str, target: SmtpTarget) -> str:
    if target.password and target.password in reason:
        reason = reason.replace(target.password, "***")
    return reason


def _reply(exc: aiosmtplib.SMTPResponseException) -> str:
    return f"{exc.code} {exc.message}".strip()


async def send(target: SmtpTarget, message: EmailMessage, timeout: float) -> None:  # noqa: ASYNC109 (per SMTP step, given to aiosmtplib)
    """Deliver ``message`` (its From and To headers are the envelope) to ``target``.

    ``timeout``: seconds allowed for each step (connect, TLS, each command). Raises MailError.
    """
    import aiosmtplib  # with the first message, not by every worker at start-up

    client = aiosmtplib.SMTP(
        hostname=target.host,
        port=target.port,
        use_tls=target.security == "tls",
        # smtp:// stays plain: no opportunistic upgrade that a bad certificate could break.
        start_tls=target.security == "starttls",
        timeout=timeout,
        cert_bundle=str(target.ca_file) if target.ca_file else None,
    )
    try:
        await _connect_and_login(client, target)
        try:
            await client.send_message(message)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            replies = "; ".join(f"{r.recipient}: {_reply(r)}" for r in exc.recipients)
            # RFC 5321 §4.2.1: 5yz is a permanent negative reply, 4yz a transient one.
            raise MailError(
                _scrub(f"recipient refused: {replies}", target),
                permanent=all(code >= 500 for code in codes),
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            # 530 (RFC 4954 §6: authentication required) is keystead's configuration, not
            # this message: once a login is configured, the message goes.
            raise MailError(
                _scrub(f"the SMTP server refused the message: {_reply(exc)}", target),
                permanent=exc.code >= 500 and exc.code != 530,
            ) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise MailError(
                _scrub(f"sending to {target} failed: {exc}", target), permanent=False
            ) from None
    finally:
        if client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()


async def _connect_and_login(client: aiosmtplib.SMTP, target: SmtpTarget) -> None:
    """Connect (TLS or STARTTLS as asked) and log in. Every failure here is temporary: it
    concerns the server or keystead's configuration, not this message, and passes for every
    message once fixed (a 535 wrong password included)."""
    import aiosmtplib

    try:
        await client.connect()
        if target.username:
            await client.login(target.username, target.password or "")
    except aiosmtplib.SMTPAuthenticationError as exc:
        reason = f"the SMTP server {target} refused the login: {_reply(exc)}"
        raise MailError(_scrub(reason, target), permanent=False) from None
    except ssl.SSLCertVerificationError as exc:
        reason = (
            f"TLS with {target} failed: {exc.verify_message or exc.reason} (a private CA: "
            "set KEYSTEAD_SMTP_CA_FILE)"
        )
        raise MailError(_scrub(reason, target), permanent=False) from None
    except ssl.SSLError as exc:
        reason = f"TLS with {target} failed: {exc.reason or exc}"
        raise MailError(_scrub(reason, target), permanent=False) from None
    except aiosmtplib.SMTPTimeoutError:
        raise MailError(f"the SMTP server {target} did not answer in time", False) from None
    except (aiosmtplib.SMTPException, OSError) as exc:
        reason = f"connecting to the SMTP server {target} failed: {exc}"
        raise MailError(_scrub(reason, target), permanent=False) from None
