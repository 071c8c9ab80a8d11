"""Which scopes an access token for an API carries (resources.token_scopes)."""

from __future__ import annotations

from keystead.protocol.resources import ApiIndex, token_scopes
from keystead.store.base import Api


def _api(api_id: str, *names: str) -> Api:
    return Api(
        api_id, f"https://{api_id}.example.com", api_id, tuple((n, n) for n in names), "jwt", 60, 0
    )


A = _api("a", "read", "shared")
B = _api("b", "write", "shared")  # "shared" is A's in the index (the first API with the name)
INDEX = ApiIndex.build([A, B])
REQUESTED = ("openid", "read", "write", "shared", "offline_access")


def test_an_apis_own_scopes_and_the_scopes_of_no_api() -> None:
    assert token_scopes(REQUESTED, A, INDEX) == ("openid", "read", "shared", "offline_access")
    # A scope name two APIs declare belongs to each of them.
    assert token_scopes(REQUESTED, B, INDEX) == ("openid", "write", "shared", "offline_access")


def test_no_api_keeps_only_the_scopes_of_no_api() -> None:
    assert token_scopes(REQUESTED, None, INDEX) == ("openid", "offline_access")


def test_an_api_object_not_from_the_index_is_matched_by_its_scope_names() -> None:
    copy = _api("a", "read", "shared")
    assert copy is not A
    assert token_scopes(REQUESTED, copy, INDEX) == ("openid", "read", "shared", "offline_access")
