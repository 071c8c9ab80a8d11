"""What an API imports to accept keystead's access tokens and OAuth 1.0a-signed requests."""

from keystead.rs.oauth1 import OAuth1Error, OAuth1Info, OAuth1Verifier
from keystead.rs.starlette import (
    RequireOAuth1,
    RequireToken,
    bearer_token,
    oauth1_protected,
    protected,
)
from keystead.rs.verifier import AccessTokenInfo, TokenError, Verifier

__all__ = [
    "AccessTokenInfo",
    "OAuth1Error",
    "OAuth1Info",
    "OAuth1Verifier",
    "RequireOAuth1",
    "RequireToken",
    "TokenError",
    "Verifier",
    "bearer_token",
    "oauth1_protected",
    "protected",
]
