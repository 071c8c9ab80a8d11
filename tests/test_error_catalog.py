"""The error catalog is the one place: every raised error is in it, every entry is documented
(docs/errors.md is generated from it and must be current), and /errors/<id> serves it."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

from keystead.errors import CATALOG, OAuthError, safe_description
from keystead.errors_doc import catalog_markdown

SRC = Path(__file__).parents[1] / "src" / "keystead"
DOCS = Path(__file__).parents[1] / "docs" / "errors.md"


def raised_catalog_ids() -> dict[str, list[str]]:
    """catalog id -> where it is used, from every OAuthError(...) call in the source."""
    found: dict[str, list[str]] = {}
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("OAuthError", "UpstreamError")
            ):
                first = node.args[0] if node.args else None
                assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
                    f"{path}:{node.lineno}: OAuthError's catalog id must be a literal string"
                )
                found.setdefault(first.value, []).append(f"{path.name}:{node.lineno}")
    return found


def test_every_raised_error_is_in_the_catalog() -> None:
    raised = raised_catalog_ids()
    assert len(raised) >= 30
    missing = {cid: where for cid, where in raised.items() if cid not in CATALOG}
    assert not missing, f"not in errors.CATALOG: {missing}"


def test_every_catalog_entry_is_raised_somewhere() -> None:
    unused = set(CATALOG) - set(raised_catalog_ids())
    assert not unused, f"catalog entries no code raises (dead documentation): {unused}"


def test_every_entry_is_documented() -> None:
    for entry in CATALOG.values():
        assert entry.title and entry.causes and entry.fixes, entry.id
        assert 400 <= entry.status <= 599
        for text in (entry.title, *entry.causes, *entry.fixes):
            assert text.endswith((".", ")")) or text == entry.title, (entry.id, text)


def test_docs_errors_md_is_generated_and_current() -> None:
    assert DOCS.read_text() == catalog_markdown(), (
        "docs/errors.md is stale: run `python -m keystead.errors_doc > docs/errors.md`"
    )
    for entry_id in CATALOG:
        assert f"## `{entry_id}`" in DOCS.read_text()


def test_every_row_of_every_area_is_one_entry() -> None:
    # The rows live in error_catalog/, one module per area: an id repeated in two areas would
    # silently keep only the later row.
    import keystead.error_catalog as package

    areas = [
        importlib.import_module(f"keystead.error_catalog.{module.name}")
        for module in pkgutil.iter_modules(package.__path__)
    ]
    ids = [row[0] for area in areas for row in area.ROWS]
    assert len(ids) == len(set(ids)) == len(CATALOG)


def test_unknown_catalog_id_is_a_bug() -> None:
    with pytest.raises(KeyError):
        OAuthError("no-such-error", "x")


@pytest.mark.parametrize(
    "text, expected",
    [
        ('say "hi"', "say 'hi'"),
        ("back\\slash", "back/slash"),
        ("two\nlines", "two lines"),
        ("Café Ünïcödé", "Cafe Unicode"),
        ("日本のアプリ ok", " ok"),
        ("tab\there", "tab'here"),
    ],
)
def test_description_charset(text: str, expected: str) -> None:
    # RFC 6749 §5.2: %x20-21 / %x23-5B / %x5D-7E
    out = safe_description(text)
    assert out == expected
    assert all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in out)


def test_descriptions_built_from_client_input_stay_in_charset() -> None:
    err = OAuthError("authorize-client-unknown", 'No client "Ünï\\\n" here')
    assert err.description == "No client 'Uni/ ' here"
