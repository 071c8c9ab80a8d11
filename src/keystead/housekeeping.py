"""Periodic purge of expired rows, so storage does not grow without bound.

Run by the app's housekeeping task every ``purge_interval`` seconds, in every instance (the
deletes are idempotent, so several instances purging at once only repeat each other's work).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keystead.provider import Provider

log = logging.getLogger("keystead.housekeeping")

# Expired codes and tokens are kept this much longer: a consumed code replayed late still
# revokes its grant (RFC 6749 §4.1.2), and an expired token still introspects as known.
PURGE_MARGIN = 3600
# Login failure counters are forgotten after a quiet day (and never while a delay runs).
THROTTLE_MEMORY = 86400


JOB_MEMORY = 7 * 86400  # seconds a sent or failed job stays for operators to inspect


async def purge_expired(provider: Provider) -> dict[str, int]:
    """Delete expired codes, tokens, dead grants, sessions, throttle counters and old events;
    return how many rows of each kind were deleted."""
    settings = provider.settings
    store = provider.store
    now = provider.now()
    counts = {
        "grants": await store.grants.purge_expired(now - PURGE_MARGIN),
        "sessions": await store.sessions.purge_expired(now, now - settings.session_idle_ttl),
        "throttle": await store.throttle.purge(
            now - max(settings.login_max_delay, THROTTLE_MEMORY)
        ),
        "events": await provider.recorder.purge(settings.event_retention_days * 86400),
        # client assertion jtis past their assertion's lifetime, expired initial access tokens
        "markers": await store.markers.purge(now),
        # single-use links past their expiry; outbox jobs sent or given up a week ago
        "action_tokens": await store.action_tokens.purge(now - PURGE_MARGIN),
        "jobs": await store.jobs.purge(now - JOB_MEMORY),
        "device_codes": await store.device_codes.purge(now - PURGE_MARGIN),
        "ciba_requests": await store.ciba_requests.purge(now - PURGE_MARGIN),
        "pushed_requests": await store.pushed_requests.purge(now - PURGE_MARGIN),
        "oauth1_temporary": await store.oauth1.purge(now - PURGE_MARGIN),  # RFC 5849 §2.1
    }
    if any(counts.values()):
        log.info("purged expired rows: %s", counts)
    return counts
