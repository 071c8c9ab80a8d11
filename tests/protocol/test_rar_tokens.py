"""RFC 9396 beyond /authorize (protocol/rar_tokens.py): narrowing at the token endpoint
(§6.1, §6.2), client_credentials types, and the one API of a token."""

from __future__ import annotations

import json
from typing import Any

import pytest

from keystead.errors import OAuthError
from keystead.protocol import rar_tokens
from keystead.protocol.resources import ApiIndex
from keystead.provider import Provider
from keystead.store.base import Api, Client

pytestmark = pytest.mark.anyio

PAYMENTS = Api(
    "a1",
    "https://payments.example.com",
    "Payments",
    (("payments", "Pay"),),
    "jwt",
    600,
    0,
    authorization_details_types=("payment_initiation", "account_information"),
)
LEDGER = Api(
    "a2",
    "https://ledger.example.com",
    "Ledger",
    (("ledger", "Read"),),
    "jwt",
    600,
    0,
    authorization_details_types=("ledger_entry",),
)
INDEX = ApiIndex.build([PAYMENTS, LEDGER])
PAY = {
    "type": "payment_initiation",
    "actions": ["initiate", "status"],
    "locations": ["https://payments.example.com"],
    "instructedAmount": {"currency": "EUR", "amount": "1.00"},
}


@pytest.fixture
async def apis(provider: Provider) -> Provider:
    for api in (PAYMENTS, LEDGER):
        await provider.store.apis.add(api)
    provider.forget_apis()
    return provider


@pytest.mark.parametrize(
    "asked",
    [
        [PAY],
        [{**PAY, "actions": ["status"]}],
        [{**PAY, "datatypes": ["receipt"]}],  # a restriction the grant did not have
    ],
)
async def test_within_the_grant(apis: Provider, asked: list[dict[str, Any]]) -> None:
    assert await rar_tokens.narrow(apis, json.dumps(asked), [PAY]) == tuple(asked)


@pytest.mark.parametrize(
    ("asked", "words"),
    [
        ([{**PAY, "actions": ["refund"]}], "actions refund not granted"),
        ([{**PAY, "locations": ["https://evil.example"]}], "locations https://evil.example"),
        ([{k: v for k, v in PAY.items() if k != "actions"}], "leaves out actions"),
        ([{**PAY, "instructedAmount": {"amount": "9"}}], "instructedAmount differs"),
        ([PAY, {"type": "ledger_entry"}], "authorization_details[1] (type ledger_entry) was not"),
    ],
)
async def test_beyond_the_grant(apis: Provider, asked: list[dict[str, Any]], words: str) -> None:
    with pytest.raises(OAuthError) as info:
        await rar_tokens.narrow(apis, json.dumps(asked), [PAY])
    assert info.value.error == "invalid_authorization_details"
    assert words in info.value.description


async def test_nothing_granted(apis: Provider) -> None:
    with pytest.raises(OAuthError) as info:
        await rar_tokens.narrow(apis, json.dumps([PAY]), None)
    assert info.value.catalog_id == "authorization-details-not-granted"


async def test_client_types_and_the_token_api(client: Client) -> None:
    from dataclasses import replace

    payer = replace(client, scope="payments")
    assert rar_tokens.for_client(json.dumps([PAY]), payer, INDEX) == (PAY,)
    with pytest.raises(OAuthError) as info:
        rar_tokens.for_client(json.dumps([{"type": "ledger_entry"}]), payer, INDEX)
    assert info.value.catalog_id == "authorization-details-client"
    by_default = replace(client, scope="", extra={"default_resource": LEDGER.identifier})
    ledger = rar_tokens.for_client(json.dumps([{"type": "ledger_entry"}]), by_default, INDEX)
    assert rar_tokens.api_of(ledger, INDEX) == LEDGER
    both = (PAY, {"type": "ledger_entry"})
    assert rar_tokens.api_of(both, INDEX) is None
    rar_tokens.check_api((PAY,), PAYMENTS)
    with pytest.raises(OAuthError):
        rar_tokens.check_api(both, PAYMENTS)


async def test_requests(apis: Provider) -> None:
    assert await rar_tokens.for_request(apis, None) is None
    assert await rar_tokens.for_request(apis, json.dumps([PAY])) == (PAY,)
