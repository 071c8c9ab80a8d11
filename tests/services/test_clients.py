"""Client operations own their side effects: one event name whichever channel asks (with the
channel and caller in it), the provider's cache dropped, refusals naming the metadata field;
the allowed values are the protocol tables'."""

from __future__ import annotations

import pytest

from keystead.events import Event
from keystead.protocol.client_auth import CLIENT_AUTH_METHODS
from keystead.protocol.client_metadata import AUTH_METHODS, GRANT_TYPES, SECRET_METHODS
from keystead.protocol.grants import GRANTS
from keystead.protocol.response_types import RESPONSE_TYPES
from keystead.services import clients
from keystead.services.clients import ClientSpec, ClientSpecError
from keystead.services.common import CLI, DEMO, Actor, Conflict, NotFound, ServiceError

pytestmark = pytest.mark.anyio

SPEC = {"client_name": "App", "redirect_uris": ["https://app.example/cb"]}


def named(events: list[Event], name: str) -> list[Event]:
    return [e for e in events if e.name == name]


@pytest.mark.parametrize(
    "actor",
    [CLI, DEMO, Actor("admin_api", "admin-bot"), Actor("registration", "self")],
    ids=lambda a: a.channel,
)
async def test_every_channel_deletes_a_client_the_same_way(
    make_provider, events: list[Event], actor: Actor
) -> None:
    provider = await make_provider()
    provider.settings = provider.settings.model_copy(update={"cache_ttl": 60})
    client, _ = await clients.create(provider, ClientSpec(**SPEC), actor)
    assert await provider.get_client(client.client_id) is not None  # now cached
    await clients.delete(provider, client.client_id, actor)
    assert await provider.get_client(client.client_id) is None  # the cache was dropped
    (deleted,) = named(events, "client.deleted")
    assert deleted.data == {
        "channel": actor.channel,
        "by_client_id": actor.client_id,
        "client_id": client.client_id,
    }
    with pytest.raises(NotFound):
        await clients.delete(provider, client.client_id, actor)


async def test_create_update_rotate_emit_one_event_each(provider, events: list[Event]) -> None:
    client, secret = await clients.create(provider, ClientSpec(**SPEC), CLI)
    spec = clients.spec_of(client)
    spec.client_name = "Renamed"
    updated, kept = await clients.update(provider, client, spec, CLI)
    assert updated.client_name == "Renamed" and kept is None
    _, rotated = await clients.rotate_secret(provider, client.client_id, CLI)
    assert rotated and rotated != secret
    assert [e.name for e in events if e.name.startswith("client.")] == [
        "client.created",
        "client.updated",
        "client.secret_rotated",
    ]


async def test_a_public_client_has_no_secret_to_rotate(provider) -> None:
    spec = ClientSpec(**SPEC, token_endpoint_auth_method="none")
    client, secret = await clients.create(provider, spec, CLI)
    assert secret is None
    with pytest.raises(Conflict) as caught:
        await clients.rotate_secret(provider, client.client_id, CLI)
    assert caught.value.field == "token_endpoint_auth_method"


async def test_a_taken_client_id_is_a_conflict(provider) -> None:
    await clients.create(provider, ClientSpec(**SPEC, client_id="fixed"), CLI)
    with pytest.raises(Conflict) as caught:
        await clients.create(provider, ClientSpec(**SPEC, client_id="fixed"), CLI)
    assert caught.value.field == "client_id"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"redirect_uris": []}, "redirect_uris"),
        ({"redirect_uris": ["http://app.example/cb"]}, "redirect_uris"),
        ({"post_logout_redirect_uris": ["https://app.example/#x"]}, "post_logout_redirect_uris"),
        ({"grant_types": ["password"]}, "grant_types"),
        ({"response_types": ["code token id_token x"]}, "response_types"),
        ({"token_endpoint_auth_method": "client_secret_magic"}, "token_endpoint_auth_method"),
        ({"client_name": " "}, "client_name"),
        ({"allowed_origins": ["*"]}, "allowed_origins"),
        ({"scope": 'openid "x"'}, "scope"),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "jwks"),
        ({"default_resource": "https://nowhere.example"}, "default_resource"),
    ],
)
async def test_refusals_name_the_field_in_words_for_any_channel(
    provider, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(ClientSpecError) as caught:
        await clients.create(provider, ClientSpec(**{**SPEC, **changes}), CLI)  # type: ignore[arg-type]
    assert isinstance(caught.value, ServiceError)
    assert caught.value.field == field
    assert "--" not in caught.value.message  # no flag of one channel in it


def test_allowed_values_are_the_protocol_tables() -> None:
    assert set(GRANT_TYPES) == {*GRANTS, "implicit"}  # implicit: RFC 7591 §2, no token endpoint
    assert AUTH_METHODS == tuple(CLIENT_AUTH_METHODS)
    assert set(SECRET_METHODS) < set(CLIENT_AUTH_METHODS)
    assert "none" not in SECRET_METHODS and "private_key_jwt" not in SECRET_METHODS
    for response_type in RESPONSE_TYPES:
        clients.validate_spec(
            ClientSpec(
                **SPEC,
                grant_types=["authorization_code", "implicit"],  # type: ignore[arg-type]
                response_types=[response_type],
            )
        )
    assert not any(hasattr(clients, name) for name in ("GRANT_TYPES", "AUTH_METHODS"))
