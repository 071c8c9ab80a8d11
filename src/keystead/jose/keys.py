"""Signing keys: generate, load (decrypt once into a KeyRing), publish (JWKS) and rotate.

One key per algorithm (RS256 and PS256 get separate RSA keys, so no key is ever used with
two algorithms). A key is published in the JWKS from creation until ``retire_at`` and signs
from ``activate_at`` on; ``rotate`` publishes the next key ahead of use so relying parties
with a cached JWKS learn it before they see a token signed with it (OIDC Core §10.1.1).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import anyio.to_thread
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey, OKPKey, RSAKey, import_key

from keystead.jose.kek import KeyEncryptor
from keystead.store.base import KeyStore, StoredKey

__all__ = [
    "SUPPORTED_ALGS",
    "SigningKey",
    "KeyRing",
    "generate_key",
    "ensure_keys",
    "rotate",
]

SUPPORTED_ALGS: tuple[str, ...] = ("RS256", "PS256", "ES256", "EdDSA")

SigningKey: TypeAlias = RSAKey | ECKey | OKPKey

_RSA_BITS = 2048


def _new_private_key(alg: str) -> SigningKey:
    if alg in ("RS256", "PS256"):
        return RSAKey.generate_key(_RSA_BITS, private=True)
    if alg == "ES256":
        return ECKey.generate_key("P-256", private=True)
    if alg == "EdDSA":
        return OKPKey.generate_key("Ed25519", private=True)
    raise ValueError(f"unsupported signing alg {alg!r}; supported: {', '.join(SUPPORTED_ALGS)}")


def _import(jwk: Mapping[str, Any]) -> SigningKey:
    key = import_key(dict(jwk))
    if not isinstance(key, (RSAKey, ECKey, OKPKey)):
        raise ValueError(f"not an asymmetric signing key (kty={jwk.get('kty')!r})")
    return key


def generate_key(
    alg: str, kek: KeyEncryptor, *, now: int, activate_at: int | None = None
) -> StoredKey:
    """A new key for ``alg``; its private JWK is encrypted with ``kek`` (aad = kid).

    CPU-bound (RSA); from async code call it through ``anyio.to_thread``.
    """
    private = _new_private_key(alg)
    kid = private.thumbprint()  # RFC 7638 JWK thumbprint (SHA-256, base64url)
    meta = {"kid": kid, "alg": alg, "use": "sig"}
    public = private.as_dict(private=False)
    public_jwk: dict[str, Any] = {"kty": public["kty"]}
    public_jwk.update((k, v) for k, v in public.items() if k != "kty")
    public_jwk.update(meta)
    private_json = json.dumps({**private.as_dict(private=True), **meta}, separators=(",", ":"))
    return StoredKey(
        kid=kid,
        alg=alg,
        public_jwk=public_jwk,
        private_jwk_enc=kek.encrypt(private_json.encode("utf-8"), kid.encode("utf-8")),
        created_at=now,
        activate_at=now if activate_at is None else activate_at,
        retire_at=None,
    )


def _is_published(key: StoredKey, now: int) -> bool:
    return key.retire_at is None or key.retire_at > now


def _is_active(key: StoredKey, now: int) -> bool:
    return key.activate_at <= now and _is_published(key, now)


@dataclass(frozen=True, slots=True)
class _Loaded:
    stored: StoredKey
    private: SigningKey
    public: SigningKey
    # An ES256 key as `cryptography`'s P-256 private key, for the direct signer (fast_jws.py):
    # checked once here instead of on every signature.
    p256: ec.EllipticCurvePrivateKey | None = None


def _p256(stored: StoredKey, private: SigningKey) -> ec.EllipticCurvePrivateKey | None:
    key = private.private_key if stored.alg == "ES256" else None
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    return None


def _load_one(stored: StoredKey, kek: KeyEncryptor) -> _Loaded:
    where = f"signing key {stored.kid!r} ({stored.alg})"
    try:
        plaintext = kek.decrypt(stored.private_jwk_enc, stored.kid.encode("utf-8"))
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from exc
    private = _import(json.loads(plaintext))
    public = _import(stored.public_jwk)
    # The kid is the thumbprint of the public key: both halves must match it.
    if private.thumbprint() != stored.kid or public.thumbprint() != stored.kid:
        raise ValueError(f"{where}: the stored key material does not match its kid")
    if not private.is_private or public.get("alg") != stored.alg:
        raise ValueError(f"{where}: inconsistent stored key")
    return _Loaded(stored=stored, private=private, public=public, p256=_p256(stored, private))


class KeyRing:
    """An immutable snapshot of all stored keys, each decrypted once."""

    __slots__ = ("_by_kid", "_signing")

    def __init__(self, loaded: Sequence[_Loaded]) -> None:
        by_kid: dict[str, _Loaded] = {}
        for entry in loaded:
            if entry.stored.kid in by_kid:
                raise ValueError(f"duplicate signing key kid {entry.stored.kid!r}")
            by_kid[entry.stored.kid] = entry
        self._by_kid: Mapping[str, _Loaded] = by_kid
        # alg -> (now, key) of the last lookup: the answer is a function of (alg, now) for an
        # immutable ring, and a token endpoint asks many times a second.
        self._signing: dict[str, tuple[int, _Loaded]] = {}

    @classmethod
    def load(cls, stored: Sequence[StoredKey], kek: KeyEncryptor) -> KeyRing:
        return cls([_load_one(key, kek) for key in stored])

    def __len__(self) -> int:
        return len(self._by_kid)

    def signing_key(self, alg: str, now: int) -> tuple[str, SigningKey]:
        """The kid and private key that signs ``alg`` at ``now``: the newest active key."""
        entry = self._signing_entry(alg, now)
        return entry.stored.kid, entry.private

    def signer(
        self, alg: str, now: int
    ) -> tuple[str, SigningKey, ec.EllipticCurvePrivateKey | None]:
        """``signing_key``, and for ES256 the same key as the P-256 private key the direct
        signer takes (None when it is not one: joserfc signs)."""
        entry = self._signing_entry(alg, now)
        return entry.stored.kid, entry.private, entry.p256

    def _signing_entry(self, alg: str, now: int) -> _Loaded:
        last = self._signing.get(alg)
        if last is not None and last[0] == now:
            return last[1]
        active = [e for e in self._by_kid.values() if e.stored.alg == alg]
        active = [e for e in active if _is_active(e.stored, now)]
        if not active:
            raise KeyError(
                f"no active signing key for alg {alg!r} at {now}: "
                "create one (ensure_keys / rotate) or reload the key ring"
            )
        best = max(active, key=lambda e: (e.stored.activate_at, e.stored.created_at, e.stored.kid))
        self._signing[alg] = (now, best)
        return best

    def jwks(self, now: int) -> dict[str, list[dict[str, Any]]]:
        """The public JWK Set: every key not yet retired, including keys not yet active."""
        published = [e.stored for e in self._by_kid.values() if _is_published(e.stored, now)]
        published.sort(key=lambda k: (k.alg, -k.activate_at, k.kid))
        return {"keys": [dict(k.public_jwk) for k in published]}

    def verification_key(self, kid: str) -> SigningKey | None:
        """The public key for ``kid`` (any loaded key, retired or not), or None."""
        entry = self._by_kid.get(kid)
        return None if entry is None else entry.public

    def algs(self) -> list[str]:
        """The algs of all loaded keys, in ``SUPPORTED_ALGS`` order (unknown ones last)."""
        present = {e.stored.alg for e in self._by_kid.values()}
        order = {alg: i for i, alg in enumerate(SUPPORTED_ALGS)}
        return sorted(present, key=lambda a: (order.get(a, len(order)), a))


async def _generate_in_thread(
    alg: str, kek: KeyEncryptor, now: int, activate_at: int | None = None
) -> StoredKey:
    fn = functools.partial(generate_key, alg, kek, now=now, activate_at=activate_at)
    return await anyio.to_thread.run_sync(fn)


async def ensure_keys(store: KeyStore, kek: KeyEncryptor, now: int) -> list[StoredKey]:
    """Give every supported alg a key that is active now; return all stored keys. Idempotent.

    Run once at start-up under the start-up lock (concurrent callers could both create keys).
    """
    existing = await store.list()
    created = False
    for alg in SUPPORTED_ALGS:
        if not any(k.alg == alg and _is_active(k, now) for k in existing):
            await store.add(await _generate_in_thread(alg, kek, now))
            created = True
    return await store.list() if created else existing


async def rotate(
    store: KeyStore,
    kek: KeyEncryptor,
    alg: str,
    *,
    now: int,
    publish_ahead: int,
    retire_after: int,
) -> StoredKey:
    """Add the next key for ``alg`` (signing from ``now + publish_ahead``) and schedule the
    retirement of the current ones at ``new.activate_at + retire_after``, so tokens they
    signed stay verifiable until they expire (``retire_after`` >= the longest token lifetime).
    """
    if alg not in SUPPORTED_ALGS:
        raise ValueError(f"unsupported signing alg {alg!r}; supported: {', '.join(SUPPORTED_ALGS)}")
    if publish_ahead < 0 or retire_after < 0:
        raise ValueError("publish_ahead and retire_after must not be negative")
    new = await _generate_in_thread(alg, kek, now, now + publish_ahead)
    # Add first: if we stop half-way, the old keys are still in service.
    await store.add(new)
    retire_at = new.activate_at + retire_after
    for key in await store.list():
        if key.kid == new.kid or key.alg != alg or not _is_published(key, now):
            continue
        if key.retire_at is None or key.retire_at > retire_at:
            await store.set_retire_at(key.kid, retire_at)
    return new
