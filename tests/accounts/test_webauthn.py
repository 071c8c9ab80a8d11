"""accounts/webauthn.py with real WebAuthn data: responses made in-test by a software
authenticator (an ES256 key; authenticator and client data built per WebAuthn L2), and
every refusal a user can meet, each with its own words. Then garbage: no input string makes
anything but a PasskeyError escape."""

from __future__ import annotations

import base64
import json
import os
import random
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from keystead.accounts.webauthn import (
    NewPasskey,
    PasskeyError,
    RelyingParty,
    authentication_options,
    credential_id_of,
    registration_options,
    relying_party,
    user_handle_of,
    verify_authentication,
    verify_registration,
)
from tests.accounts.soft_authenticator import AAGUID, BS, UP, UV, SoftAuthenticator, b64u

RP = relying_party("https://id.example.com:8443/tenant", name="Example")
CHALLENGE = os.urandom(32)


@pytest.fixture
def authn() -> SoftAuthenticator:
    return SoftAuthenticator(RP.rp_id, RP.origin)


def registered(authn: SoftAuthenticator) -> NewPasskey:
    return verify_registration(RP, authn.register(CHALLENGE), CHALLENGE)


def use(authn: SoftAuthenticator, response: str, *, sign_count: int = 0, uv: bool = True) -> Any:
    return verify_authentication(
        RP,
        response,
        CHALLENGE,
        public_key=authn.public_key,
        sign_count=sign_count,
        require_user_verification=uv,
    )


def refused(code: str, words: str, call: Any, *args: Any, **kwargs: Any) -> PasskeyError:
    with pytest.raises(PasskeyError) as info:
        call(*args, **kwargs)
    assert info.value.code == code, info.value.reason
    assert words in info.value.reason
    assert str(info.value) == info.value.reason
    return info.value


# --- relying party and options -------------------------------------------------------------


@pytest.mark.parametrize(
    ("issuer", "rp_id", "origin"),
    [
        ("https://id.example.com:8443/tenant", "id.example.com", "https://id.example.com:8443"),
        ("https://ID.Example.com/", "id.example.com", "https://id.example.com"),
        ("http://localhost:5000", "localhost", "http://localhost:5000"),
    ],
)
def test_relying_party_of_an_issuer(issuer: str, rp_id: str, origin: str) -> None:
    assert relying_party(issuer) == RelyingParty(rp_id, origin, "keystead")


def test_an_issuer_without_an_http_origin_is_refused() -> None:
    with pytest.raises(ValueError):
        relying_party("urn:example")


def test_registration_options_ask_for_a_discoverable_verified_credential() -> None:
    options = json.loads(
        registration_options(
            RP,
            user_handle=b"\x01\x02",
            username="rita",
            display_name="Rita R.",
            exclude=[b"old-1", b"old-2"],
            challenge=CHALLENGE,
        )
    )
    assert options["challenge"] == b64u(CHALLENGE)
    assert options["rp"] == {"name": "Example", "id": "id.example.com"}
    assert options["user"] == {"id": "AQI", "name": "rita", "displayName": "Rita R."}
    assert [p["alg"] for p in options["pubKeyCredParams"]] == [-7, -8, -257]
    assert options["attestation"] == "none"
    assert options["authenticatorSelection"] == {
        "residentKey": "required",
        "requireResidentKey": True,
        "userVerification": "required",
    }
    assert [c["id"] for c in options["excludeCredentials"]] == [b64u(b"old-1"), b64u(b"old-2")]


def test_options_are_safe_inside_a_script_element() -> None:
    text = registration_options(
        RP,
        user_handle=b"h",
        username="</script><b>&amp;",
        display_name="",
        exclude=(),
        challenge=CHALLENGE,
    )
    assert not {"<", ">", "&"} & set(text)
    user = json.loads(text)["user"]
    assert user["name"] == user["displayName"] == "</script><b>&amp;"


