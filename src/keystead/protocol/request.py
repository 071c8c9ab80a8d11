"""The framework-free request the protocol layer sees (web/ builds it from Starlette)."""

from __future__ import annotations

import binascii
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple
from urllib.parse import unquote_plus

from keystead.errors import OAuthError

_UNREAD: Any = object()  # basic_credentials() not yet decoded


def _form_decoded(value: str) -> str:
    """``unquote_plus(value)``; most values have nothing to decode."""
    return unquote_plus(value) if "%" in value or "+" in value else value


_EMPTY: Mapping[str, Any] = MappingProxyType({})


class _Fields(NamedTuple):
    method: str
    params: Mapping[str, str]
    duplicated: frozenset[str] = frozenset()
    authorization: str | None = None  # the raw Authorization header
    remote_addr: str | None = None
    headers: Mapping[str, str] = _EMPTY
    multi: Mapping[str, tuple[str, ...]] = _EMPTY  # repeatable params
    pairs: tuple[tuple[str, str], ...] = ()  # every parameter as sent, in order
    # RFC 8705: the client certificate chain of a mutual-TLS request (DER, leaf first)
    client_cert: tuple[bytes, ...] | None = None


class OAuthRequest(_Fields):
    """The request's parameters, credentials and the headers that matter; immutable (a
    named tuple: built once or twice per request, for a third of a frozen dataclass's
    field-by-field ``__init__``). ``basic_credentials()`` keeps its answer beside the
    fields: client authentication and introspection's caller check both ask."""

    def get_all(self, name: str) -> tuple[str, ...]:
        """Every value of a repeatable parameter (RFC 8707 ``resource``), empty ones dropped."""
        return tuple(v for v in self.multi.get(name, ()) if v)

    def get(self, name: str) -> str | None:
        # RFC 6749 §3.1: parameters sent without a value are treated as omitted.
        value = self.params.get(name)
        return value if value else None

    def require(self, name: str, why: str = "") -> str:
        value = self.get(name)
        if value is None:
            raise OAuthError(
                "request-missing-parameter",
                f"The {name} parameter is required{why}.",
            )
        return value

    def refuse_duplicates(self, names: Iterable[str]) -> None:
        # RFC 6749 §3.1: request parameters MUST NOT be included more than once.
        if not self.duplicated:
            return
        for name in sorted(self.duplicated.intersection(names)):
            raise OAuthError(
                "request-duplicate-parameter",
                f"The {name} parameter was sent more than once; send it exactly once.",
            )

    def basic_credentials(self) -> tuple[str, str] | None:
        """(client_id, client_secret) from ``Authorization: Basic``; None if absent.

        RFC 6749 §2.3.1: both parts are form-urlencoded before base64 encoding.
        """
        cache = self.__dict__
        known = cache.get("_basic", _UNREAD)
        if known is not _UNREAD:
            return known  # type: ignore[no-any-return]
        header = self.authorization
        if header is None or not header[:6].lower() == "basic ":
            cache["_basic"] = None
            return None
        try:  # base64.b64decode(..., validate=True), without its Python wrapper
            raw = binascii.a2b_base64(header[6:].strip().encode("ascii"), strict_mode=True)
            decoded = raw.decode("utf-8")
        except (ValueError, UnicodeDecodeError):  # binascii.Error, or non-ASCII: a ValueError
            decoded = ""
        client_id, sep, secret = decoded.partition(":")
        if not sep or not client_id:
            raise OAuthError(
                "client-auth-malformed",
                "The Authorization header is not valid HTTP Basic: expected "
                "base64(client_id:client_secret).",
                headers={"WWW-Authenticate": 'Basic realm="keystead"'},
            )
        credentials = _form_decoded(client_id), _form_decoded(secret)
        cache["_basic"] = credentials
        return credentials

    def bearer_token(self) -> str | None:
        header = self.authorization
        if header is None or not header[:7].lower() == "bearer ":
            return None
        return header[7:].strip() or None


REPEATABLE = ("resource",)  # RFC 8707 §2: resource may be repeated
_NONE: frozenset[str] = frozenset()


def parse_params(
    pairs: Iterable[tuple[str, str]],
) -> tuple[dict[str, str], frozenset[str], dict[str, tuple[str, ...]]]:
    """Collect parameters, remembering which names appeared more than once; repeatable
    parameters keep all their values."""
    if isinstance(pairs, tuple | list):
        once = dict(pairs)
        if len(once) == len(pairs):  # no name twice (the usual request): one value each
            return once, _NONE, {n: (once[n],) for n in REPEATABLE if n in once}
    params: dict[str, str] = {}
    duplicated: set[str] = set()
    multi: dict[str, tuple[str, ...]] = {}
    for name, value in pairs:
        if name in REPEATABLE:
            multi[name] = (*multi.get(name, ()), value)
        if name in params:
            if name not in REPEATABLE:
                duplicated.add(name)
        else:
            params[name] = value
    return params, frozenset(duplicated), multi


def from_pairs(method: str, pairs: Iterable[tuple[str, str]], **kwargs: object) -> OAuthRequest:
    pairs = tuple(pairs)
    params, duplicated, multi = parse_params(pairs)
    return OAuthRequest(
        method=method,
        params=params,
        duplicated=duplicated,
        multi=multi,
        pairs=pairs,
        **kwargs,  # type: ignore[arg-type]
    )
