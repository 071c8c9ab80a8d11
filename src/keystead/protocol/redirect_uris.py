"""Redirect URI rules by application_type, one table for registration and for matching.

Client registration (services/clients.py) and the authorization endpoint
(protocol/authorize.py ``check_redirect_uri``) both read ``KINDS``, so what may be registered
and how it is matched cannot drift apart (RFC 6749 §3.1.2, RFC 9700 §2.1, RFC 8252 §7,
OIDC Registration §2 application_type).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

APPLICATION_TYPES = ("web", "native")
LOOPBACK_HOSTS = ("localhost",)
# RFC 3986 §3.2.2 host, narrowed to what a redirect target can be: a DNS name (letters,
# digits, hyphens, dots; IDNs in their xn-- form) or an IP literal. The reg-name's
# sub-delimiters (; * , = ...) have no place in a hostname and would be copied into the
# pages' Content-Security-Policy, so they are refused.
# Labels (RFC 1123 §2.1) joined by single dots: no empty label ("a..b"), none starting or
# ending with a hyphen; a trailing dot (the root) is allowed.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?\Z")
# Whitespace, controls and characters RFC 3986 §2 never allows unencoded in a URI.
_NOT_IN_URI = re.compile(r"[\x00-\x20\x7f\"<>\\^`{|}]")


class RedirectUriError(ValueError):
    """A redirect URI no client may register; the message says what to change."""


@dataclass(frozen=True, slots=True)
class Kind:
    application_types: tuple[str, ...]  # who may register a URI of this kind
    any_port_for: tuple[str, ...] = ()  # application types matched on any port
    note: str = ""


KINDS: dict[str, Kind] = {
    # Web: the default. Native: a claimed "https" scheme URI (RFC 8252 §7.2).
    "https": Kind(("web", "native")),
    # RFC 8252 §7.3: loopback IP literals; the port is chosen by the native app at request
    # time, so it is not compared. For web clients: development only, exact match.
    "loopback-ip": Kind(("web", "native"), any_port_for=("native",)),
    # RFC 8252 §8.3: localhost is NOT RECOMMENDED (it may resolve elsewhere): it is allowed
    # for development, always matched exactly, port included.
    "localhost": Kind(("web", "native"), note="use http://127.0.0.1 for any-port matching"),
    # RFC 8252 §7.1: a private-use scheme named after a reverse domain, native apps only.
    "private-use": Kind(("native",)),
}


def is_loopback_ip(host: str | None) -> bool:
    """127.0.0.0/8 or ::1 as an IP literal (``urlsplit().hostname`` drops the brackets)."""
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback(host: str | None) -> bool:
    """A host where plain http is allowed for development: loopback IPs and localhost."""
    return host in LOOPBACK_HOSTS or is_loopback_ip(host)


def kind_of(uri: str) -> str:
    """The KINDS entry ``uri`` belongs to; RedirectUriError if it belongs to none."""
    try:
        parts = urlsplit(uri)
    except ValueError as exc:  # e.g. an unbalanced IPv6 bracket
        raise RedirectUriError(f"redirect_uri {uri} is not a valid URI.") from exc
    if not parts.scheme:
        raise RedirectUriError(f"redirect_uri {uri} must be an absolute URI.")
    if parts.fragment or "#" in uri:
        raise RedirectUriError(f"redirect_uri {uri} must not contain a fragment (RFC 6749 §3.1.2).")
    _check_syntax(uri, parts)
    _check_port(uri, parts)
    if parts.scheme == "https":
        if not parts.hostname:
            raise RedirectUriError(f"redirect_uri {uri} has no host.")
        return "https"
    if parts.scheme == "http":
        if is_loopback_ip(parts.hostname):
            return "loopback-ip"
        if parts.hostname in LOOPBACK_HOSTS:
            return "localhost"
        raise RedirectUriError(
            f"redirect_uri {uri} uses http on a non-loopback host; use https (http is only "
            "allowed on 127.0.0.1, [::1] and localhost for development)."
        )
    # RFC 8252 §7.1: reverse domain name of a domain under the app's control.
    if "." in parts.scheme:
        return "private-use"
    raise _scheme_error(uri, parts.scheme)


def _scheme_error(uri: str, scheme: str) -> RedirectUriError:
    return RedirectUriError(
        f"redirect_uri {uri} has scheme {scheme}; web clients need https (or http on "
        "loopback); native apps may use a reverse-domain private-use scheme such as "
        "com.example.app:/callback (RFC 8252 §7.1) with --application-type native."
    )


def check_registration(uri: str, application_type: str) -> None:
    """May a client of ``application_type`` register ``uri``? RedirectUriError says why not."""
    if application_type not in APPLICATION_TYPES:
        raise RedirectUriError("application_type must be web or native.")
    if application_type not in KINDS[kind_of(uri)].application_types:
        raise _scheme_error(uri, urlsplit(uri).scheme)


def _check_syntax(uri: str, parts: SplitResult) -> None:
    """RFC 3986: no character a URI may not hold, no user information (§3.2.1: a
    user:password in a URI is deprecated, and a redirect target never needs one), and a
    host that is a hostname or an IP literal (§3.2.2)."""
    if _NOT_IN_URI.search(uri):
        raise RedirectUriError(
            f"redirect_uri {uri!r} contains a space, control or other character not allowed "
            "in a URI (RFC 3986 §2); percent-encode it."
        )
    if not parts.netloc:
        return
    if "@" in parts.netloc:
        raise RedirectUriError(
            f"redirect_uri {uri} contains user information before the host; remove it."
        )
    netloc = parts.netloc
    if netloc.startswith("["):  # an IP literal (§3.2.2): [IPv6], then perhaps :port
        literal, _, rest = netloc[1:].partition("]")
        if not _is_ipv6(literal) or (rest and not rest.startswith(":")):
            raise RedirectUriError(f"redirect_uri {uri} has an invalid IPv6 host.")
        return
    host = netloc.partition(":")[0]
    if not _HOSTNAME.match(host):
        raise RedirectUriError(
            f"redirect_uri {uri} has an invalid host {host[:60]!r}: use a DNS name or an IP "
            "address (RFC 3986 §3.2.2)."
        )


def _is_ipv6(literal: str) -> bool:
    try:
        ipaddress.IPv6Address(literal)
    except ValueError:
        return False
    return True


def _check_port(uri: str, parts: SplitResult) -> None:
    try:
        parts.port  # noqa: B018 - raises ValueError for a malformed or out-of-range port
    except ValueError as exc:
        raise RedirectUriError(f"redirect_uri {uri} has an invalid port.") from exc


def _without_port(parts: SplitResult) -> tuple[str, str, str, str]:
    """(scheme, host as written, path, query): everything a loopback redirect is matched on."""
    netloc = parts.netloc
    if parts.port is not None or netloc.endswith(":"):
        netloc = netloc.rpartition(":")[0]
    return parts.scheme, netloc, parts.path, parts.query


def matches(registered: str, sent: str, application_type: str) -> bool:
    """Does the redirect_uri ``sent`` in a request match the ``registered`` one?

    RFC 9700 §2.1: exact string comparison, no patterns; except RFC 8252 §7.3: a native
    app's loopback IP redirect matches on any port, and exactly on scheme, host, path and
    query.
    """
    if sent == registered:
        return True
    try:
        kind = kind_of(registered)
        if application_type not in KINDS[kind].any_port_for or kind_of(sent) != kind:
            return False
        return _without_port(urlsplit(sent)) == _without_port(urlsplit(registered))
    except RedirectUriError:
        return False


def is_registered(sent: str, registered: tuple[str, ...], application_type: str) -> bool:
    return any(matches(r, sent, application_type) for r in registered)


def mismatch_hint(sent: str, application_type: str) -> str:
    """One more sentence for a refused redirect_uri, when its kind has a known pitfall."""
    try:
        kind = kind_of(sent)
    except RedirectUriError:
        return ""
    if application_type == "native" and KINDS[kind].note:
        return f" Loopback redirects match on any port only for IP literals: {KINDS[kind].note}."
    return ""
