"""Random identifiers never look like a command-line option; random tokens are base64url."""

from __future__ import annotations

import base64
import os
import re
import secrets

import pytest

from keystead.secrets_util import b64url, random_id, random_token


def test_random_id_redraws_a_value_starting_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    values = iter(["-looks-like-an-option", "_fine"])
    monkeypatch.setattr(secrets, "token_urlsafe", lambda nbytes: next(values))
    assert random_id() == "_fine"


def test_random_ids_are_long_and_distinct() -> None:
    ids = {random_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(len(i) >= 21 and not i.startswith("-") for i in ids)


def test_b64url_is_unpadded_urlsafe_base64() -> None:
    for size in range(0, 70):
        data = os.urandom(size)
        assert b64url(data) == base64.urlsafe_b64encode(data).rstrip(b"=")


@pytest.mark.parametrize("nbytes", [16, 24, 32])
def test_random_token_is_token_urlsafes_format(nbytes: int) -> None:
    values = {random_token(nbytes) for _ in range(500)}
    assert len(values) == 500
    for value in values:
        assert re.fullmatch(r"[A-Za-z0-9_-]+", value)
        assert len(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))) == nbytes
        assert len(value) == len(secrets.token_urlsafe(nbytes))
