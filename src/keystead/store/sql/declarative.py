"""The declarative base and column types every table shares (models.py, models_more.py)."""

from __future__ import annotations

from sqlalchemy import MetaData, String, text
from sqlalchemy.orm import DeclarativeBase

# Deterministic constraint names, so later migrations can refer to them on every dialect.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

HASH = String(64)  # SHA-256 hex digest
ID = String()  # unbounded VARCHAR: the memory store has no length limits either
EMPTY_JSON_ARRAY = text("'[]'")  # server default of JSON array columns added by a migration
EMPTY_JSON_OBJECT = text("'{}'")  # server default for JSON object columns


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
