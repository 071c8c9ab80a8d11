"""Random identifiers never look like a command-line option."""

from __future__ import annotations

import secrets

import pytest

from keystead.secrets_util import random_id


def test_random_id_redraws_a_value_starting_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    values = iter(["-looks-like-an-option", "_fine"])
    monkeypatch.setattr(secrets, "token_urlsafe", lambda nbytes: next(values))
    assert random_id() == "_fine"


def test_random_ids_are_long_and_distinct() -> None:
    ids = {random_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(len(i) >= 21 and not i.startswith("-") for i in ids)
