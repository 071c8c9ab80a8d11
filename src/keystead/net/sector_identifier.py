"""The sector identifier document of a pairwise client (OIDC Registration §5).

``sector_identifier_uri`` names a JSON array of redirect URIs that the client's owner
publishes; keystead fetches it through the SSRF guard (net/fetch.py) when the client is
created or updated and refuses the client unless every one of its redirect URIs is listed
(OIDC Registration §5: "The values registered in redirect_uris MUST be included in the
elements of the array"). The outcome is kept as the client's sector (protocol/pairwise.py),
so nothing is fetched while tokens are issued.
"""

from __future__ import annotations

from collections.abc import Sequence

from keystead.net.fetch import FetchError, SafeFetcher


class SectorDocumentError(ValueError):
    """The document is unreachable, not a JSON array of strings, or misses a redirect URI;
    the message names which."""


async def check(fetcher: SafeFetcher, uri: str, redirect_uris: Sequence[str]) -> None:
    try:
        document = await fetcher.get_json(uri)
    except FetchError as exc:
        raise SectorDocumentError(f"sector_identifier_uri could not be fetched: {exc}") from None
    if not isinstance(document, list) or not all(isinstance(u, str) for u in document):
        raise SectorDocumentError(
            f"sector_identifier_uri {uri} must return a JSON array of redirect URIs."
        )
    listed = set(document)
    for redirect_uri in redirect_uris:
        if redirect_uri not in listed:
            # OIDC Registration §5: every registered redirect_uri MUST be in the array.
            raise SectorDocumentError(
                f"redirect_uri {redirect_uri} is not listed in the sector identifier document "
                f"at {uri}."
            )
