"""Logging configuration: plain text (default) or one JSON object per line
(``KEYSTEAD_LOG_FORMAT=json``), for keystead's loggers and uvicorn's.

Every request is logged once by ``web/observe.py`` (logger ``keystead.access``) with its
correlation id, method, path — never the query string — status and duration. Nothing logged
carries a token, code, secret or password: event data never does (events.py), request lines
have no query string or body, and SQL errors hide their parameters (store/sql/engine.py).
"""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any

# Attributes callers attach with ``extra=`` that the JSON format emits as fields.
FIELDS = (
    "correlation_id",
    "method",
    "path",
    "endpoint",
    "status",
    "duration_ms",
    "client_ip",
    "event",
    "data",
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        created = datetime.datetime.fromtimestamp(record.created, datetime.UTC)
        out: dict[str, Any] = {
            "ts": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,  # which worker, with serve --workers N
            "msg": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, separators=(",", ":"))


def log_config(log_format: str = "text", level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dict, also given to uvicorn (each worker applies it)."""
    formatter: dict[str, Any]
    if log_format == "json":
        formatter = {"()": "keystead.logs.JsonFormatter"}
    else:
        formatter = {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    level = level.upper()
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "default",
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {"default": handler},
        "loggers": {
            "keystead": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            # Request lines come from keystead.access (no query strings); uvicorn's are off.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
