"""Header values keystead writes into mail: one line each, addresses one at a time."""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage


def check_header_value(name: str, value: str) -> None:
    """RFC 5322 §2.2: a header field is one line; a CR or LF in a value would start a new
    header (``Bcc:`` injected through a user's name or address). Refused, never stripped."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"the {name} header value contains a line break")


def single_address(name: str, value: str) -> Address:
    """``value`` as exactly one mailbox (``a@example.com`` or ``Name <a@example.com>``): a
    comma-separated list in a user's address would send the mail to someone else too."""
    check_header_value(name, value)
    probe = EmailMessage()
    try:
        probe[name] = value
        addresses: tuple[Address, ...] = probe[name].addresses
    except (ValueError, IndexError, TypeError):
        raise ValueError(f"the {name} address is not a valid mailbox") from None
    if len(addresses) != 1 or not addresses[0].username or not addresses[0].domain:
        raise ValueError(f"the {name} header must hold exactly one address, user@domain")
    if probe[name].defects:
        raise ValueError(f"the {name} address is not a valid mailbox")
    return addresses[0]


def check_mail_from(value: str) -> None:
    """``KEYSTEAD_MAIL_FROM``: one mailbox, e.g. ``keystead <no-reply@example.com>``."""
    try:
        single_address("From", value)
    except ValueError as exc:
        raise ValueError(f"{exc}, e.g. 'keystead <no-reply@example.com>'") from None