@pytest.mark.parametrize("uv", ["required", "preferred"])
def test_authentication_options(uv: str) -> None:
    discoverable = json.loads(authentication_options(RP, challenge=CHALLENGE, user_verification=uv))
    assert discoverable["rpId"] == "id.example.com"
    assert discoverable["allowCredentials"] == []
    assert discoverable["userVerification"] == uv
    assert discoverable["challenge"] == b64u(CHALLENGE)
    second = json.loads(
        authentication_options(RP, challenge=CHALLENGE, allow=[b"c1"], user_verification=uv)
    )
    assert second["allowCredentials"] == [{"id": b64u(b"c1"), "type": "public-key"}]


# --- registration --------------------------------------------------------------------------


def test_registration_gives_the_new_passkey(authn: SoftAuthenticator) -> None:
    passkey = registered(authn)
    assert passkey.credential_id == authn.credential_id
    assert passkey.public_key == authn.public_key
    assert passkey.sign_count == 0
    assert passkey.backup_eligible and passkey.backup_state and passkey.user_verified
    assert passkey.transports == ("hybrid", "internal")  # unknown ones dropped
    assert passkey.aaguid == str(__import__("uuid").UUID(bytes=AAGUID))


def test_registration_of_a_device_bound_passkey(authn: SoftAuthenticator) -> None:
    passkey = verify_registration(RP, authn.register(CHALLENGE, flags=UP | UV), CHALLENGE)
    assert not passkey.backup_eligible and not passkey.backup_state


def test_registration_refusals(authn: SoftAuthenticator) -> None:
    reg = authn.register
    refused(
        "challenge", "another challenge", verify_registration, RP, reg(os.urandom(32)), CHALLENGE
    )
    refused(
        "origin",
        "another site (origin https://evil.example)",
        verify_registration,
        RP,
        reg(CHALLENGE, origin="https://evil.example"),
        CHALLENGE,
    )
    refused(
        "rp-id",
        "another site",
        verify_registration,
        RP,
        reg(CHALLENGE, rp_id="evil.example"),
        CHALLENGE,
    )
    refused(
        "verification",
        "user verification (PIN or biometric)",
        verify_registration,
        RP,
        reg(CHALLENGE, flags=UP),
        CHALLENGE,
    )
    refused("presence", "present", verify_registration, RP, reg(CHALLENGE, flags=UV), CHALLENGE)
    refused(
        "type",
        "registration",
        verify_registration,
        RP,
        reg(CHALLENGE, type="webauthn.get"),
        CHALLENGE,
    )
    refused(
        "cross-origin",
        "frame",
        verify_registration,
        RP,
        reg(CHALLENGE, crossOrigin=True),
        CHALLENGE,
    )
    # BS without BE is not a state an authenticator can be in (WebAuthn L2 §6.1.3)
    refused(
        "signature",
        "tampered",
        verify_registration,
        RP,
        reg(CHALLENGE, flags=UP | UV | BS),
        CHALLENGE,
    )


def test_registration_with_tampered_authenticator_data(authn: SoftAuthenticator) -> None:
    good = authn.auth_data(flags=UP | UV, counter=0, attested=True)
    for bad in (
        good[:-5],  # the COSE key cut short
        good + b"\x00",  # trailing bytes
        good[:37],  # AT set, no attested credential data
        good[:53] + b"\xff\xff" + good[55:],  # credential ID length past the end
    ):
        response = authn.register(CHALLENGE, auth_data=bad)
        with pytest.raises(PasskeyError) as info:
            verify_registration(RP, response, CHALLENGE)
        assert info.value.code in ("attestation", "signature"), info.value.reason
        assert "tampered" in info.value.reason or "could not be verified" in info.value.reason


def test_registration_with_an_unsupported_algorithm(authn: SoftAuthenticator) -> None:
    cose = cbor2.loads(authn.public_key)
    cose[3] = -36  # ES512 with a P-256 key: not one we asked for
    good = authn.auth_data(flags=UP | UV, counter=0, attested=True)
    bad = good[: -len(authn.public_key)] + cbor2.dumps(cose)
    refused(
        "algorithm",
        "algorithm",
        verify_registration,
        RP,
        authn.register(CHALLENGE, auth_data=bad),
        CHALLENGE,
    )


# --- authentication ------------------------------------------------------------------------


