"""Grant types, dispatched by table. Each module declares GRANT_TYPE, PARAMETERS and
``async def handle(req, client, provider)``; discovery derives grant_types_supported from here.
"""

from __future__ import annotations

from types import ModuleType

from keystead.protocol.grants import (
    authorization_code,
    ciba,
    client_credentials,
    device_code,
    jwt_bearer,
    refresh_token,
    token_exchange,
)

GRANTS: dict[str, ModuleType] = {
    module.GRANT_TYPE: module
    for module in (
        authorization_code,
        refresh_token,
        client_credentials,
        device_code,
        token_exchange,
        jwt_bearer,
        ciba,
    )
}
