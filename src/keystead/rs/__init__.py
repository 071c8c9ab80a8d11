"""What an API imports to accept keystead's access tokens."""

from keystead.rs.starlette import RequireToken, bearer_token, protected
from keystead.rs.verifier import AccessTokenInfo, TokenError, Verifier

__all__ = ["AccessTokenInfo", "RequireToken", "TokenError", "Verifier", "bearer_token", "protected"]