def test_sign_in_with_the_passkey(authn: SoftAuthenticator) -> None:
    passkey = registered(authn)
    response = authn.assert_(CHALLENGE)
    assert credential_id_of(response) == passkey.credential_id
    assert user_handle_of(response) == authn.user_handle
    first = use(authn, response, sign_count=passkey.sign_count)
    assert (first.new_sign_count, first.backup_state, first.user_verified) == (1, True, True)
    second = use(authn, authn.assert_(CHALLENGE), sign_count=first.new_sign_count)
    assert second.new_sign_count == 2


def test_a_passkey_that_does_not_count_stays_at_zero(authn: SoftAuthenticator) -> None:
    result = use(authn, authn.assert_(CHALLENGE, counter=0), sign_count=0)
    assert result.new_sign_count == 0


def test_user_verification_only_when_required(authn: SoftAuthenticator) -> None:
    response = authn.assert_(CHALLENGE, flags=UP)
    refused("verification", "user verification (PIN or biometric)", use, authn, response)
    assert use(authn, response, uv=False).user_verified is False  # "preferred": a second factor


def test_sign_in_refusals(authn: SoftAuthenticator) -> None:
    a = authn.assert_
    refused("challenge", "another challenge", use, authn, a(os.urandom(32)))
    refused(
        "origin",
        "another site (origin http://x)",
        use,
        authn,
        a(CHALLENGE, origin="http://x"),
    )
    refused("rp-id", "another site", use, authn, a(CHALLENGE, rp_id="example.com"))
    refused("presence", "present", use, authn, a(CHALLENGE, flags=UV))
    refused("type", "sign-in", use, authn, a(CHALLENGE, type="webauthn.create"))


def test_tampered_authenticator_data_is_refused(authn: SoftAuthenticator) -> None:
    signed = authn.auth_data(flags=UP | UV, counter=7)
    sent = authn.auth_data(flags=UP | UV, counter=70)  # the counter raised after signing
    response = authn.assert_(CHALLENGE, auth_data=sent, signed_auth_data=signed)
    refused("signature", "tampered authenticator data", use, authn, response)
    with_extension_flag = bytes([*signed[:32], signed[32] | 0x80, *signed[33:]])
    response = authn.assert_(CHALLENGE, auth_data=with_extension_flag)
    refused("signature", "tampered", use, authn, response)


def test_a_signature_by_another_key_is_refused(authn: SoftAuthenticator) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    refused("signature", "bad signature", use, authn, authn.assert_(CHALLENGE, signer=other))
    # and a signature that is not even DER
    good = json.loads(authn.assert_(CHALLENGE))
    good["response"]["signature"] = b64u(b"\x30\x02\x01")
    refused("signature", "bad signature", use, authn, json.dumps(good))


@pytest.mark.parametrize(("stored", "sent"), [(5, 4), (5, 5), (5, 0)])
def test_a_counter_going_backwards_is_a_cloned_authenticator(
    authn: SoftAuthenticator, stored: int, sent: int
) -> None:
    response = authn.assert_(CHALLENGE, counter=sent)
    refused("counter", "cloned authenticator", use, authn, response, sign_count=stored)


def test_a_broken_stored_key_is_a_passkey_error(authn: SoftAuthenticator) -> None:
    with pytest.raises(PasskeyError):
        verify_authentication(
            RP,
            authn.assert_(CHALLENGE),
            CHALLENGE,
            public_key=b"\xa1\x01\x02",
            sign_count=0,
            require_user_verification=True,
        )


def test_the_owner_of_the_credential(authn: SoftAuthenticator) -> None:
    owner = authn.user_handle
    assert use_owned(authn, authn.assert_(CHALLENGE), owner, identified=False)
    assert use_owned(authn, authn.assert_(CHALLENGE), owner, identified=True)
    response = json.loads(authn.assert_(CHALLENGE))
    response["response"].pop("userHandle")
    without = json.dumps(response)
    # a second factor (the user is known) may get no user handle; passwordless must get one
    assert use_owned(authn, without, owner, identified=True)
    refused("user-handle", "does not belong", use_owned, authn, without, owner, identified=False)
    other = authn.assert_(CHALLENGE)
    for identified in (True, False):
        refused("user-handle", "does not belong", use_owned, authn, other, b"x", identified)


