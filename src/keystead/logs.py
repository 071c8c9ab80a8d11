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
import os
import threading
import time
import weakref
from typing import Any, TextIO

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


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_THREE_DIGITS = tuple(f"{n:03d}" for n in range(1000))  # milliseconds: "000" ... "999"


class TextFormatter(logging.Formatter):
    """The plain-text format, with the timestamp's seconds formatted once per second (the
    ``strftime`` was a fifth of an access line's cost)."""

    def __init__(self, fmt: str | None = None) -> None:
        super().__init__(fmt)
        self._second = -1
        self._stamp = ""
        # ``line`` builds the same text without a LogRecord, for this format only.
        self.plain = fmt == TEXT_FORMAT

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        return self._time(record.created, record.msecs)

    def _time(self, created: float, msecs: float) -> str:
        second = int(created)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S", self.converter(created))
        millis = int(msecs)
        # A table instead of "{:03d}": a format spec costs more than the rest of the line.
        return f"{self._stamp},{_THREE_DIGITS[millis] if 0 <= millis < 1000 else millis}"

    def line(self, created: float, level: str, name: str, message: str) -> str:
        """What ``format`` gives a record of ``TEXT_FORMAT`` without exception info (the
        msecs computed like ``LogRecord``'s; ``_time`` written out)."""
        second = int(created)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S", self.converter(created))
        millis = _THREE_DIGITS[int((created - second) * 1000)]
        return f"{self._stamp},{millis} {level} {name}: {message}"


def quick_text_sink(logger: logging.Logger) -> tuple[BatchingStreamHandler, TextFormatter] | None:
    """The handler and formatter that a plain-text INFO line of ``logger`` would reach, when
    that is all it would reach — the default configuration (``log_config``): no filters, one
    ``BatchingStreamHandler`` with ``TextFormatter(TEXT_FORMAT)`` on a parent, nothing else on
    the way. Then a caller may hand it the finished line (``write_line``) and skip the
    LogRecord; otherwise (JSON format, pytest's capture, any other set-up) None."""
    if logger.handlers or logger.filters or not logger.propagate:
        return None
    parent = logger.parent
    if parent is None or parent.filters or parent.propagate or len(parent.handlers) != 1:
        return None
    handler = parent.handlers[0]
    if type(handler) is not BatchingStreamHandler or handler.filters:
        return None
    formatter = handler.formatter
    if type(formatter) is not TextFormatter or not formatter.plain:
        return None
    if handler.level > logging.INFO:
        return None
    return handler, formatter


def lean_records() -> None:
    """Skip what keystead's log lines never show (logging HOWTO, "Optimization"): the caller's
    frame (a stack walk per line), the thread and the multiprocessing names. The process id
    stays: the JSON format carries it."""
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logMultiprocessing = False


class BatchingStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes lines in batches instead of one system call per line.

    Lines are written when ``BATCH_LINES`` are waiting, at once for WARNING and above, and at
    least every ``FLUSH_INTERVAL`` seconds by a daemon thread; ``logging.shutdown`` (at exit)
    flushes the rest. One access line per request made the write the largest single cost of a
    token request; batched, a request line costs its formatting only. A hard crash can lose
    the last ``FLUSH_INTERVAL`` seconds of lines.
    """

    BATCH_LINES = 256
    FLUSH_INTERVAL = 0.5

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        # The flushing thread, None until the first line (and in a forked child, which has
        # no thread of its parent's): checked per line, so a plain attribute, not is_alive().
        self._flusher: threading.Thread | None = None
        ref = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _forget_flusher(ref))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # noqa: BLE001 - logging must not raise
            self.handleError(record)
            return
        self._queue(line, urgent=record.levelno >= logging.WARNING)

    def write_line(self, line: str) -> None:
        """A finished INFO line (``quick_text_sink``), batched like ``emit``'s (``_queue``
        written out: one access line per request)."""
        with self.lock:  # type: ignore[union-attr]
            pending = self._pending
            pending.append(line + self.terminator)
            full = len(pending) >= self.BATCH_LINES
        if full:
            self.flush()
        elif self._flusher is None:
            self._start_flusher()

    def _queue(self, line: str, *, urgent: bool) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._pending.append(line + self.terminator)
            urgent = urgent or len(self._pending) >= self.BATCH_LINES
        if urgent:
            self.flush()
        elif self._flusher is None:
            self._start_flusher()

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            lines, self._pending = self._pending, []
            if lines:
                self.stream.write("".join(lines))
            if hasattr(self.stream, "flush"):
                self.stream.flush()

    def _start_flusher(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            if self._flusher is not None:
                return
            self._flusher = threading.Thread(
                target=self._flush_forever, name="keystead-log-flush", daemon=True
            )
            self._flusher.start()

    def _flush_forever(self) -> None:
        event = threading.Event()
        while not event.wait(self.FLUSH_INTERVAL):
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - a closed stream at exit
                self._flusher = None  # the next line starts another
                return


def _forget_flusher(ref: weakref.ReferenceType[BatchingStreamHandler]) -> None:
    handler = ref()
    if handler is not None:
        handler._flusher = None  # noqa: SLF001 - the child's own, started on its next line


def log_config(log_format: str = "text", level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dict, also given to uvicorn (each worker applies it)."""
    formatter: dict[str, Any]
    if log_format == "json":
        formatter = {"()": "keystead.logs.JsonFormatter"}
    else:
        formatter = {
            "()": "keystead.logs.TextFormatter",
            "fmt": TEXT_FORMAT,
        }
    level = level.upper()
    handler = {
        "class": "keystead.logs.BatchingStreamHandler",
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
