"""What one refused request may cost: events are bounded in size, and identical refusals
from one source are kept a few times a minute and summed up — never stored one by one."""

from __future__ import annotations

import logging
import re

import pytest

from keystead.events import (
    LIST_LIMIT,
    REPEATS_KEPT,
    VALUE_LIMIT,
    Event,
    EventRecorder,
    Events,
    bounded,
    log_event,
)
from keystead.store.memory import MemoryStore


def test_event_data_is_bounded() -> None:
    data = bounded({"description": "x" * 60_000, "scopes": ["s"] * 500, "n": 3})
    assert len(data["description"]) < VALUE_LIMIT + 40
    assert data["description"].endswith("(59700 more characters)")
    assert len(data["scopes"]) == LIST_LIMIT and data["n"] == 3


def test_identical_refusals_from_one_source_are_counted_not_kept() -> None:
    seen: list[Event] = []
    events = Events([seen.append])
    for _ in range(50):
        events.emit("request.refused", catalog_id="grant-type-unsupported", ip="198.51.100.1")
    events.emit("request.refused", catalog_id="grant-type-unsupported", ip="198.51.100.2")
    kept = [e for e in seen if not e.repeated]
    assert len(seen) == 51  # every one reaches the metrics
    assert len(kept) == REPEATS_KEPT + 1  # another source is not silenced by the first
    events.summarize_repeats()
    summary = seen[-1]
    assert summary.name == "request.refused.repeated" and not summary.repeated
    assert summary.data == {
        "catalog_id": "grant-type-unsupported",
        "ip": "198.51.100.1",
        "count": 50 - REPEATS_KEPT,
    }
    events.summarize_repeats()  # nothing new: no summary
    assert seen[-1] is summary


def test_repeated_events_are_neither_recorded_nor_logged(caplog: pytest.LogCaptureFixture) -> None:
    recorder = EventRecorder(MemoryStore().events)
    repeat = Event("request.refused", {"catalog_id": "x"}, "cid", 0, repeated=True)
    recorder(repeat)
    assert recorder.buffer == []
    with caplog.at_level(logging.INFO, "keystead.events"):
        log_event(repeat)
    assert caplog.records == []


def test_correlation_ids_are_16_hex_digits_and_current() -> None:
    from keystead.events import correlation_id, new_correlation_id

    ids = {new_correlation_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{16}", cid) for cid in ids)
    assert correlation_id.get() in ids
