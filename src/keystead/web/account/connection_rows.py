"""The rows of the account page's "Sign-in with other providers" (web/account/connections.py
changes them): linked identities, and the connections that could be linked."""

from __future__ import annotations

from typing import Any

from keystead.accounts import federated
from keystead.web.account.common import Visit
from keystead.web.account.sessions import when


async def context(v: Visit) -> dict[str, Any]:
    """The section's rows: linked identities, and the connections that could be linked."""
    provider = v.provider
    connections = {c.connection_id: c for c in await provider.store.connections.list()}
    linked = await provider.store.federated_identities.for_user(v.user.sub)
    rows = [
        {
            "connection_id": i.connection_id,
            "name": connections[i.connection_id].display_name,
            "email": i.email or "",
            "linked": when(i.created_at),
            "last_used": when(i.last_login_at),
        }
        for i in linked
        if i.connection_id in connections
    ]
    taken = {i.connection_id for i in linked}
    available = [
        {"name": c.name, "display_name": c.display_name}
        for c in connections.values()
        if c.enabled and c.connection_id not in taken
    ]
    return {
        "identities": rows,
        "linkable": available,
        "has_password": federated.has_password(v.user),
    }
