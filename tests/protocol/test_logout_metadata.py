"""Back- and front-channel logout metadata (Back-Channel Logout 1.0 §2.2, Front-Channel
Logout 1.0 §2): checked the same whichever channel registers the client."""

from __future__ import annotations

import pytest

from keystead.protocol.client_metadata import ClientSpec, MetadataError, check_logout_uris

BC, BCS = "backchannel_logout_uri", "backchannel_logout_session_required"
FC, FCS = "frontchannel_logout_uri", "frontchannel_logout_session_required"


def spec(**fields: object) -> ClientSpec:
    base = ClientSpec("RP", ["https://rp.example.com/cb"])
    for name, value in fields.items():
        setattr(base, name, value)
    return base


@pytest.mark.parametrize(
    "fields",
    [
        {BC: "https://rp.example.com/bc?x=1"},
        {BC: "https://other.example.net/logout"},
        {BC: "http://127.0.0.1:9000/bc"},
        {FC: "https://rp.example.com/fc", FCS: True},
    ],
)  # fmt: skip
def test_accepted(fields: dict[str, object]) -> None:
    check_logout_uris(spec(**fields))


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({BC: "https://rp.example.com/bc#x"}, BC, "fragment"),
        ({BC: "http://rp.example.com/bc"}, BC, "https"),
        ({BC: "https://rp.example.com:99999/"}, BC, "not a URI"),
        ({FC: "https://elsewhere.example/fc"}, FC, "redirect URI"),
        ({FC: "https://rp.example.com:8443/fc"}, FC, "port"),
        ({BCS: True}, BCS, "needs"),
    ],
)  # fmt: skip
def test_refused(fields: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(MetadataError) as caught:
        check_logout_uris(spec(**fields))
    assert caught.value.field == field and words in caught.value.message
