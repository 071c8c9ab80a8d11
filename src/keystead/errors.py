"""The one error type and the error catalog.

Every error keystead returns is raised as ``OAuthError(catalog_id, description)``. The catalog
entry fixes the RFC error code and HTTP status; the description says precisely what was wrong
in this request and how to fix it. Errors never render themselves: ``web/render.py`` decides
how an error travels (JSON, redirect in the response mode, HTML page, WWW-Authenticate).

The catalog's rows (ids, titles, causes, fixes, user messages) live in ``error_catalog/``, one
module per area; this module turns them into ``CatalogEntry`` values in ``CATALOG``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, NamedTuple

from keystead.error_catalog import (
    admin,
    authorize,
    ciba,
    client,
    dpop,
    exchange,
    fapi,
    federation,
    jar,
    mtls,
    oauth1,
    pages,
    request,
    resource,
    responses,
    server,
    token,
)

GENERIC_USER_MESSAGE = (
    "The application sent a sign-in request that cannot be processed.",
    "Go back to the application and try again. If this keeps happening, contact the "
    "application's owner and mention the correlation id below.",
)


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One error keystead can return: the RFC code and status it maps to, what a developer
    reads (title, causes, fixes) and, for errors shown to a person, plain words."""

    id: str
    error: str  # the RFC error code
    status: int
    title: str
    causes: tuple[str, ...] = ()
    fixes: tuple[str, ...] = ()
    user_message: tuple[str, str] = GENERIC_USER_MESSAGE  # (what happened, what to do)


# The areas of the catalog, in the order of docs/errors.md and the /errors index.
_AREAS = (
    request,
    authorize,
    token,
    exchange,
    ciba,
    resource,
    pages,
    federation,
    client,
    admin,
    server,
    oauth1,
    jar,
    responses,
    dpop,
    fapi,
    mtls,
)

CATALOG: dict[str, CatalogEntry] = {
    row[0]: CatalogEntry(*row) for area in _AREAS for row in area.ROWS
}

_NOT_ALLOWED = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")


# What an error may echo of the caller's input: a run of non-blank characters (a value, a
# URI) is cut past ECHO_LIMIT, the whole description past DESCRIPTION_LIMIT, so a refused
# request carrying a 60 KB parameter answers, logs and stores a few hundred bytes.
ECHO_LIMIT = 100
DESCRIPTION_LIMIT = 1000
_LONG_RUN = re.compile(rf"\S{{{ECHO_LIMIT + 1},}}")


def _cut(match: re.Match[str]) -> str:
    run = match.group(0)
    return f"{run[:ECHO_LIMIT]}...({len(run) - ECHO_LIMIT} more characters)"


def safe_description(text: str) -> str:
    """RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E only; echoed values
    are cut (ECHO_LIMIT, DESCRIPTION_LIMIT)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    cleaned = _NOT_ALLOWED.sub("'", ascii_text.replace("\n", " ").replace("\\", "/"))
    if len(cleaned) > ECHO_LIMIT:
        cleaned = _LONG_RUN.sub(_cut, cleaned)
        if len(cleaned) > DESCRIPTION_LIMIT:
            cleaned = cleaned[:DESCRIPTION_LIMIT] + "..."
    return cleaned


class RedirectTarget(NamedTuple):
    """Where an authorization error may be sent once the redirect_uri is trusted."""

    redirect_uri: str
    response_mode: str
    state: str | None
    client_id: str | None = None  # JARM: the audience of a signed error response


class OAuthError(Exception):
    def __init__(
        self,
        catalog_id: str,
        description: str,
        *,
        debug: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        entry = CATALOG[catalog_id]  # KeyError here is a bug: every error must be catalogued
        self.entry = entry
        self.catalog_id = catalog_id
        self.error = entry.error
        self.status = entry.status
        self.description = safe_description(description)
        self.debug = debug  # logged, never sent
        self.headers = headers or {}
        self.redirect: RedirectTarget | None = None
        super().__init__(f"{entry.error} ({catalog_id}): {self.description}")

    def to_dict(self, errors_base_url: str | None = None) -> dict[str, Any]:
        body = {"error": self.error, "error_description": self.description}
        if errors_base_url is not None:
            body["error_uri"] = errors_base_url + self.catalog_id  # keystead's page for it
        return body