def use_owned(authn: SoftAuthenticator, response: str, owner: bytes, identified: bool) -> Any:
    return verify_authentication(
        RP,
        response,
        CHALLENGE,
        public_key=authn.public_key,
        sign_count=0,
        require_user_verification=True,
        owner_handle=owner,
        user_identified=identified,
    )


def test_registration_reports_the_attested_credential_id(authn: SoftAuthenticator) -> None:
    response = json.loads(authn.register(CHALLENGE))
    response["id"] = response["rawId"] = b64u(b"another id")
    refused("malformed", "malformed", verify_registration, RP, json.dumps(response), CHALLENGE)
    long = SoftAuthenticator(RP.rp_id, RP.origin, credential_id=os.urandom(1024))
    refused(
        "attestation", "1023 bytes", verify_registration, RP, long.register(CHALLENGE), CHALLENGE
    )


def test_user_handle_absent_or_empty(authn: SoftAuthenticator) -> None:
    response = json.loads(authn.assert_(CHALLENGE))
    response["response"]["userHandle"] = None
    assert user_handle_of(json.dumps(response)) is None
    response["response"]["userHandle"] = ""
    assert user_handle_of(json.dumps(response)) is None
    response["response"]["userHandle"] = "not base64!"
    with pytest.raises(PasskeyError):
        user_handle_of(json.dumps(response))


# --- garbage -------------------------------------------------------------------------------

GARBAGE = [
    "",
    "null",
    "[]",
    "{}",
    "1e999999",
    "9" * 5000,
    "[" * 100_000,
    '{"id": "AA", "rawId": "AA", "type": "public-key", "response": "x"}',
    '{"id": "AA", "rawId": "AB", "type": "public-key", "response": {}}',
    '{"id": "A+/A", "rawId": "A+/A", "type": "public-key", "response": {}}',
    '{"id": "", "rawId": "", "type": "public-key", "response": {}}',
    '{"id": "AA", "rawId": "AA", "type": "private-key", "response": {}}',
    '{"id": "AA", "rawId": "AA", "type": "public-key", "response": {"clientDataJSON": 5}}',
    "\udcff\x00é",
    "x" * 200_000,
]


def _all_calls(response: str, authn: SoftAuthenticator) -> None:
    """Every entry point on one input: each may succeed or raise PasskeyError, nothing else."""
    for call in (
        lambda: credential_id_of(response),
        lambda: user_handle_of(response),
        lambda: verify_registration(RP, response, CHALLENGE),
        lambda: use(authn, response),
        lambda: use(authn, response, sign_count=3, uv=False),
    ):
        try:
            call()
        except PasskeyError as exc:
            assert exc.reason and exc.code


@pytest.mark.parametrize("garbage", GARBAGE)
def test_garbage_is_a_passkey_error(authn: SoftAuthenticator, garbage: str) -> None:
    _all_calls(garbage, authn)
    with pytest.raises(PasskeyError):
        verify_authentication(
            RP,
            garbage,
            CHALLENGE,
            public_key=authn.public_key,
            sign_count=0,
            require_user_verification=False,
        )


