"""What the account page lists under "Where you're signed in" (the user's live sessions:
device, address, when, this one marked) and "Apps with access" (by client: the user's usable
grants and remembered consents). The changes to them are access.py's."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from keystead.accounts import sessions
from keystead.accounts.account_app import ACCOUNT_CLIENT_ID
from keystead.protocol import scopes
from keystead.web.account.common import Visit

if TYPE_CHECKING:
    from keystead.provider import Provider


def when(timestamp: int | None) -> str:
    """A time as the account page shows it."""
    if timestamp is None:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(timestamp))


async def session_rows(v: Visit) -> list[dict[str, Any]]:
    """The user's live sessions, newest first, this one marked."""
    return [
        {
            "sid": s.sid,
            "device": sessions.describe_device(s.user_agent),
            "user_agent": s.user_agent or "",
            "ip": s.ip or "unknown",
            "signed_in": when(s.created_at),
            "last_seen": when(s.last_active_at),
            "current": s.session_hash == v.session.session_hash,
        }
        for s in await sessions.live_sessions(v.provider, v.user.sub)
    ]


@dataclass(slots=True)
class App:
    client_id: str
    scope: set[str]
    granted_at: int
    grant_ids: list[str]


async def apps_of(provider: Provider, sub: str) -> dict[str, App]:
    """By client: the user's grants still usable and remembered consents."""
    now = provider.now()
    apps: dict[str, App] = {}
    for grant in await provider.store.grants.list_for(sub):
        if grant.expires_at is not None and grant.expires_at <= now:
            continue
        app = apps.setdefault(grant.client_id, App(grant.client_id, set(), 0, []))
        app.scope.update(scopes.parse(grant.scope))
        app.granted_at = max(app.granted_at, grant.created_at)
        app.grant_ids.append(grant.grant_id)
    for consent in await provider.store.consents.list_for(sub):
        app = apps.setdefault(consent.client_id, App(consent.client_id, set(), 0, []))
        app.scope.update(scopes.parse(consent.scope))
        app.granted_at = max(app.granted_at, consent.updated_at)
    apps.pop(ACCOUNT_CLIENT_ID, None)  # this page itself
    return apps


async def app_rows(v: Visit) -> list[dict[str, Any]]:
    """The apps with access, most recently granted first."""
    rows = []
    apps = sorted((await apps_of(v.provider, v.user.sub)).values(), key=lambda a: -a.granted_at)
    for app in apps:
        client = await v.provider.get_client(app.client_id)
        rows.append(
            {
                "client_id": app.client_id,
                "name": client.client_name if client and client.client_name else app.client_id,
                "scopes": sorted(app.scope),
                "granted": when(app.granted_at),
                "active": bool(app.grant_ids),
            }
        )
    return rows
