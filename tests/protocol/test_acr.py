"""The acr/amr decisions: which class a session reaches, what a request or client asks."""

from __future__ import annotations

import pytest

from keystead.protocol import acr
from keystead.store.base import Client

PWD = ("pwd",)
PWD_OTP = acr.with_factor(PWD, ("otp",))
PWD_KEY = acr.with_factor(PWD, ("hwk", "user"))
PASSKEY_ONLY = acr.with_factor((), ("swk", "user"))


def client(**extra: object) -> Client:
    return Client("c", "C", (), (), (), "openid", "none", extra=dict(extra))


def test_methods_and_their_class() -> None:
    assert PWD_OTP == ("pwd", "otp", "mfa")
    assert PWD_KEY == ("pwd", "hwk", "user", "mfa")
    assert PASSKEY_ONLY == ("swk", "user", "mfa")  # user verification: two factors in one
    assert acr.with_factor(PWD, ("pwd",)) == PWD  # the same factor twice is one
    assert acr.with_factor(PWD_OTP, ("otp",)) == PWD_OTP
    assert [acr.acr_of(m) for m in (PWD, PWD_OTP, PWD_KEY, PASSKEY_ONLY)] == [
        "1", "2", "phr", "phr",
    ]  # fmt: skip
    assert acr.meets(PWD_KEY, "2") and acr.meets(PWD_OTP, "2") and not acr.meets(PWD_OTP, "phr")


@pytest.mark.parametrize(
    ("values", "claims", "extra", "expected"),
    [
        ((), {}, {}, ((), False)),
        (("2",), {}, {}, (("2",), False)),  # acr_values: voluntary
        (("urn:other", "phr"), {}, {}, (("phr",), False)),  # unknown values ignored
        ((), {"id_token": {"acr": {"essential": True, "values": ["phr"]}}}, {}, (("phr",), True)),
        ((), {"id_token": {"acr": {"essential": True, "value": "2"}}}, {}, (("2",), True)),
        (("2",), {"id_token": {"acr": {"values": ["phr"]}}}, {}, (("2",), False)),  # not essential
        ((), {}, {"default_acr_values": ["2"]}, (("2",), False)),
        ((), {}, {"require_mfa": True}, (("2",), True)),
        (("1", "phr"), {}, {"require_mfa": True}, (("phr",), True)),  # never below the policy
    ],
)
def test_what_is_wanted(
    values: tuple[str, ...], claims: dict[str, object], extra: dict[str, object], expected: object
) -> None:
    assert acr.wanted(client(**extra), values, claims) == expected


def test_met_and_reported() -> None:
    assert acr.met(PWD, ()) and not acr.met(PWD, ("2",))
    assert acr.met(PWD_OTP, ("phr", "2")) and not acr.met(PWD_OTP, ("phr",))
    assert acr.reported(PWD_KEY, ("2", "phr")) == "2"  # the requester's first choice it meets
    assert acr.reported(PWD_KEY, ()) == "phr"
    assert acr.reported(PWD, ("2",)) == "1"  # unmet and voluntary: reported as it is


def test_an_upstream_sign_in_is_one_factor() -> None:
    """issue 22: amr fed counts as a factor: with the account's own code it is mfa (acr 2)."""
    assert acr.with_factor(("fed",), ()) == ("fed",)
    assert acr.acr_of(("fed",)) == acr.ACR_PASSWORD
    both = acr.with_factor(("fed",), ("otp",))
    assert "mfa" in both and acr.acr_of(both) == acr.ACR_MFA
