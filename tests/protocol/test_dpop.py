"""DPoP proof checks (RFC 9449 §4.3), one by one, on the memory store with a fake clock."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey

from keystead.errors import OAuthError
from keystead.protocol import dpop
from keystead.provider import Provider
from tests.protocol.conftest import ISSUER, FakeClock

pytestmark = pytest.mark.anyio

HTU = ISSUER + "/token"
KEY = ECKey.generate_key("P-256")


def make(
    key: Any = KEY,
    *,
    alg: str = "ES256",
    header: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    head = {"typ": "dpop+jwt", "alg": alg, "jwk": key.as_dict(private=False), **(header or {})}
    head = {k: v for k, v in head.items() if v is not None}
    body = {
        "jti": secrets.token_urlsafe(8),
        "htm": "POST",
        "htu": HTU,
        "iat": claims.pop("iat", None),
        **claims,
    }
    body = {k: v for k, v in body.items() if v is not None}
    return jose_jwt.encode(head, body, key, algorithms=[alg])


async def check(provider: Provider, value: str, **kw: Any) -> dpop.Proof:
    kw.setdefault("htm", "POST")
    kw.setdefault("path", "/token")
    return await dpop.verify(provider, value, **kw)


async def refused(provider: Provider, value: str, words: str, **kw: Any) -> OAuthError:
    with pytest.raises(OAuthError) as info:
        await check(provider, value, **kw)
    assert words in info.value.description, info.value.description
    return info.value


async def test_a_good_proof_gives_the_key_thumbprint(provider: Provider, clock: FakeClock) -> None:
    proof = await check(provider, make(iat=clock.now))
    assert proof.jkt == KEY.thumbprint()  # RFC 7638 SHA-256


@pytest.mark.parametrize(
    "key, alg",
    [
        (RSAKey.generate_key(2048), "RS256"),
        (RSAKey.generate_key(2048), "PS256"),
        (OKPKey.generate_key("Ed25519"), "EdDSA"),
    ],
)
async def test_every_asymmetric_alg(
    provider: Provider, clock: FakeClock, key: Any, alg: str
) -> None:
    assert (await check(provider, make(key, alg=alg, iat=clock.now))).jkt == key.thumbprint()


async def test_each_check(provider: Provider, clock: FakeClock) -> None:
    now = clock.now
    await refused(provider, "a.b", "not a well-formed JWT")
    await refused(provider, make(iat=now) + "," + make(iat=now), "more than one DPoP header")
    await refused(provider, make(iat=now, header={"typ": "JWT"}), "typ must be dpop+jwt")
    await refused(provider, make(iat=now, header={"typ": None}), "typ must be dpop+jwt")
    mac = OctKey.generate_key(256)
    await refused(
        provider,
        make(mac, alg="HS256", header={"jwk": {"kty": "oct"}}, iat=now),
        "alg 'HS256' is not accepted",
    )
    await refused(provider, make(iat=now, header={"jwk": None}), "no jwk")
    await refused(provider, make(iat=now, header={"jwk": KEY.as_dict(private=True)}), "private")
    other = ECKey.generate_key("P-256").as_dict(private=False)
    await refused(provider, make(iat=now, header={"jwk": other}), "signature does not verify")
    await refused(provider, make(iat=now, jti=""), "jti must be")
    await refused(provider, make(iat="soon"), "iat must be a number")
    for odd in (float("inf"), float("nan"), True, -1):
        await refused(provider, make(iat=odd), "iat must be a number")
    await check(provider, make(iat=now + 0.5))  # a NumericDate may have a fraction
    await refused(provider, make(iat=now, htm="GET"), "htm must be POST")
    await refused(provider, make(iat=now, htu=ISSUER + "/userinfo"), "htu must be")
    await refused(provider, make(iat=now, htu="https://evil.example/token"), "htu must be")
    window = provider.settings.dpop_proof_max_age
    await refused(provider, make(iat=now - window - 1), "iat is not within")
    await refused(provider, make(iat=now + window + 1), "iat is not within")


async def test_htu_normalisation(provider: Provider, clock: FakeClock) -> None:
    # RFC 9449 §4.3 check 9: without query and fragment; scheme and host case, default port.
    for htu in (HTU + "?a=1", HTU + "#f", "HTTPS://ID.EXAMPLE.COM/token", ISSUER + ":443/token"):
        await check(provider, make(iat=clock.now, htu=htu))


async def test_replay_is_refused(provider: Provider, clock: FakeClock) -> None:
    value = make(iat=clock.now)
    await check(provider, value)
    err = await refused(provider, value, "jti was already used")
    assert err.error == "invalid_dpop_proof" and err.status == 400


async def test_ath_at_a_resource(provider: Provider, clock: FakeClock) -> None:
    kw = {"htm": "GET", "path": "/userinfo", "access_token": "tok", "resource": True}
    htu = ISSUER + "/userinfo"
    err = await refused(provider, make(iat=clock.now, htm="GET", htu=htu), "ath", **kw)
    assert err.status == 401 and 'error="invalid_dpop_proof"' in err.headers["WWW-Authenticate"]
    wrong = make(iat=clock.now, htm="GET", htu=htu, ath=dpop.access_token_hash("other"))
    await refused(provider, wrong, "ath does not match", **kw)
    good = make(iat=clock.now, htm="GET", htu=htu, ath=dpop.access_token_hash("tok"))
    await check(provider, good, **kw)


async def test_nonces(make_provider: Any, clock: FakeClock) -> None:
    provider = await make_provider(dpop_require_nonce=True)
    err = await refused(provider, make(iat=clock.now), "a nonce is required")
    assert err.error == "use_dpop_nonce"
    nonce = err.headers["DPoP-Nonce"]
    await refused(provider, make(iat=clock.now, nonce="forged"), "outdated")
    await check(provider, make(iat=clock.now, nonce=nonce))
    clock.advance(provider.settings.dpop_nonce_ttl)  # the next window: still good
    await check(provider, make(iat=clock.now, nonce=nonce))
    clock.advance(provider.settings.dpop_nonce_ttl)
    await refused(provider, make(iat=clock.now, nonce=nonce), "outdated")


def test_presented_token_and_proof() -> None:
    dpop.check_presented(None, None)  # a Bearer token
    dpop.check_presented("k", "k")
    for token_jkt, proof_jkt, words in (
        ("k", None, "not Bearer"),
        ("k", "other", "another key"),
        (None, "k", "not DPoP-bound"),
    ):
        with pytest.raises(OAuthError) as info:
            dpop.check_presented(token_jkt, proof_jkt)
        assert info.value.error == "invalid_token" and words in info.value.description


def test_access_token_hash() -> None:
    # RFC 9449 §7.1's example: ath of the access token "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
    value = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
    assert dpop.access_token_hash(value) == "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
