"""The tables as SQLAlchemy Core ``Table`` objects, and the statements every concern shares.

The store reads and writes through Core, without the ORM's unit of work.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, bindparam, insert, select

from keystead.store.sql.models import (
    AccessTokenRow,
    ActionTokenRow,
    ApiRow,
    AuthorizationCodeRow,
    Base,
    ClientRow,
    ConsentRow,
    EventRow,
    FactorRow,
    GrantRow,
    JobRow,
    KeyRow,
    MarkerRow,
    RefreshTokenRow,
    SessionRow,
    ThrottleRow,
    UserRow,
)
from keystead.store.sql.prepared import Prepared

CLIENTS = cast(Table, ClientRow.__table__)
USERS = cast(Table, UserRow.__table__)
GRANTS = cast(Table, GrantRow.__table__)
CODES = cast(Table, AuthorizationCodeRow.__table__)
ACCESS_TOKENS = cast(Table, AccessTokenRow.__table__)
REFRESH_TOKENS = cast(Table, RefreshTokenRow.__table__)
SESSIONS = cast(Table, SessionRow.__table__)
CONSENTS = cast(Table, ConsentRow.__table__)
KEYS = cast(Table, KeyRow.__table__)
THROTTLE = cast(Table, ThrottleRow.__table__)
APIS = cast(Table, ApiRow.__table__)
MARKERS = cast(Table, MarkerRow.__table__)
EVENTS = cast(Table, EventRow.__table__)
FACTORS = cast(Table, FactorRow.__table__)
JOBS = cast(Table, JobRow.__table__)
ACTION_TOKENS = cast(Table, ActionTokenRow.__table__)

# Statements built once (a statement built per call cost more than running it): inserts of
# whole rows and reads by primary key (``:key``); a concern's own are in its module.
# ``Prepared``: on SQLite they run on the sqlite3 connection itself (prepared.py says why).
COLUMNS = {table: tuple(table.columns.keys()) for table in Base.metadata.tables.values()}
INSERT = {table: Prepared(insert(table)) for table in Base.metadata.tables.values()}
BY_KEY = {
    table: Prepared(select(table).where(table.primary_key.columns[0] == bindparam("key")))
    for table in (CLIENTS, USERS, CODES, SESSIONS, THROTTLE, APIS)
}
