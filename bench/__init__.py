"""keystead against node-oidc-provider: ``python -m bench.run`` (docs/performance.md)."""
