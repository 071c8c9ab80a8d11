"""`keystead inspect`: every check can fail, with words that say why."""

from __future__ import annotations

import pytest

from keystead.jose import jwt
from keystead.jose.kek import KeyEncryptor
from keystead.jose.keys import KeyRing, ensure_keys
from keystead.services.inspect import inspect_token
from keystead.store.memory import MemoryStore

pytestmark = pytest.mark.anyio
ISSUER = "https://id.example.com"
NOW = 1_800_000_000


async def ring() -> KeyRing:
    kek = KeyEncryptor(b"k" * 32)
    return KeyRing.load(await ensure_keys(MemoryStore().keys, kek, NOW), kek)


def claims(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "iss": ISSUER,
        "sub": "s1",
        "aud": "client-1",
        "exp": NOW + 300,
        "iat": NOW,
        "auth_time": NOW - 10,
    }
    base.update(over)
    return base


def failed(result: object) -> dict[str, str]:
    return {c.name: c.detail for c in result.checks if not c.ok}  # type: ignore[attr-defined]


async def test_valid_token_explained() -> None:
    keys = await ring()
    token = jwt.sign(claims(), keys, "ES256", now=NOW)
    result = inspect_token(token, keys, issuer=ISSUER, now=NOW, audience="client-1")
    assert result.ok, failed(result)
    explained = dict(result.explanations)
    assert "in 300 s" in explained["exp"] and "expiry" in explained["exp"]
    assert "subject" in explained["sub"]


async def test_expired() -> None:
    keys = await ring()
    token = jwt.sign(claims(exp=NOW - 5), keys, "RS256", now=NOW)
    assert "expired 5 s ago" in failed(inspect_token(token, keys, issuer=ISSUER, now=NOW))["exp"]


async def test_wrong_audience_and_issuer() -> None:
    keys = await ring()
    token = jwt.sign(claims(iss="https://other"), keys, "ES256", now=NOW)
    bad = failed(inspect_token(token, keys, issuer=ISSUER, now=NOW, audience="api"))
    assert "expected it to contain 'api'" in bad["aud"]
    assert "https://other" in bad["iss"]


async def test_unknown_kid() -> None:
    other = await ring()
    token = jwt.sign(claims(), other, "ES256", now=NOW)
    bad = failed(inspect_token(token, await ring(), issuer=ISSUER, now=NOW))
    assert "not one of this issuer's keys" in bad["kid"]


async def test_bad_signature() -> None:
    keys = await ring()
    head, _, sig = jwt.sign(claims(), keys, "ES256", now=NOW).split(".")
    forged = jwt.sign(claims(sub="admin"), keys, "ES256", now=NOW).split(".")[1]
    bad = failed(inspect_token(f"{head}.{forged}.{sig}", keys, issuer=ISSUER, now=NOW))
    assert "signature" in bad


@pytest.mark.parametrize(
    "token, words", [("abc", "3 dot-separated"), ("a.b.c.d.e", "JWE"), ("e30.!!!.x", "not JSON")]
)
async def test_not_a_jwt(token: str, words: str) -> None:
    assert words in failed(inspect_token(token, await ring(), issuer=ISSUER, now=NOW))["format"]


async def test_future_iat() -> None:
    keys = await ring()
    token = jwt.sign(claims(iat=NOW + 3600), keys, "ES256", now=NOW)
    assert "check the clocks" in failed(inspect_token(token, keys, issuer=ISSUER, now=NOW))["iat"]
