"""The OAuth 1.0a provider (RFC 5849): a different protocol from OAuth 2.0, with its own
signature rules, sharing keystead's clients (consumers), users, sign-in and error catalog.

- ``signature``: the signature base string (§3.4.1) and methods (§3.4.2-§3.4.4);
- ``params``: where a signed request's parameters come from (§3.5, §3.4.1.3.1);
- ``verify``: checking a signed request in §3.2's order, the nonce and timestamp (§3.3);
- ``credentials``: making tokens, sealing their secrets;
- ``flow``: the endpoints' protocol logic (§2.1, §2.2, §2.3, a protected resource);
- ``api``: an API's signed request, checked for it at /oauth1/verify (keystead.rs).

The web side is web/oauth1.py (endpoints), web/oauth1_verify.py (for APIs) and
web/oauth1_page.py (the user's page); storage is store/oauth1.py; docs/oauth1.md shows a
consumer and an API.
"""
