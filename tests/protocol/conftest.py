"""Protocol unit-test fixtures: a Provider on ``MemoryStore`` with a fake clock.

No HTTP, no SQL. Signing keys are generated once per session (RSA generation is the slow
part) and copied into each test's store; ``ensure_keys`` then finds every alg covered.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote_plus

import pytest

from keystead.accounts.passwords import PasswordHasher
from keystead.config import Settings
from keystead.events import Event, Events
from keystead.jose.kek import KeyEncryptor
from keystead.jose.keys import SUPPORTED_ALGS, ensure_keys, generate_key
from keystead.protocol import authorize, issue
from keystead.protocol.request import OAuthRequest
from keystead.provider import Provider
from keystead.secrets_util import sha256_hex
from keystead.store.base import Client, Session, StoredKey, User
from keystead.store.memory import MemoryStore

NOW = 1_700_000_000
ISSUER = "https://id.example.com"
REDIRECT_URI = "https://rp.example.com/callback"
KEK = b"k" * 32
SECRET = "rp-secret"
# RFC 7636 Appendix B
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


class FakeClock:
    def __init__(self, now: int = NOW) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: int) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def signing_keys() -> list[StoredKey]:
    kek = KeyEncryptor(KEK)
    return [generate_key(alg, kek, now=NOW - 3600) for alg in SUPPORTED_ALGS]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def events() -> list[Event]:
    return []


MakeProvider = Callable[..., Awaitable[Provider]]


@pytest.fixture
def make_provider(
    tmp_path: Any, clock: FakeClock, signing_keys: list[StoredKey], events: list[Event]
) -> MakeProvider:
    async def make(**settings: Any) -> Provider:
        store = MemoryStore()
        kek = KeyEncryptor(KEK)
        for key in signing_keys:
            await store.keys.add(key)
        await ensure_keys(store.keys, kek, clock())  # a no-op: every alg has an active key
        return Provider(
            settings=Settings(
                issuer=settings.pop("issuer", ISSUER), data_dir=tmp_path, cache_ttl=0, **settings
            ),
            store=store,
            kek=kek,
            clock=clock,
            hasher=PasswordHasher(limit=2),
            events=Events([events.append]),
        )

    return make


@pytest.fixture
async def provider(make_provider: MakeProvider, anyio_backend: str) -> Provider:
    return await make_provider()


MakeClient = Callable[..., Awaitable[Client]]


@pytest.fixture
def make_client(provider: Provider) -> MakeClient:
    async def make(client_id: str = "rp", secret: str | None = SECRET, **fields: Any) -> Client:
        values: dict[str, Any] = {
            "client_id": client_id,
            "client_name": "Example RP",
            "redirect_uris": (REDIRECT_URI,),
            "grant_types": ("authorization_code",),
            "response_types": ("code",),
            "scope": "openid profile email offline_access",
            "token_endpoint_auth_method": "client_secret_basic",
            "client_secret_hash": None if secret is None else sha256_hex(secret),
            "created_at": NOW - 86400,
        }
        values.update(fields)
        client = Client(**values)
        await provider.store.clients.add(client)
        return client

    return make


@pytest.fixture
async def client(make_client: MakeClient) -> Client:
    return await make_client()


@pytest.fixture
async def public_client(make_client: MakeClient) -> Client:
    return await make_client("spa", secret=None, token_endpoint_auth_method="none")


@pytest.fixture
async def user(provider: Provider) -> User:
    u = User(
        sub="u-5d1f0c7e",  # opaque, unrelated to the username
        username="alice",
        password_hash="not-used-by-protocol-tests",
        email="alice@example.com",
        email_verified=True,
        name="Alice Liddell",
        given_name="Alice",
        family_name="Liddell",
        created_at=NOW - 86400,
        updated_at=NOW - 3600,
    )
    await provider.store.users.add(u)
    return u


@pytest.fixture
def session(user: User) -> Session:
    return Session(
        session_hash=sha256_hex("cookie"),
        sid="sid-1",
        sub=user.sub,
        auth_time=NOW - 30,
        created_at=NOW - 30,
        last_active_at=NOW - 30,
        expires_at=NOW + 86400,
    )


def basic(client_id: str, secret: str) -> str:
    """RFC 6749 §2.3.1: both parts form-urlencoded, then base64."""
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


class OAuth:
    """Builds authorization requests and runs the authorize -> issue path for token tests."""

    redirect_uri = REDIRECT_URI
    verifier = VERIFIER
    challenge = CHALLENGE
    basic = staticmethod(basic)

    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    def params(self, client: Client, **overrides: str | None) -> dict[str, str]:
        params: dict[str, str | None] = {
            "client_id": client.client_id,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": "openid profile email",
            "state": "st-1",
            "nonce": "n-1",
            "code_challenge": CHALLENGE,
            "code_challenge_method": "S256",
        }
        params.update(overrides)
        return {k: v for k, v in params.items() if v is not None}

    @staticmethod
    def request(
        params: dict[str, str], duplicated: tuple[str, ...] = (), **kwargs: Any
    ) -> OAuthRequest:
        return OAuthRequest(
            method=kwargs.pop("method", "GET"),
            params=params,
            duplicated=frozenset(duplicated),
            **kwargs,
        )

    async def validate(
        self, client: Client, duplicated: tuple[str, ...] = (), **overrides: str | None
    ) -> authorize.AuthorizationRequest:
        return await authorize.validate(
            self.request(self.params(client, **overrides), duplicated), self.provider
        )

    async def code(
        self,
        client: Client,
        session: Session,
        *,
        consent_given_now: bool = True,
        **overrides: str | None,
    ) -> str:
        areq = await self.validate(client, **overrides)
        resp = await issue.issue(areq, session, self.provider, consent_given_now=consent_given_now)
        return resp.params["code"]

    @staticmethod
    def token_request(
        client: Client, code: str, secret: str | None = SECRET, **overrides: str | None
    ) -> OAuthRequest:
        """A token request authenticated the way ``client`` is registered to."""
        params: dict[str, str | None] = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": VERIFIER,
        }
        authorization = None
        method = client.token_endpoint_auth_method
        if method == "client_secret_basic":
            authorization = basic(client.client_id, secret or "")
        else:
            params["client_id"] = client.client_id
            if method == "client_secret_post":
                params["client_secret"] = secret
        params.update(overrides)
        return OAuthRequest(
            method="POST",
            params={k: v for k, v in params.items() if v is not None},
            authorization=authorization,
        )


@pytest.fixture
def oauth(provider: Provider) -> OAuth:
    return OAuth(provider)
