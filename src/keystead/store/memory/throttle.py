"""``ThrottleStore`` in memory."""

from __future__ import annotations

from keystead.store.base import ThrottleState


class MemoryThrottleStore:
    def __init__(self) -> None:
        self._states: dict[str, ThrottleState] = {}

    async def get(self, key: str) -> ThrottleState | None:
        return self._states.get(key)

    async def record_failure(self, key: str, now: int) -> ThrottleState:
        state = self._states.get(key)
        failures = 1 if state is None else state.failures + 1
        self._states[key] = ThrottleState(key=key, failures=failures, last_failure_at=now)
        return self._states[key]

    async def reset(self, key: str) -> None:
        self._states.pop(key, None)

    async def purge(self, before: int) -> int:
        doomed = [key for key, state in self._states.items() if state.last_failure_at < before]
        for key in doomed:
            del self._states[key]
        return len(doomed)
