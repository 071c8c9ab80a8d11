"""APIs as token audiences: resource indicators (RFC 8707) and which API a token is for.

One API per access token. The API follows from ``resource`` when sent, else from the
authorization's single resource, else from the scopes (a scope name belongs to one API), else
from the client's default API. An ambiguous request is refused, saying how to disambiguate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from keystead.errors import OAuthError
from keystead.store.base import Api, Client


@dataclass(frozen=True)
class ApiIndex:
    by_identifier: dict[str, Api] = field(default_factory=dict)
    by_scope: dict[str, Api] = field(default_factory=dict)
    by_id: dict[str, Api] = field(default_factory=dict)

    @classmethod
    def build(cls, apis: Iterable[Api]) -> ApiIndex:
        index = cls()
        for api in apis:
            index.by_identifier[api.identifier] = api
            index.by_id[api.api_id] = api
            for name in api.scope_names:
                index.by_scope.setdefault(name, api)
        return index

    def describe(self, scope: str) -> str | None:
        api = self.by_scope.get(scope)
        if api is None:
            return None
        return dict(api.scopes).get(scope)


def check_resource(value: str, index: ApiIndex) -> Api:
    """RFC 8707 §2: an absolute URI without a fragment, naming an API we know."""
    try:
        scheme = urlsplit(value).scheme
    except ValueError:  # e.g. "https://[x": not a URI at all
        scheme = ""
    if not scheme or "#" in value:
        raise OAuthError(
            "resource-invalid",
            f"resource {value[:200]} must be an absolute URI without a fragment (RFC 8707 §2).",
        )
    api = index.by_identifier.get(value)
    if api is None:
        raise OAuthError(
            "resource-unknown",
            f"resource {value} is not a registered API; registered: "
            f"{', '.join(sorted(index.by_identifier)) or 'none'}.",
        )
    return api


def default_api(client: Client, index: ApiIndex) -> Api | None:
    identifier = client.extra.get("default_resource")
    return index.by_identifier.get(identifier) if isinstance(identifier, str) else None


def select_api(
    index: ApiIndex,
    *,
    client: Client,
    requested: str | None,
    granted_resources: tuple[str, ...],
    scopes: tuple[str, ...],
) -> Api | None:
    if requested is not None:
        api = check_resource(requested, index)
        if granted_resources and requested not in granted_resources:
            raise OAuthError(
                "resource-not-granted",
                f"resource {requested} was not named in the authorization request; it named "
                f"{', '.join(granted_resources)}.",
            )
        return api
    if len(granted_resources) == 1:
        return check_resource(granted_resources[0], index)
    if len(granted_resources) > 1:
        raise OAuthError(
            "resource-ambiguous",
            "The authorization named several resources; send resource= with one of "
            f"{', '.join(granted_resources)} (one API per access token).",
        )
    owners = {
        index.by_scope[s].identifier: index.by_scope[s] for s in scopes if s in index.by_scope
    }
    if len(owners) == 1:
        return next(iter(owners.values()))
    if len(owners) > 1:
        raise OAuthError(
            "resource-ambiguous",
            "The scopes belong to several APIs; send resource= with one of "
            f"{', '.join(sorted(owners))} (one API per access token).",
        )
    return default_api(client, index)


def token_scopes(scopes: tuple[str, ...], api: Api | None, index: ApiIndex) -> tuple[str, ...]:
    """The scopes an access token for ``api`` carries: its own and the non-API ones."""
    if api is None:
        return tuple(s for s in scopes if s not in index.by_scope)
    return tuple(s for s in scopes if index.by_scope.get(s, api) is api or s in api.scope_names)
