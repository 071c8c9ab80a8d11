"""A CIBA client's notification endpoint for tests (CIBA Core 1.0 §10.2): the back-channel
logout receiver's server (tests/e2e/logout_receiver.py), recording JSON pings with their
Authorization header and answering 204 (or the status set for the name)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tests.e2e.logout_receiver import Receiver


@dataclass
class Ping:
    name: str
    body: Any
    authorization: str
    content_type: str


@dataclass
class PingReceiver(Receiver):
    pings: list[Ping] = field(default_factory=list)

    async def _endpoint(self, request: Request) -> Response:
        name = request.path_params["name"]
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        self.pings.append(
            Ping(
                name,
                body,
                request.headers.get("authorization", ""),
                request.headers.get("content-type", ""),
            )
        )
        return Response(status_code=self.status.get(name, 204))
