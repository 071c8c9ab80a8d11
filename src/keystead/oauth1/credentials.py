"""Making and opening OAuth 1.0a credentials (RFC 5849 §2).

Tokens are random (256 bits) and stored as SHA-256 hashes; their shared secrets are needed
in clear for HMAC (§3.4.2), so they are sealed with the key-encryption key, bound to the
token's hash (a sealed secret copied to another row does not open).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from keystead.secrets_util import random_token, sha256_hex
from keystead.store.oauth1 import TemporaryCredential, TokenCredential

if TYPE_CHECKING:
    from keystead.provider import Provider

_TEMPORARY_AAD = b"oauth1 temporary:"
_TOKEN_AAD = b"oauth1 token:"


def new_pair() -> tuple[str, str, str]:
    """(token, secret, token hash)."""
    token = random_token(32)
    return token, random_token(32), sha256_hex(token)


def seal_temporary_secret(provider: Provider, token_hash: str, secret: str) -> str:
    return provider.kek.encrypt(secret.encode(), _TEMPORARY_AAD + token_hash.encode())


def open_temporary_secret(provider: Provider, cred: TemporaryCredential) -> str:
    aad = _TEMPORARY_AAD + cred.token_hash.encode()
    return provider.kek.decrypt(cred.secret_enc, aad).decode()


def seal_token_secret(provider: Provider, token_hash: str, secret: str) -> str:
    return provider.kek.encrypt(secret.encode(), _TOKEN_AAD + token_hash.encode())


def open_token_secret(provider: Provider, cred: TokenCredential) -> str:
    return provider.kek.decrypt(cred.secret_enc, _TOKEN_AAD + cred.token_hash.encode()).decode()
