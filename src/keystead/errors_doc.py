"""Documentation generated from the error catalog: docs/errors.md and the /errors pages.

One source (errors.CATALOG); `python -m keystead.errors_doc > docs/errors.md` regenerates the
file, and a test fails when the committed copy is stale.
"""

from __future__ import annotations

from keystead.errors import CATALOG, CatalogEntry


def entry_markdown(entry: CatalogEntry) -> str:
    lines = [
        f"## `{entry.id}`",
        "",
        f"**{entry.title}** — `error={entry.error}`, HTTP {entry.status}",
        "",
        "Likely causes:",
        "",
        *[f"- {cause}" for cause in entry.causes],
        "",
        "How to fix:",
        "",
        *[f"- {fix}" for fix in entry.fixes],
        "",
    ]
    return "\n".join(lines)


def catalog_markdown() -> str:
    header = [
        "# Error reference",
        "",
        "<!-- Generated from src/keystead/errors.py by `python -m keystead.errors_doc`. -->",
        "<!-- Do not edit by hand: tests/test_error_catalog.py checks it is current. -->",
        "",
        "Every error keystead returns carries `error` (the RFC error code), a precise",
        "`error_description`, and `error_uri` pointing at this entry on the server itself",
        "(`<issuer>/errors/<id>`). `keystead explain <id | error code | correlation id>` prints",
        "the same text in a terminal.",
        "",
        "| id | error | status | title |",
        "|---|---|---|---|",
        *[
            f"| [`{e.id}`](#{e.id}) | `{e.error}` | {e.status} | {e.title} |"
            for e in CATALOG.values()
        ],
        "",
    ]
    return "\n".join(header) + "\n" + "\n".join(entry_markdown(e) for e in CATALOG.values())


def entry_text(entry: CatalogEntry) -> str:
    """Plain text for the terminal (`keystead explain`)."""
    lines = [
        f"{entry.id}: {entry.title}",
        f"  error={entry.error}  HTTP {entry.status}",
        "  likely causes:",
        *[f"    - {cause}" for cause in entry.causes],
        "  how to fix:",
        *[f"    - {fix}" for fix in entry.fixes],
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(catalog_markdown(), end="")
