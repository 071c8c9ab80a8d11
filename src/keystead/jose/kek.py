"""The key-encryption key (KEK): protects private signing keys and other secrets at rest.

AES-256-GCM (``cryptography``'s AESGCM) with a random 96-bit nonce per message; the caller
binds each ciphertext to its context through the associated data (a signing key's ``kid``).
The KEK comes either from ``KEYSTEAD_SECRET_KEY`` (stretched with HKDF-SHA256) or from a
random ``secret.key`` file in the data directory, created on first start with mode 0600.
Other purposes (cookie or state sealing ...) get their own subkeys through ``derive``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from keystead.secrets_util import b64url

__all__ = ["KeyEncryptor", "SECRET_KEY_FILE", "MIN_SECRET_KEY_LENGTH"]

SECRET_KEY_FILE = "secret.key"  # noqa: S105 (a file name)
MIN_SECRET_KEY_LENGTH = 32

_KEY_SIZE = 32
_NONCE_SIZE = 12  # 96 bits, the GCM standard nonce (NIST SP 800-38D §8.2)
_VERSION = "v1."
_HKDF_SALT = b"keystead kek v1"
_KEK_INFO = b"keystead kek v1"
_DERIVE_INFO_PREFIX = b"keystead derive v1:"


def _b64encode(data: bytes) -> str:
    return b64url(data).decode("ascii")


def _b64decode(text: str) -> bytes:
    # validate=True rejects characters outside the url-safe alphabet instead of skipping them
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded, altchars=b"-_", validate=True)


def _hkdf(ikm: bytes, info: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=_KEY_SIZE, salt=_HKDF_SALT, info=info)
    return hkdf.derive(ikm)


class KeyEncryptor:
    """Encrypts and decrypts small secrets with one 32-byte key (AES-256-GCM)."""

    __slots__ = ("_aead", "_key")

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes) or len(key) != _KEY_SIZE:
            raise ValueError(f"the key-encryption key must be exactly {_KEY_SIZE} bytes")
        self._key = key
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "KeyEncryptor(<secret>)"

    @classmethod
    def from_config(cls, secret_key: str | None, data_dir: Path) -> KeyEncryptor:
        """The KEK from ``KEYSTEAD_SECRET_KEY`` if given, else from ``data_dir/secret.key``."""
        if secret_key is not None:
            if len(secret_key) < MIN_SECRET_KEY_LENGTH:
                raise ValueError(
                    f"KEYSTEAD_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters "
                    f"(got {len(secret_key)}); generate one with "
                    "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
                )
            return cls(_hkdf(secret_key.encode("utf-8"), _KEK_INFO))
        return cls(_load_or_create_key_file(Path(data_dir) / SECRET_KEY_FILE))

    def encrypt(self, plaintext: bytes, aad: bytes) -> str:
        """``"v1." + base64url(nonce || ciphertext || tag)``."""
        nonce = os.urandom(_NONCE_SIZE)
        return _VERSION + _b64encode(nonce + self._aead.encrypt(nonce, plaintext, aad))

    def decrypt(self, token: str, aad: bytes) -> bytes:
        if not token.startswith(_VERSION):
            raise ValueError("cannot decrypt: unknown format (expected a 'v1.' ciphertext)")
        try:
            raw = _b64decode(token[len(_VERSION) :])
        except (binascii.Error, ValueError) as exc:
            raise ValueError("cannot decrypt: the ciphertext is not valid base64url") from exc
        if len(raw) < _NONCE_SIZE + 16:
            raise ValueError("cannot decrypt: the ciphertext is truncated")
        try:
            return self._aead.decrypt(raw[:_NONCE_SIZE], raw[_NONCE_SIZE:], aad)
        except InvalidTag:
            raise ValueError(
                "cannot decrypt: authentication failed — wrong KEYSTEAD_SECRET_KEY? "
                "(or a changed/missing secret.key, or the data was tampered with)"
            ) from None

    def derive(self, purpose: str) -> bytes:
        """A 32-byte subkey for another purpose (e.g. ``"interaction-state"``); deterministic."""
        if not purpose:
            raise ValueError("derive() needs a non-empty purpose")
        return _hkdf(self._key, _DERIVE_INFO_PREFIX + purpose.encode("utf-8"))


def _read_key_file(path: Path) -> bytes:
    text = path.read_text(encoding="ascii").strip()
    try:
        key = _b64decode(text)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"{path} is not valid base64url") from exc
    if len(key) != _KEY_SIZE:
        raise ValueError(f"{path} must hold base64url of {_KEY_SIZE} bytes, found {len(key)}")
    return key


def _load_or_create_key_file(path: Path) -> bytes:
    if path.exists():
        return _read_key_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(_KEY_SIZE)
    # Write a private temporary file completely, then publish it with link(), which fails if
    # the name exists: a concurrent reader never sees a half-written secret.key, and when two
    # processes race, exactly one file wins and the loser reads it.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(_b64encode(key) + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return _read_key_file(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return key
