"""Bounded JSON parsing (keystead/jsonlimits.py)."""

from __future__ import annotations

import pytest

from keystead.jsonlimits import MAX_DEPTH, JsonTooDeep, loads


def test_ordinary_documents_parse_as_json_loads_does() -> None:
    assert loads('{"a": [1, {"b": null}], "c": "d"}') == {"a": [1, {"b": None}], "c": "d"}
    assert loads(b"3") == 3


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5_000, 200_000])
def test_deep_nesting_is_a_value_error(depth: int) -> None:
    with pytest.raises(JsonTooDeep, match="deeper than"):
        loads("[" * depth + "]" * depth)
    with pytest.raises(ValueError):
        loads('{"a":' * depth + "1" + "}" * depth)


def test_the_limit_itself_is_allowed() -> None:
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
