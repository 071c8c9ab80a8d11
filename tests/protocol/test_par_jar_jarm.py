"""PAR (protocol/par.py), JAR (protocol/jar.py), JARM (protocol/jarm.py) and their client
metadata (protocol/jar_metadata.py) on the memory store with a fake clock."""

from __future__ import annotations

import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import ECKey

from keystead.errors import OAuthError
from keystead.jose import jwt
from keystead.protocol import authorize, issue, jar, jar_metadata, jarm, par
from keystead.protocol.request import OAuthRequest, from_pairs
from keystead.protocol.request_source import resolve
from tests.protocol.conftest import SECRET, basic

pytestmark = pytest.mark.anyio

KEY = ECKey.generate_key("P-256", parameters={"kid": "k1"})
JWKS = {"keys": [KEY.as_dict(private=False)]}


def test_jwt_mode_is_made_explicit() -> None:
    # JARM §2.3.4: jwt is query.jwt for code, fragment.jwt when tokens are returned
    assert jarm.explicit("jwt", "code") == "query.jwt"
    assert jarm.explicit("jwt", "code id_token") == "fragment.jwt"
    assert jarm.explicit("form_post.jwt", "code") == "form_post.jwt"
    assert jarm.is_jwt("jwt") and not jarm.is_jwt("query")


async def test_jarm_response_is_signed_for_the_client(oauth, make_client, session) -> None:
    client = await make_client(extra={jarm.ALG: "ES256"})
    areq = await oauth.validate(client, response_mode="form_post.jwt")
    assert areq.response_mode == "form_post.jwt"
    resp = await issue.issue(areq, session, oauth.provider, consent_given_now=True)
    assert resp.response_mode == "form_post" and set(resp.params) == {"response"}
    header, claims = jwt.verify(resp.params["response"], await oauth.provider.keyring())
    assert header["alg"] == "ES256"
    assert claims["aud"] == "rp" and claims["state"] == "st-1" and claims["code"]


async def test_query_jwt_cannot_carry_tokens(oauth, make_client) -> None:
    client = await make_client(
        response_types=("code id_token",), grant_types=("authorization_code", "implicit")
    )
    with pytest.raises(OAuthError) as caught:
        await oauth.validate(client, response_type="code id_token", response_mode="query.jwt")
    assert caught.value.catalog_id == "response-mode-unsupported"
    assert caught.value.redirect is not None
    assert caught.value.redirect.response_mode == "fragment"  # not where tokens may not go
    areq = await oauth.validate(client, response_type="code id_token", response_mode="jwt")
    assert areq.response_mode == "fragment.jwt"


def _object(oauth, **claims) -> str:
    now = oauth.provider.now()
    body = {"iss": "rp", "aud": oauth.provider.settings.issuer, "exp": now + 60}
    return jose_jwt.encode({"alg": "ES256", "kid": "k1"}, {**body, **claims}, KEY)


async def test_request_object_parameters_replace_the_outside_ones(oauth, make_client) -> None:
    await make_client(extra={"jwks": JWKS})
    token = _object(oauth, scope="openid", state="in", max_age=30, claims={"userinfo": {}})
    req = from_pairs("GET", [("client_id", "rp"), ("request", token), ("state", "out")])
    effective = await resolve(req, oauth.provider)
    assert effective.params == {
        "client_id": "rp",
        "scope": "openid",
        "state": "in",
        "max_age": "30",
        "claims": '{"userinfo":{}}',
    }
    assert "iss" not in effective.params  # JWT claims are not request parameters


@pytest.mark.parametrize(
    "claims, catalog_id",
    [
        ({"request": "x"}, "request-object-claims"),
        ({"aud": ["https://other"]}, "request-object-claims"),
        ({"exp": "soon"}, "request-object-claims"),
        ({"scope": ["openid"]}, "request-object-claims"),
    ],
)
async def test_request_object_claim_rules(oauth, make_client, claims, catalog_id) -> None:
    client = await make_client(extra={"jwks": JWKS})
    req = OAuthRequest("GET", {"client_id": "rp", "request": _object(oauth, **claims)})
    with pytest.raises(OAuthError) as caught:
        await jar.from_object(req, client, req.params["request"], oauth.provider)
    assert caught.value.catalog_id == catalog_id


async def test_client_without_keys_cannot_sign(oauth, make_client) -> None:
    client = await make_client()
    req = OAuthRequest("GET", {"client_id": "rp"})
    with pytest.raises(OAuthError) as caught:
        await jar.from_object(req, client, _object(oauth), oauth.provider)
    assert caught.value.catalog_id == "request-object-keys"


async def test_push_then_take_once(oauth, client, clock) -> None:
    params = {k: v for k, v in oauth.params(client).items() if v is not None}
    req = OAuthRequest("POST", params, authorization=basic("rp", SECRET))
    pushed = await par.push(req, oauth.provider)
    assert pushed["expires_in"] == 60
    at_authorize = OAuthRequest("GET", {"client_id": "rp", "request_uri": pushed["request_uri"]})
    taken = await resolve(at_authorize, oauth.provider)
    assert taken.params["state"] == "st-1"
    areq = await authorize.validate(taken, oauth.provider)
    assert areq.client.client_id == "rp"
    with pytest.raises(OAuthError) as caught:
        await resolve(at_authorize, oauth.provider)
    assert caught.value.catalog_id == "par-request-uri-used"


async def test_push_validates_like_authorize_and_answers_without_redirect(oauth, client) -> None:
    params = {k: v for k, v in oauth.params(client).items() if v is not None}
    params["scope"] = "nothing-allowed"
    req = OAuthRequest("POST", params, authorization=basic("rp", SECRET))
    with pytest.raises(OAuthError) as caught:
        await par.push(req, oauth.provider)
    assert caught.value.catalog_id == "scope-invalid" and caught.value.redirect is None


@pytest.mark.parametrize(
    "values, has_keys, field",
    [
        ({"request_uris": ["not a url"]}, False, "request_uris"),
        ({"request_object_signing_alg": "HS256"}, True, "request_object_signing_alg"),
        ({"request_object_signing_alg": "ES256"}, False, "request_object_signing_alg"),
        ({"authorization_signed_response_alg": "none"}, False, "authorization_signed_response_alg"),
        (
            {"require_pushed_authorization_requests": "yes"},
            False,
            "require_pushed_authorization_requests",
        ),
    ],
)
def test_metadata_rules(values, has_keys, field) -> None:
    broken = jar_metadata.problem(values, has_keys)
    assert broken is not None and broken[0] == field


def test_metadata_that_holds() -> None:
    values = {
        "request_uris": ["https://rp.example.com/ro"],
        "request_object_signing_alg": "none",
        "authorization_signed_response_alg": "PS256",
        "require_pushed_authorization_requests": True,
    }
    assert jar_metadata.problem(values, False) is None
    assert jar_metadata.stored({**values, "require_pushed_authorization_requests": False}) == {
        k: v for k, v in values.items() if k != "require_pushed_authorization_requests"
    }
