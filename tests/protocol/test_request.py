"""OAuthRequest: the framework-free request the protocol layer sees."""

from __future__ import annotations

import base64

import pytest

from keystead.errors import OAuthError
from keystead.protocol.request import OAuthRequest, parse_params


def req(params=None, authorization=None, duplicated=()) -> OAuthRequest:
    return OAuthRequest("POST", params or {}, frozenset(duplicated), authorization)


def basic(raw: str) -> str:
    return "Basic " + base64.b64encode(raw.encode()).decode()


def test_parse_params_keeps_the_first_value_and_flags_duplicates() -> None:
    params, duplicated, _ = parse_params([("a", "1"), ("b", "2"), ("a", "3"), ("c", "")])
    assert params == {"a": "1", "b": "2", "c": ""}
    assert duplicated == frozenset({"a"})


@pytest.mark.parametrize(
    "pairs",
    [
        [],
        [("a", "1"), ("resource", "https://api")],
        [("resource", "https://a"), ("x", ""), ("resource", "https://b")],
        [("resource", "https://a"), ("resource", "https://a")],
        [("b", "2"), ("a", "1"), ("b", "3"), ("resource", "r")],
    ],
)
def test_parse_params_of_a_list_or_a_generator_agree(pairs: list[tuple[str, str]]) -> None:
    """Lists and tuples take a quicker path when no name comes twice: the same result."""
    expected = parse_params(iter(pairs))
    assert parse_params(pairs) == expected
    assert parse_params(tuple(pairs)) == expected
    params, _, multi = expected
    assert list(params) == list(dict.fromkeys(name for name, _ in pairs))
    assert multi == (
        {"resource": tuple(v for n, v in pairs if n == "resource")}
        if params.get("resource") is not None
        else {}
    )


def test_get_treats_empty_values_as_omitted() -> None:
    # RFC 6749 §3.1
    r = req({"state": "", "nonce": "n"})
    assert r.get("state") is None
    assert r.get("missing") is None
    assert r.get("nonce") == "n"


def test_require_names_the_missing_parameter_and_why() -> None:
    with pytest.raises(OAuthError) as caught:
        req({"code": ""}).require("code", " for this grant")
    assert caught.value.catalog_id == "request-missing-parameter"
    assert caught.value.description == "The code parameter is required for this grant."


def test_refuse_duplicates_only_for_the_named_parameters() -> None:
    r = req({"a": "1", "b": "2"}, duplicated={"b"})
    r.refuse_duplicates(["a", "c"])
    with pytest.raises(OAuthError) as caught:
        r.refuse_duplicates(["a", "b"])
    assert caught.value.catalog_id == "request-duplicate-parameter"
    assert "The b parameter" in caught.value.description


def test_no_authorization_header() -> None:
    assert req().basic_credentials() is None
    assert req().bearer_token() is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("rp:s3cret", ("rp", "s3cret")),
        ("rp%3Aone:pa%3Ass%25word", ("rp:one", "pa:ss%word")),  # RFC 6749 §2.3.1
        ("my+client:a+b%2Bc", ("my client", "a b+c")),
        ("rp:", ("rp", "")),
        ("rp:raw:colon", ("rp", "raw:colon")),
        ("caf%C3%A9:x", ("café", "x")),
    ],
)
def test_basic_credentials_are_form_urldecoded(raw, expected) -> None:
    assert req(authorization=basic(raw)).basic_credentials() == expected


def test_basic_scheme_is_case_insensitive() -> None:
    header = "bAsIc " + base64.b64encode(b"rp:s").decode()
    assert req(authorization=header).basic_credentials() == ("rp", "s")


@pytest.mark.parametrize(
    "header",
    [
        "Basic !!!notbase64",
        basic("no-colon"),
        basic(":secret-without-id"),
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
        "Basic ",
        "Basic é",  # not ASCII: base64 refuses it with a ValueError (was a 500)
    ],
)
def test_malformed_basic_is_invalid_client(header) -> None:
    with pytest.raises(OAuthError) as caught:
        req(authorization=header).basic_credentials()
    assert caught.value.catalog_id == "client-auth-malformed"
    assert caught.value.status == 401
    assert caught.value.headers["WWW-Authenticate"].startswith("Basic")


def test_basic_credentials_are_decoded_once_and_a_malformed_header_fails_every_time() -> None:
    request = req(authorization=basic("rp:s3cret"))
    first = request.basic_credentials()
    assert request.basic_credentials() is first  # client auth and introspection both ask
    assert request == req(authorization=basic("rp:s3cret"))  # the cache is not compared
    bad = req(authorization=basic("no-colon"))
    for _ in range(2):
        with pytest.raises(OAuthError):
            bad.basic_credentials()


def test_other_schemes_are_not_basic() -> None:
    assert req(authorization="Bearer abc").basic_credentials() is None


@pytest.mark.parametrize(
    ("header", "token"),
    [("Bearer abc.def", "abc.def"), ("bearer  tok ", "tok"), ("Bearer ", None), ("Basic x", None)],
)
def test_bearer_token(header, token) -> None:
    assert req(authorization=header).bearer_token() == token
