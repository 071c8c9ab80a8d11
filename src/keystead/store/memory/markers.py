"""``MarkerStore`` in memory."""

from __future__ import annotations


class MemoryMarkerStore:
    def __init__(self) -> None:
        self._markers: dict[str, int] = {}  # key -> expires_at

    async def add(self, key: str, expires_at: int, now: int) -> bool:
        current = self._markers.get(key)
        if current is not None and current > now:
            return False
        self._markers[key] = expires_at
        return True

    async def get(self, key: str, now: int) -> int | None:
        current = self._markers.get(key)
        return current if current is not None and current > now else None

    async def take(self, key: str, now: int) -> bool:
        current = self._markers.get(key)
        if current is None or current <= now:
            return False
        del self._markers[key]
        return True

    async def purge(self, now: int) -> int:
        expired = [k for k, v in self._markers.items() if v <= now]
        for key in expired:
            del self._markers[key]
        return len(expired)
