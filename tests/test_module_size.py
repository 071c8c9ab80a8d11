"""No module under src/ grows past ~450 lines (generated migrations aside): a long file is
asking to be split along its seams (shared/ARCHITECTURE.md, docs/architecture.md)."""

from __future__ import annotations

from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "keystead"
LIMIT = 450


def test_no_module_is_past_the_limit() -> None:
    long = {
        str(path.relative_to(SRC)): count
        for path in SRC.rglob("*.py")
        if "alembic" not in path.parts
        and (count := len(path.read_text(encoding="utf-8").splitlines())) > LIMIT
    }
    assert long == {}
