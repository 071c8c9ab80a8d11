import base64
import dataclasses
import hashlib
import json
from typing import Any

import pytest

from keystead.jose.kek import KeyEncryptor
from keystead.jose.keys import (
    SUPPORTED_ALGS,
    KeyRing,
    ensure_keys,
    generate_key,
    rotate,
)
from keystead.store.base import DuplicateError, StoredKey

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
# RFC 7638 §3.2: the required members, per kty, in lexicographic order
THUMBPRINT_MEMBERS = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
}


class FakeKeyStore:
    """A minimal KeyStore (store/base.py contract), independent of store/memory.py."""

    def __init__(self) -> None:
        self.keys: dict[str, StoredKey] = {}

    async def list(self) -> list[StoredKey]:
        return list(self.keys.values())

    async def add(self, key: StoredKey) -> None:
        if key.kid in self.keys:
            raise DuplicateError(key.kid)
        self.keys[key.kid] = key

    async def set_retire_at(self, kid: str, retire_at: int | None) -> None:
        self.keys[kid] = dataclasses.replace(self.keys[kid], retire_at=retire_at)


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def rfc7638_thumbprint(jwk: dict[str, Any]) -> str:
    members = {m: jwk[m] for m in THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def kek() -> KeyEncryptor:
    return KeyEncryptor(b"k" * 32)


@pytest.fixture(scope="module")
def generated(kek: KeyEncryptor) -> dict[str, StoredKey]:
    return {alg: generate_key(alg, kek, now=1000) for alg in SUPPORTED_ALGS}


@pytest.mark.parametrize(
    ("alg", "kty", "curve"),
    [
        ("RS256", "RSA", None),
        ("PS256", "RSA", None),
        ("ES256", "EC", "P-256"),
        ("EdDSA", "OKP", "Ed25519"),
    ],
)
def test_generate_key(
    generated: dict[str, StoredKey], kek: KeyEncryptor, alg: str, kty: str, curve: str | None
) -> None:
    key = generated[alg]
    jwk = key.public_jwk
    assert key.alg == alg and key.created_at == key.activate_at == 1000 and key.retire_at is None
    assert jwk["kty"] == kty and jwk["alg"] == alg and jwk["use"] == "sig" and jwk["kid"] == key.kid
    assert not PRIVATE_MEMBERS & jwk.keys()
    assert key.kid == rfc7638_thumbprint(jwk)
    if kty == "RSA":
        assert int.from_bytes(b64d(jwk["n"]), "big").bit_length() == 2048
        assert b64d(jwk["e"]) == b"\x01\x00\x01"
    else:
        assert jwk["crv"] == curve
    private = json.loads(kek.decrypt(key.private_jwk_enc, key.kid.encode()))
    assert (
        "d" in private
        and private["x" if kty != "RSA" else "n"] == jwk["x" if kty != "RSA" else "n"]
    )
    assert key.kid not in key.private_jwk_enc and '"d"' not in key.private_jwk_enc


def test_rs256_and_ps256_keys_are_distinct(generated: dict[str, StoredKey]) -> None:
    assert generated["RS256"].public_jwk["n"] != generated["PS256"].public_jwk["n"]
    assert len({k.kid for k in generated.values()}) == len(SUPPORTED_ALGS)


def test_generate_key_activate_at_and_bad_alg(kek: KeyEncryptor) -> None:
    assert generate_key("ES256", kek, now=10, activate_at=500).activate_at == 500
    for alg in ("HS256", "none", "RS512", "ES384"):
        with pytest.raises(ValueError, match="unsupported signing alg"):
            generate_key(alg, kek, now=10)


def test_keyring_load(generated: dict[str, StoredKey], kek: KeyEncryptor) -> None:
    ring = KeyRing.load(list(generated.values()), kek)
    assert len(ring) == 4
    assert ring.algs() == list(SUPPORTED_ALGS)
    for alg, stored in generated.items():
        kid, key = ring.signing_key(alg, now=1000)
        assert kid == stored.kid and key.is_private
        # the direct signer's key: ES256's P-256 key itself, no other alg's
        assert ring.signer(alg, now=1000) == (
            kid,
            key,
            key.private_key if alg == "ES256" else None,
        )
        public = ring.verification_key(kid)
        assert public is not None and not public.is_private
        assert public.as_dict()["kid"] == kid and public.alg == alg
    assert ring.verification_key("nope") is None


def test_keyring_load_wrong_kek(generated: dict[str, StoredKey]) -> None:
    with pytest.raises(ValueError, match="wrong KEYSTEAD_SECRET_KEY"):
        KeyRing.load([generated["ES256"]], KeyEncryptor(b"x" * 32))


def test_keyring_refuses_swapped_key_material(
    generated: dict[str, StoredKey], kek: KeyEncryptor
) -> None:
    es, ed = generated["ES256"], generated["EdDSA"]
    # Another key's ciphertext under this kid: the aad (kid) does not match.
    with pytest.raises(ValueError, match="cannot decrypt"):
        KeyRing.load([dataclasses.replace(es, private_jwk_enc=ed.private_jwk_enc)], kek)
    # Another key's public JWK under this kid: the thumbprint does not match.
    with pytest.raises(ValueError, match="does not match its kid"):
        KeyRing.load([dataclasses.replace(es, public_jwk={**ed.public_jwk, "kid": es.kid})], kek)
    with pytest.raises(ValueError, match="duplicate"):
        KeyRing.load([es, es], kek)


def test_signing_key_selection(kek: KeyEncryptor) -> None:
    old = generate_key("ES256", kek, now=0, activate_at=0)
    new = generate_key("ES256", kek, now=0, activate_at=100)
    retired = dataclasses.replace(generate_key("ES256", kek, now=0, activate_at=50), retire_at=60)
    ring = KeyRing.load([old, new, retired], kek)
    assert ring.signing_key("ES256", 49)[0] == old.kid
    assert ring.signing_key("ES256", 55)[0] == retired.kid  # latest activate_at among active
    assert ring.signing_key("ES256", 60)[0] == old.kid  # retired at 60
    assert ring.signing_key("ES256", 100)[0] == new.kid
    # The last answer is reused within its second only: asked again, or back in time.
    assert ring.signing_key("ES256", 100)[0] == new.kid
    assert ring.signing_key("ES256", 55)[0] == retired.kid
    assert ring.signing_key("ES256", 55)[0] == retired.kid
    assert ring.signing_key("ES256", 60)[0] == old.kid
    with pytest.raises(KeyError, match="no active signing key for alg 'RS256'"):
        ring.signing_key("RS256", 100)
    future_only = KeyRing.load([new], kek)
    with pytest.raises(KeyError, match="no active signing key"):
        future_only.signing_key("ES256", 99)


def test_jwks(generated: dict[str, StoredKey], kek: KeyEncryptor) -> None:
    future = generate_key("ES256", kek, now=1000, activate_at=5000)
    retired = dataclasses.replace(generate_key("EdDSA", kek, now=0), retire_at=1000)
    ring = KeyRing.load([*generated.values(), future, retired], kek)
    keys = ring.jwks(now=1000)["keys"]
    kids = [k["kid"] for k in keys]
    assert retired.kid not in kids  # retire_at <= now: no longer published
    assert future.kid in kids  # published ahead of use
    assert [(k["alg"]) for k in keys] == ["ES256", "ES256", "EdDSA", "PS256", "RS256"]
    assert kids[:2] == [future.kid, generated["ES256"].kid]  # activate_at descending
    assert all(not PRIVATE_MEMBERS & k.keys() for k in keys)
    keys[0]["kid"] = "mutated"
    assert ring.jwks(now=1000)["keys"][0]["kid"] == future.kid  # callers get copies
    assert retired.kid in [k["kid"] for k in ring.jwks(now=999)["keys"]]
    assert ring.verification_key(retired.kid) is not None  # still loaded


@pytest.mark.anyio
async def test_ensure_keys_idempotent(kek: KeyEncryptor) -> None:
    store = FakeKeyStore()
    first = await ensure_keys(store, kek, now=100)
    assert sorted(k.alg for k in first) == sorted(SUPPORTED_ALGS)
    assert all(k.activate_at == 100 for k in first)
    second = await ensure_keys(store, kek, now=200)
    assert {k.kid for k in second} == {k.kid for k in first}
    assert len(store.keys) == 4
    ring = KeyRing.load(second, kek)
    for alg in SUPPORTED_ALGS:
        ring.signing_key(alg, 200)


@pytest.mark.anyio
async def test_ensure_keys_replaces_only_retired(kek: KeyEncryptor) -> None:
    store = FakeKeyStore()
    first = {k.alg: k for k in await ensure_keys(store, kek, now=100)}
    await store.set_retire_at(first["ES256"].kid, 150)
    after = await ensure_keys(store, kek, now=200)
    assert len(after) == 5
    new = [k for k in after if k.kid not in {k.kid for k in first.values()}]
    assert [k.alg for k in new] == ["ES256"] and new[0].activate_at == 200


@pytest.mark.anyio
async def test_rotate_timeline(kek: KeyEncryptor) -> None:
    store = FakeKeyStore()
    initial = {k.alg: k for k in await ensure_keys(store, kek, now=0)}
    old = initial["ES256"]

    new = await rotate(store, kek, "ES256", now=1000, publish_ahead=3600, retire_after=7200)
    assert new.alg == "ES256" and new.created_at == 1000 and new.activate_at == 4600
    assert store.keys[old.kid].retire_at == 4600 + 7200
    # other algs untouched
    assert all(store.keys[k.kid].retire_at is None for a, k in initial.items() if a != "ES256")

    ring = KeyRing.load(await store.list(), kek)
    published = {k["kid"] for k in ring.jwks(1000)["keys"]}
    assert {old.kid, new.kid} <= published  # the new key is published before it signs
    assert ring.signing_key("ES256", 1000)[0] == old.kid
    assert ring.signing_key("ES256", 4599)[0] == old.kid
    assert ring.signing_key("ES256", 4600)[0] == new.kid
    assert old.kid in {k["kid"] for k in ring.jwks(11799)["keys"]}  # tokens still verifiable
    late = {k["kid"] for k in ring.jwks(11800)["keys"]}
    assert old.kid not in late and new.kid in late
    assert ring.verification_key(old.kid) is not None

    # A second rotation never postpones an earlier retirement.
    newer = await rotate(store, kek, "ES256", now=2000, publish_ahead=0, retire_after=100_000)
    assert store.keys[old.kid].retire_at == 11800
    assert store.keys[new.kid].retire_at == 2000 + 100_000
    assert store.keys[newer.kid].retire_at is None
    # ... and ensure_keys has nothing to add afterwards.
    assert len(await ensure_keys(store, kek, now=2000)) == len(store.keys) == 6


@pytest.mark.anyio
async def test_rotate_shortens_retirement(kek: KeyEncryptor) -> None:
    store = FakeKeyStore()
    key = generate_key("EdDSA", kek, now=0)
    await store.add(dataclasses.replace(key, retire_at=1_000_000))
    await rotate(store, kek, "EdDSA", now=10, publish_ahead=5, retire_after=5)
    assert store.keys[key.kid].retire_at == 20


@pytest.mark.anyio
async def test_rotate_validates(kek: KeyEncryptor) -> None:
    store = FakeKeyStore()
    with pytest.raises(ValueError, match="unsupported"):
        await rotate(store, kek, "HS256", now=0, publish_ahead=0, retire_after=0)
    with pytest.raises(ValueError, match="negative"):
        await rotate(store, kek, "ES256", now=0, publish_ahead=-1, retire_after=0)
    assert store.keys == {}