def _mutations(response: str, rng: random.Random) -> list[str]:
    """Truncations of the text, and byte flips, truncations and replacements inside each
    base64url field and each JSON value."""
    out = [response[:n] for n in range(0, len(response), max(1, len(response) // 40))]
    doc = json.loads(response)
    fields = [(doc["response"], k) for k in doc["response"]] + [(doc, k) for k in doc]
    for holder, key in fields:
        original = holder[key]
        values: list[Any] = [None, 0, -1, 1.5, [], {}, [{}], [[]], {"a": []}, "", "é", "A" * 3]
        values += [True, "\x00", ["internal", {}], "A" * 2000]
        if isinstance(original, str):
            try:
                raw = base64.urlsafe_b64decode(original + "=" * (-len(original) % 4))
            except ValueError:
                raw = original.encode()
            for _ in range(12):
                mutated = bytearray(raw)
                if mutated:
                    i = rng.randrange(len(mutated))
                    mutated[i] ^= 1 << rng.randrange(8)
                values.append(b64u(bytes(mutated)))
                values.append(b64u(raw[: rng.randrange(len(raw) + 1)]))
            values.append(original + "!")
        for value in values:
            holder[key] = value
            out.append(json.dumps(doc))
        holder[key] = original
    return out


@pytest.mark.parametrize("seed", range(16))
def test_mutated_real_responses_are_passkey_errors(authn: SoftAuthenticator, seed: int) -> None:
    rng = random.Random(seed)
    for response in (authn.register(CHALLENGE), authn.assert_(CHALLENGE, counter=9)):
        for mutated in _mutations(response, rng):
            _all_calls(mutated, authn)


def test_mutated_cbor_inside_the_attestation_object(authn: SoftAuthenticator) -> None:
    rng = random.Random(7)
    doc = json.loads(authn.register(CHALLENGE))
    att = cbor2.loads(base64.urlsafe_b64decode(doc["response"]["attestationObject"] + "=="))
    for replacement in (
        {"fmt": "none", "attStmt": {"x": 1}, "authData": att["authData"]},
        {"fmt": "packed", "attStmt": {"alg": -7, "sig": b"x"}, "authData": att["authData"]},
        {"fmt": "tpm", "attStmt": {}, "authData": att["authData"]},
        {"fmt": 5, "attStmt": [], "authData": att["authData"]},
        {"fmt": "none", "attStmt": {}, "authData": "text"},
        [1, 2, 3],
        {"fmt": "none", "attStmt": {}, "authData": bytes(rng.randrange(256) for _ in range(90))},
    ):
        doc["response"]["attestationObject"] = b64u(cbor2.dumps(replacement))
        with pytest.raises(PasskeyError):
            verify_registration(RP, json.dumps(doc), CHALLENGE)


_KEY = ec.generate_private_key(ec.SECP256R1())
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None, database=None, derandomize=True)
@given(
    kind=st.sampled_from(["register", "assert"]),
    where=st.sampled_from(["top", "response", "client data", "bytes"]),
    key_index=st.integers(0, 20),
    value=JSON_VALUES,
    data=st.binary(max_size=300),
)
def test_hypothesis_substitutions_are_passkey_errors(
    kind: str, where: str, key_index: int, value: Any, data: bytes
) -> None:
    """Any value in any place of a real response — the credential, its response, the
    client data inside it, or any bytes in a base64url field — is a PasskeyError or a
    success, never another exception."""
    authn = SoftAuthenticator(RP.rp_id, RP.origin, key=_KEY, credential_id=b"c" * 16)
    doc = json.loads(authn.register(CHALLENGE) if kind == "register" else authn.assert_(CHALLENGE))
    if where == "client data":
        client = json.loads(base64.urlsafe_b64decode(doc["response"]["clientDataJSON"] + "=="))
        keys = [*client, "tokenBinding", "topOrigin"]
        client[keys[key_index % len(keys)]] = value
        doc["response"]["clientDataJSON"] = b64u(json.dumps(client).encode())
    else:
        holder = doc if where == "top" else doc["response"]
        keys = list(holder)
        key = keys[key_index % len(keys)]
        holder[key] = b64u(data) if where == "bytes" else value
    _all_calls(json.dumps(doc), authn)


def test_constants_match_py_webauthn() -> None:
    # keystead names the algorithms and transports itself so that py_webauthn (with
    # pyOpenSSL and pyasn1 under it) is imported on the first ceremony, not at start-up.
    from webauthn.helpers.cose import COSEAlgorithmIdentifier
    from webauthn.helpers.structs import AuthenticatorTransport

    from keystead.accounts import webauthn as ks

    assert {t.value for t in AuthenticatorTransport} == ks._TRANSPORTS
    assert ks.ALGORITHM_IDS == (
        COSEAlgorithmIdentifier.ECDSA_SHA_256,
        COSEAlgorithmIdentifier.EDDSA,
        COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,
    )


def test_app_start_does_not_import_py_webauthn() -> None:
    import subprocess
    import sys

    code = "import sys, keystead.app; print('webauthn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
