"""Outgoing HTTP: the SSRF-guarded fetcher and the cache of client JWK Sets."""
