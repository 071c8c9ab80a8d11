"""Seed a keystead SQLite database with many stored grants, each with an access token.

    python -m bench.seed --data-dir DIR --client-id bench-client [--grants 1000000]

The schema must exist (``keystead init`` or any CLI command) and the client too (the grants
reference it). Rows look like those of real code-flow grants (openid + an API scope, one JWT
access token recorded by its jti hash) and none expires during a benchmark, so the purge on
start keeps them. A fast bulk load: SQLAlchemy Core executemany in batches, one transaction,
``synchronous=OFF`` for this connection only — about 15-40 s for 1,000,000 grants.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from pathlib import Path

from sqlalchemy import create_engine, event, func, insert, select

from keystead.store.sql.models import AccessTokenRow, ClientRow, GrantRow

BATCH = 50_000


def seed(
    db_path: Path, client_id: str, grants: int, *, resource: str = "https://api.example.com"
) -> float:
    """Insert ``grants`` grants and as many access tokens; return the seconds it took."""
    engine = create_engine(f"sqlite:///{db_path}")

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode = WAL")  # as keystead opens it
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.execute("PRAGMA cache_size = -262144")  # 256 MiB
        cursor.close()

    start = time.perf_counter()
    now = int(time.time())
    grants_table, tokens_table = GrantRow.__table__, AccessTokenRow.__table__
    with engine.begin() as db:
        if db.scalar(select(func.count()).where(ClientRow.client_id == client_id)) != 1:
            raise SystemExit(f"no client {client_id} in {db_path}: provision it first")
        counter = int.from_bytes(os.urandom(6))  # unique ids without a random call per row
        for offset in range(0, grants, BATCH):
            n = min(BATCH, grants - offset)
            grant_rows = []
            token_rows = []
            for i in range(n):
                seq = f"{counter + offset + i:016x}"
                grant_id = "seedgrant" + seq
                sub = "seeduser" + seq[-6:]
                grant_rows.append(
                    {
                        "grant_id": grant_id,
                        "client_id": client_id,
                        "sub": sub,
                        "scope": "openid api:read",
                        "created_at": now,
                        "auth_time": now,
                        "sid": "seedsid" + seq,
                        "expires_at": now + 30 * 86400,
                    }
                )
                jti = "seedjti" + seq
                token_rows.append(
                    {
                        "token_hash": hashlib.sha256(jti.encode()).hexdigest(),
                        "grant_id": grant_id,
                        "client_id": client_id,
                        "sub": sub,
                        "scope": "openid api:read",
                        "expires_at": now + 86400,
                        "created_at": now,
                        "aud": [resource],
                        "jti": jti,
                    }
                )
            db.execute(insert(grants_table), grant_rows)
            db.execute(insert(tokens_table), token_rows)
    engine.dispose()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--client-id", default="bench-client")
    parser.add_argument("--grants", type=int, default=1_000_000)
    args = parser.parse_args()
    seconds = seed(args.data_dir / "keystead.db", args.client_id, args.grants)
    print(f"seeded {args.grants} grants and access tokens in {seconds:.1f} s")


if __name__ == "__main__":
    main()
