"""Bounded JSON parsing (keystead/jsonlimits.py)."""

from __future__ import annotations

import json
import math

import pytest

from keystead.jsonlimits import MAX_DEPTH, JsonTooDeep, dumps_compact, loads


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


@pytest.mark.parametrize(
    "value",
    [
        {"access_token": "eyJ.a-b_c", "expires_in": 3600, "active": True, "x": None},
        {"aud": ["a", "b"], "nested": {"ü": 'ünï "q" \\ \n\u2028', "f": 1.5}, "e": []},
        ["x", 1, 2.25, False, {}],
        "just a string",
        12,
        math.inf,
    ],
)
def test_dumps_compact_is_json_dumps_with_compact_separators(value: object) -> None:
    assert dumps_compact(value) == json.dumps(value, separators=(",", ":"))


def test_dumps_compact_refuses_what_json_dumps_refuses() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps_compact({"when": object()})
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular reference"):
        dumps_compact(loop)
