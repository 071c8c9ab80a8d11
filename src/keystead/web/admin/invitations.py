"""/admin/api/users/invitations: invite someone by email address (services/invitations.py, the
same operation as ``keystead user invite``).

The account is created at once with no usable password, and the invitation mail is written
to the outbox in the same transaction as its single-use link; the running server's sender
delivers it. 201 with the new user and its Location; 409 when an account has the address
already; 422 naming ``email`` for an address that is not one — and also when this server has
no mail configured (``KEYSTEAD_SMTP_URL``): the request cannot succeed until the operator
changes the configuration, and the message says which setting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from keystead.protocol.admin_auth import ADMIN_API_PATH
from keystead.protocol.tokens import ActiveToken
from keystead.services import invitations as service
from keystead.web.admin import schema
from keystead.web.admin.common import actor, admin_endpoint, json_body, parse_body
from keystead.web.admin.users import user_view

if TYPE_CHECKING:
    from keystead.provider import Provider


@admin_endpoint
async def invitations(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    body = await parse_body(request, schema.Invitation)
    user = await service.invite(
        provider, body.email, actor(caller), name=body.name, username=body.username
    )
    location = provider.settings.url(f"{ADMIN_API_PATH}/users/{user.sub}")
    return json_body(user_view(user), 201, location)
