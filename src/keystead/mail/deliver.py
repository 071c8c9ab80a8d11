"""The outbox's handler for mail jobs (outbox.py): render the message, send it over SMTP;
without SMTP, a development server logs it (with its link) instead."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from keystead.accounts.links import development
from keystead.mail.messages import build_message, render
from keystead.mail.smtp import MailError, send, target_from_settings
from keystead.outbox import DeliveryError

if TYPE_CHECKING:
    from keystead.provider import Provider

log = logging.getLogger("keystead.mail")


def default_from(issuer: str) -> str:
    host = urlsplit(issuer).hostname or "localhost"
    domain = host if "." in host and not host.replace(".", "").isdigit() else "localhost"
    return f"keystead <no-reply@{domain}>"


async def deliver_mail(provider: Provider, payload: dict[str, Any]) -> None:
    settings = provider.settings
    try:
        subject, text, html = render(payload["template"], payload["context"], settings=settings)
        message = build_message(
            mail_from=settings.mail_from or default_from(settings.issuer),
            to=payload["to"],
            subject=subject,
            text=text,
            html=html,
            message_id_domain=urlsplit(settings.issuer).hostname or "localhost",
        )
    except (KeyError, ValueError) as exc:  # a template or an address that cannot work
        raise DeliveryError(f"the message cannot be built: {exc}", permanent=True) from None
    target = target_from_settings(settings)
    if target is None:
        if development(settings):
            # The quickstart has no mail server: the developer reads the link here.
            log.warning("mail (development, no KEYSTEAD_SMTP_URL) to %s: %s\n%s",
                        payload["to"], subject, text)  # fmt: skip
            return
        raise DeliveryError("KEYSTEAD_SMTP_URL is not set: mail waits until it is")
    try:
        await send(target, message, settings.smtp_timeout)
    except MailError as exc:
        raise DeliveryError(exc.reason, permanent=exc.permanent) from None


HANDLERS = {"mail": deliver_mail}
