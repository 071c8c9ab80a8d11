"""RFC 9396 authorization_details: parsing against the registered types, plain words."""

from __future__ import annotations

import json

import pytest

from keystead.errors import OAuthError
from keystead.protocol import rar
from keystead.store.base import Api

PAYMENTS = Api(
    "a1",
    "https://payments.example.com",
    "Payments",
    (("payments", "Pay"),),
    "jwt",
    600,
    0,
    authorization_details_types=("payment_initiation",),
)
REGISTERED = rar.types_of([PAYMENTS])


def test_absent_is_none_and_a_valid_array_is_kept() -> None:
    assert rar.parse(None, REGISTERED) is None
    details = [{"type": "payment_initiation", "actions": ["initiate"], "extra": {"a": 1}}]
    assert rar.parse(json.dumps(details), REGISTERED) == details


@pytest.mark.parametrize(
    "raw",
    [
        "nope",
        "{}",
        "[]",
        "[1]",
        '[{"type": 5}]',
        '[{"type": "other"}]',
        '[{"type": "payment_initiation", "locations": [1]}]',
        '[{"type": "payment_initiation", "identifier": ["x"]}]',
        json.dumps([{"type": "payment_initiation"}] * 21),
    ],
)
def test_refusals(raw: str) -> None:
    with pytest.raises(OAuthError) as info:
        rar.parse(raw, REGISTERED)
    assert info.value.error == "invalid_authorization_details"


def test_plain_words() -> None:
    detail = {
        "type": "payment_initiation",
        "actions": ["initiate", "status"],
        "locations": ["https://payments.example.com"],
        "identifier": "acct-1",
        "instructedAmount": {"currency": "EUR", "amount": "1.00"},
    }
    assert rar.describe(detail, REGISTERED) == (
        "Payments (payment_initiation): initiate, status at https://payments.example.com; "
        "the resource acct-1; instructedAmount: currency EUR, amount 1.00"
    )
    assert rar.describe({"type": "x"}, {}) == "x"
    items = rar.consent_items({"authorization_details": [detail]}, REGISTERED)
    assert items[0]["name"] == "payment_initiation"
    assert rar.consent_items({}, REGISTERED) == []


def test_type_names() -> None:
    assert rar.type_problem("payment_initiation") is None
    assert rar.type_problem("https://example.com/types/v1") is None
    assert rar.type_problem("has space") is not None
    assert rar.type_problem("") is not None
