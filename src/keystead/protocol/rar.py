"""Rich Authorization Requests (RFC 9396): ``authorization_details``.

A client asks for fine-grained access with a JSON array of objects, each naming a ``type``
(§2). keystead accepts the types an API registered (``keystead api create
--authorization-details-type TYPE``), checks the common data fields of §2.2, shows each
object on the consent page in plain words, and keeps the approved array with the grant (next
to the claims request, ``Grant.claims["authorization_details"]``), from where it goes into
the token response (§7), JWT access tokens (§9.1) and introspection (§9.2).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from keystead.errors import OAuthError
from keystead.store.base import Api

PARAMETER = "authorization_details"
MAX_OBJECTS = 20
_TYPE = re.compile(r"[!-~]{1,200}\Z")  # printable ASCII, no spaces
# §2.2: common data fields: arrays of strings, and one string.
STRING_ARRAYS = ("locations", "actions", "datatypes", "privileges")
_STRINGS = ("identifier",)


def type_problem(name: str) -> str | None:
    if not _TYPE.match(name):
        return f"authorization_details type {name[:60]!r} must be 1-200 printable characters."
    return None


def types_of(apis: Iterable[Api]) -> dict[str, Api]:
    """The registered types and the API each belongs to (discovery, validation)."""
    return {t: api for api in apis for t in api.authorization_details_types}


def _invalid(description: str) -> OAuthError:
    return OAuthError("authorization-details-invalid", description)


def parse(raw: str | None, registered: Mapping[str, Api]) -> list[dict[str, Any]] | None:
    """The request's authorization_details, checked (RFC 9396 §2, §5); None when absent."""
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        raise _invalid("authorization_details is not valid JSON.") from None
    # §2: a JSON array of JSON objects.
    if not isinstance(value, list) or not value:
        raise _invalid("authorization_details must be a non-empty JSON array of objects.")
    if len(value) > MAX_OBJECTS:
        raise _invalid(f"authorization_details has more than {MAX_OBJECTS} objects.")
    for position, detail in enumerate(value):
        where = f"authorization_details[{position}]"
        if not isinstance(detail, dict):
            raise _invalid(f"{where} must be a JSON object.")
        kind = detail.get("type")
        # §2: type is REQUIRED; §5: an unknown type is invalid_authorization_details.
        if not isinstance(kind, str):
            raise _invalid(f"{where} has no type (a string).")
        if kind not in registered:
            raise _invalid(
                f"{where}.type {kind[:60]!r} is not a type this server accepts"
                + (f"; use one of {', '.join(sorted(registered))}." if registered else ".")
            )
        for name in STRING_ARRAYS:
            member = detail.get(name)
            if member is not None and not (
                isinstance(member, list) and all(isinstance(v, str) for v in member)
            ):
                raise _invalid(f"{where}.{name} must be an array of strings (RFC 9396 §2.2).")
        for name in _STRINGS:
            if name in detail and not isinstance(detail[name], str):
                raise _invalid(f"{where}.{name} must be a string (RFC 9396 §2.2).")
    return value


def granted(claims: Mapping[str, Any] | None) -> list[dict[str, Any]] | None:
    """The authorization_details kept with a grant (its claims request)."""
    value = (claims or {}).get(PARAMETER)
    return value if isinstance(value, list) else None


def _words(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_words(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_words(v) for v in value)
    return str(value)


def describe(detail: Mapping[str, Any], registered: Mapping[str, Api]) -> str:
    """One object in plain words for the consent page (e.g. "Payments: initiate at
    https://bank.example; instructedAmount: currency EUR, amount 123.50")."""
    kind = str(detail.get("type"))
    api = registered.get(kind)
    parts = []
    actions, locations = detail.get("actions"), detail.get("locations")
    if actions:
        parts.append(", ".join(actions) + (f" at {', '.join(locations)}" if locations else ""))
    elif locations:
        parts.append("at " + ", ".join(locations))
    for name in ("datatypes", "privileges"):
        if detail.get(name):
            parts.append(f"{name} {', '.join(detail[name])}")
    if detail.get("identifier"):
        parts.append(f"the resource {detail['identifier']}")
    skip = {"type", "identifier", *STRING_ARRAYS}
    parts += [f"{k}: {_words(v)}" for k, v in detail.items() if k not in skip]
    head = f"{api.name} ({kind})" if api is not None else kind
    return head + (": " + "; ".join(parts) if parts else "")


def consent_items(claims: Mapping[str, Any], registered: Mapping[str, Api]) -> list[dict[str, str]]:
    return [
        {"name": str(d.get("type")), "description": describe(d, registered)}
        for d in granted(claims) or []
    ]
