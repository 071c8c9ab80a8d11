"""JSON from outside, parsed with bounds: every place keystead parses JSON that a caller
sent or served (registration bodies, the ``claims`` parameter, client assertions, fetched
JWK Sets, the admin API) goes through ``loads``, so hostile nesting is a clear ValueError —
never a RecursionError and a 500.

The limits are listed in docs/security.md.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32  # nested objects/arrays; real metadata, claims and JWKs use fewer than 5


class JsonTooDeep(ValueError):
    """The document nests deeper than MAX_DEPTH."""


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads``, refusing documents nested deeper than ``max_depth`` with
    ``JsonTooDeep`` (a ValueError, as any other malformed JSON is)."""
    try:
        value = json.loads(text)
    except RecursionError:  # deeper than the interpreter's stack: far past the limit
        raise JsonTooDeep(f"The JSON nests deeper than {max_depth} levels.") from None
    if isinstance(value, dict | list):
        _check_depth(value, max_depth)
    return value


def _check_depth(root: dict[str, Any] | list[Any], max_depth: int) -> None:
    level: list[Any] = [root]
    depth = 1
    while level:
        if depth > max_depth:
            raise JsonTooDeep(f"The JSON nests deeper than {max_depth} levels.")
        nested: list[Any] = []
        for value in level:
            children = value.values() if isinstance(value, dict) else value
            nested.extend(c for c in children if isinstance(c, dict | list))
        level = nested
        depth += 1
