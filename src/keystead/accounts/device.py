"""Device cookies: a browser that signed in to an account before is trusted for it.

OWASP's "Slow Down Online Guessing Attacks with Device Cookies": after a successful login the
browser holds a token naming the account; a later attempt for that account carrying it is
throttled on its own (per token) instead of by the lockout meant for unknown sources, so an
attacker elsewhere cannot keep the owner out.

A token is ``<issued_at>.<nonce>.<mac>``: the MAC (HMAC-SHA256 under a key derived from the
KEK) covers the issue time, the nonce and the casefolded username, which is therefore never in
the cookie — a token only verifies for the account it was issued for. One cookie holds the
tokens of the last few accounts signed in from that browser, newest first, joined by ``~``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING

from keystead.secrets_util import random_token, same_text

if TYPE_CHECKING:
    from keystead.provider import Provider

MAX_TOKENS = 4  # accounts remembered per browser
_MAX_COOKIE = 512  # longer values are ignored unread
_PURPOSE = "device-cookie"


def cookie_name(provider: Provider) -> str:
    return "__Host-keystead_device" if provider.settings.secure_cookies else "keystead_device"


def _mac(key: bytes, issued_at: str, nonce: str, account: str) -> str:
    msg = f"{issued_at}.{nonce}.{account}".encode()
    digest = hmac.new(key, msg, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _tokens(cookie: str | None) -> list[str]:
    if not cookie or len(cookie) > _MAX_COOKIE:
        return []
    return [t for t in cookie.split("~") if t][:MAX_TOKENS]


def trusted_nonce(provider: Provider, cookie: str | None, account: str) -> str | None:
    """The nonce of the cookie's valid, unexpired token for ``account`` (casefolded), if any."""
    key = provider.kek.derive(_PURPOSE)
    now = provider.now()
    ttl = provider.settings.login_device_cookie_ttl
    for token in _tokens(cookie):
        parts = token.split(".")
        # ASCII digits only ('²' is a digit to str.isdigit, not to int).
        if len(parts) != 3 or not (parts[0].isascii() and parts[0].isdigit()):
            continue
        issued_at, nonce, mac = parts
        if not same_text(mac, _mac(key, issued_at, nonce, account)):
            continue
        if int(issued_at) + ttl > now:
            return nonce
    return None


def remember(provider: Provider, cookie: str | None, account: str) -> str:
    """The cookie value after ``account`` signed in: a fresh token for it first, then the
    other accounts' tokens (at most MAX_TOKENS in all)."""
    key = provider.kek.derive(_PURPOSE)
    issued_at = str(provider.now())
    nonce = random_token(16)
    fresh = f"{issued_at}.{nonce}.{_mac(key, issued_at, nonce, account)}"
    others = [
        t
        for t in _tokens(cookie)
        if t.count(".") == 2 and trusted_nonce(provider, t, account) is None
    ]
    return "~".join([fresh, *others][:MAX_TOKENS])
