"""Mail contents: the templates of each kind rendered to (subject, text, html), and the
MIME message built from them.

Templates live in ``mail/templates/`` as ``<kind>.subject.txt``, ``<kind>.txt`` and
``<kind>.html`` (with ``_layout.html`` and ``_button.html`` shared by the html ones). A file of
the same name in ``KEYSTEAD_MAIL_TEMPLATES_DIR`` replaces the built-in one, each file on its
own. Html is autoescaped, text is not (it is not html). No remote images, no tracking.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jinja2

from keystead.mail.address import check_header_value, single_address

if TYPE_CHECKING:
    from keystead.config import Settings

BUILTIN = Path(__file__).resolve().parent / "templates"

# kind -> (required context keys, optional ones: None when absent). Every template also
# gets ``issuer`` (the URL) and ``site`` (its host and path, for prose: id.example.com).
KINDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "password_reset": (frozenset({"username", "link", "expires_minutes"}), frozenset()),
    "verify_email": (frozenset({"username", "link", "expires_minutes", "email"}), frozenset()),
    "invitation": (frozenset({"link", "expires_days"}), frozenset({"inviter", "name"})),
    "email_changed_notice": (frozenset({"username", "new_email"}), frozenset()),
    "link_identity": (frozenset({"username", "link", "expires_minutes", "provider"}), frozenset()),
}


@lru_cache(maxsize=8)
def _environment(override: Path | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if override is not None:
        loaders.append(jinja2.FileSystemLoader(override))
    loaders.append(jinja2.FileSystemLoader(BUILTIN))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,  # a misspelt name in a template is an error
        auto_reload=True,
    )


def render(kind: str, context: dict[str, Any], *, settings: Settings) -> tuple[str, str, str]:
    """(subject, text body, html body) of a mail of ``kind``; ValueError for an unknown kind
    or a context with missing or unexpected keys."""
    if kind not in KINDS:
        raise ValueError(f"unknown mail kind {kind!r}; known: {', '.join(sorted(KINDS))}")
    required, optional = KINDS[kind]
    missing = required - context.keys()
    unexpected = context.keys() - required - optional
    if missing or unexpected:
        raise ValueError(
            f"mail {kind!r}: missing {sorted(missing)}, unexpected {sorted(unexpected)}"
        )
    site = urlsplit(settings.issuer)
    fixed = {"issuer": settings.issuer, "site": site.netloc + site.path}
    values = {name: None for name in optional} | context | fixed
    env = _environment(settings.mail_templates_dir)
    subject = env.get_template(f"{kind}.subject.txt").render(values)
    text = env.get_template(f"{kind}.txt").render(values)
    html = env.get_template(f"{kind}.html").render(values)
    # A subject is one line: a name with a line break in it must not end the header.
    return " ".join(subject.split()), text.strip() + "\n", html


def build_message(
    *, mail_from: str, to: str, subject: str, text: str, html: str, message_id_domain: str
) -> EmailMessage:
    """A multipart/alternative message (text first, html preferred by readers that can) with
    Message-ID and Date. ValueError for a CR or LF in any header value, or a From or To
    that is not exactly one address."""
    single_address("From", mail_from)
    single_address("To", to)
    check_header_value("Subject", subject)
    check_header_value("Message-ID", message_id_domain)
    if not message_id_domain or any(c in message_id_domain for c in "<>@ \t"):
        raise ValueError("message_id_domain must be a bare domain, e.g. id.example.com")
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    # RFC 5322 §3.6.4: unique; random rather than make_msgid's time and process id.
    message["Message-ID"] = f"<{secrets.token_hex(16)}@{message_id_domain}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834 §5: no auto-replies to it
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
