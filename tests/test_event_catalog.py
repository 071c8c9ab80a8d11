"""Every event name the code emits is explained in event_catalog.py, and nothing else is."""

from __future__ import annotations

import re
from pathlib import Path

from keystead.event_catalog import EVENTS

SRC = Path(__file__).resolve().parents[1] / "src" / "keystead"
# emit("name", ...) / audit(provider, actor, "name", ...), and "a" if ... else "b" as the name
_CALL = re.compile(r'(?:\.emit|audit)\(\s*(?:[a-z_.]+,\s*[a-z_.]+,\s*)?"([a-z0-9_]+\.[a-z0-9_.]+)"')
_CHOICE = re.compile(r'\(\s*"([a-z0-9_]+\.[a-z0-9_.]+)" if [^"]+ else "([a-z0-9_]+\.[a-z0-9_.]+)"')


def emitted() -> set[str]:
    names: set[str] = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text()
        names.update(_CALL.findall(text))
        for first, second in _CHOICE.findall(text):
            names.update((first, second))
    return names


def test_every_emitted_event_is_explained() -> None:
    assert emitted() - set(EVENTS) == set()


def test_the_catalog_names_only_emitted_events() -> None:
    assert set(EVENTS) - emitted() == set()
