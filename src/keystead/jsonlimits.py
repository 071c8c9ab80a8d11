"""JSON from outside, parsed with bounds: every place keystead parses JSON that a caller
sent or served (registration bodies, the ``claims`` parameter, client assertions, fetched
JWK Sets, the admin API) goes through ``loads``, so hostile nesting is a clear ValueError —
never a RecursionError and a 500.

The limits are listed in docs/security.md. ``dumps_compact`` is the other direction: the
compact serialisation of keystead's own JSON on the hot paths (token responses, JWT claims).
"""

from __future__ import annotations

import json
import json.encoder
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


# The C encoder json.dumps uses (None on an interpreter without the accelerator).
_C_ENCODER: Any = getattr(json.encoder, "c_make_encoder", None)
_ASCII = json.encoder.encode_basestring_ascii


def _unserializable(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps_compact(value: Any) -> str:
    """``json.dumps(value, separators=(",", ":"))``, the same text, without building a
    ``JSONEncoder`` and its Python ``iterencode`` per call (a few microseconds of a token
    response, which serialises three or four documents): the C encoder directly, with the
    same options (ASCII output, circular references refused, NaN allowed)."""
    if _C_ENCODER is None:
        return json.dumps(value, separators=(",", ":"))
    encode = _C_ENCODER(
        {},
        _unserializable,
        _ASCII,
        None,
        ":",
        ",",
        False,
        False,
        True,
    )
    return "".join(encode(value, 0))
