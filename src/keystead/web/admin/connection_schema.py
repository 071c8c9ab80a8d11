"""Request bodies of /admin/api/connections (pydantic, ``extra="forbid"``); schema.py lists them
in the OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AuthMethod = Literal["client_secret_basic", "client_secret_post"]
NAME_HELP = "1-40 of a-z, 0-9 and '-' (it appears in URLs and idp_hint=NAME)"


class ConnectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=40, description=NAME_HELP)
    client_id: str = Field(min_length=1, max_length=200, description="keystead's at the upstream")
    client_secret: str = Field(
        min_length=1, max_length=2000, description="Stored sealed, never shown again"
    )
    preset: Literal["github"] | None = Field(None, description="github: GitHub's OAuth 2.0 API")
    issuer: str | None = Field(
        None,
        description="The upstream's issuer (https); with preset github its web address, "
        "https://github.com unless given",
    )
    display_name: str | None = Field(None, max_length=200)
    scope: str | None = Field(None, description='default "openid email profile"')
    auth_method: AuthMethod | None = None
    jit: bool = Field(True, description="A new upstream identity becomes a new local user")
    link_by_verified_email: bool = False
    enabled: bool = True


class ConnectionUpdate(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=40, description=NAME_HELP)
    display_name: str | None = Field(None, max_length=200)
    issuer: str | None = None
    client_id: str | None = Field(None, min_length=1, max_length=200)
    client_secret: str | None = Field(None, min_length=1, max_length=2000)
    scope: str | None = None
    auth_method: AuthMethod | None = None
    jit: bool | None = None
    link_by_verified_email: bool | None = None
    enabled: bool | None = None


CONNECTION_NOT_NULL = tuple(ConnectionUpdate.model_fields)
