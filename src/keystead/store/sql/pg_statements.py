"""PostgreSQL: a hot operation that writes several rows as ONE statement (data-modifying
CTEs), so that it is one round trip in autocommit instead of BEGIN, its statements and
COMMIT (docs/performance.md, "Round trips").

A statement is atomic on its own: every row or none (a failed INSERT rolls back the guard's
UPDATE too). The single-use guard keeps its meaning (RFC 6749 §4.1.2 for codes, RFC 9700
§4.14.2 for refresh tokens): the rows issued are inserted only ``WHERE EXISTS`` a row the
guard's conditional UPDATE touched, and of concurrent callers exactly one sees it touch one.
Foreign keys are checked at the end of the statement, so a code may reference the grant
inserted beside it.

The statements are built per shape (how many access and refresh tokens a response issues)
and cached; parameters are named ``<prefix><column>`` (``a0_token_hash``, ``r0_scope`` ...).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, exists, insert, literal_column, select, update
from sqlalchemy.sql.expression import CTE

from keystead.store.sql.prepared import Prepared
from keystead.store.sql.tables import ACCESS_TOKENS, CODES, GRANTS, REFRESH_TOKENS


def params(
    rows: Sequence[tuple[str, Mapping[str, Any]]], extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The parameters of a statement from its rows' ``(prefix, values)``."""
    out = dict(extra or {})
    for prefix, values in rows:
        for name, value in values.items():
            out[prefix + name] = value
    return out


def _insert(table: Table, prefix: str, names: tuple[str, ...], guard: CTE | None) -> CTE:
    """``INSERT INTO table (names) SELECT :prefix<name>... [WHERE EXISTS (guard)]``."""
    values = select(*(bindparam(prefix + n, type_=table.c[n].type) for n in names))
    if guard is not None:
        values = values.where(exists(select(guard.c[0])))
    return insert(table).from_select(list(names), values).cte(prefix.rstrip("_"))


@functools.cache
def grant_and_code(grant_names: tuple[str, ...], code_names: tuple[str, ...]) -> Prepared:
    """A grant and its first code (``g_``, ``c_``)."""
    grant = _insert(GRANTS, "g_", grant_names, None)
    code = _insert(CODES, "c_", code_names, None)
    return Prepared(select(literal_column("1")).add_cte(grant, code))


@functools.cache
def consume_code(
    access_names: tuple[tuple[str, ...], ...], refresh_names: tuple[tuple[str, ...], ...]
) -> Prepared:
    """The code's row if this call consumed it (``:key``, ``:now``), with the tokens issued
    for it (``a0_`` ..., ``r0_`` ...) inserted in the same statement; no row otherwise."""
    guard = (
        update(CODES)
        .where(CODES.c.code_hash == bindparam("key"), CODES.c.consumed_at.is_(None))
        .values(consumed_at=bindparam("now"))
        .returning(*CODES.columns)
        .cte("guard")
    )
    inserts = [_insert(ACCESS_TOKENS, f"a{i}_", n, guard) for i, n in enumerate(access_names)]
    inserts += [_insert(REFRESH_TOKENS, f"r{i}_", n, guard) for i, n in enumerate(refresh_names)]
    return Prepared(select(*guard.c).add_cte(*inserts))


@functools.cache
def rotate(access_names: tuple[tuple[str, ...], ...], successor: tuple[str, ...]) -> Prepared:
    """A row if this call rotated the refresh token (``:key``, ``:now``, ``:hash``,
    ``:enc``); its successor (``r0_``) and access tokens (``a0_`` ...) inserted with it."""
    guard = (
        update(REFRESH_TOKENS)
        .where(
            REFRESH_TOKENS.c.token_hash == bindparam("key"),
            REFRESH_TOKENS.c.rotated_at.is_(None),
        )
        .values(
            rotated_at=bindparam("now"),
            successor_hash=bindparam("hash"),
            successor_enc=bindparam("enc"),
        )
        .returning(REFRESH_TOKENS.c.token_hash)
        .cte("guard")
    )
    inserts = [_insert(ACCESS_TOKENS, f"a{i}_", n, guard) for i, n in enumerate(access_names)]
    inserts.append(_insert(REFRESH_TOKENS, "r0_", successor, guard))
    return Prepared(select(guard.c.token_hash).add_cte(*inserts))
