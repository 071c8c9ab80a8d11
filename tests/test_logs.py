"""The batching log handler: lines are written in batches, never lost, warnings at once."""

from __future__ import annotations

import io
import json
import logging
import os
import time
from pathlib import Path

from keystead.logs import (
    TEXT_FORMAT,
    BatchingStreamHandler,
    JsonFormatter,
    TextFormatter,
    lean_records,
    log_config,
    quick_text_sink,
)
from keystead.web import observe


def _logger(handler: logging.Handler, name: str) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.handlers = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def test_info_lines_wait_for_a_batch_and_warnings_go_out_at_once() -> None:
    out = io.StringIO()
    handler = BatchingStreamHandler(out)
    handler.FLUSH_INTERVAL = 60  # the timer must not write during this test
    log = _logger(handler, "keystead.test.batch")
    log.info("first")
    log.info("second")
    assert out.getvalue() == ""  # buffered: no write per line
    log.warning("third")  # a warning writes everything waiting, in order
    assert out.getvalue() == "first\nsecond\nthird\n"


def test_a_full_batch_is_written() -> None:
    out = io.StringIO()
    handler = BatchingStreamHandler(out)
    handler.FLUSH_INTERVAL = 60
    log = _logger(handler, "keystead.test.full")
    for i in range(handler.BATCH_LINES):
        log.info("line %d", i)
    assert out.getvalue().count("\n") == handler.BATCH_LINES


def test_the_timer_writes_waiting_lines() -> None:
    out = io.StringIO()
    handler = BatchingStreamHandler(out)
    handler.FLUSH_INTERVAL = 0.05
    log = _logger(handler, "keystead.test.timer")
    log.info("soon")
    deadline = time.monotonic() + 5
    while out.getvalue() == "" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert out.getvalue() == "soon\n"


def test_a_forked_child_flushes_its_lines_on_its_own_timer(tmp_path: Path) -> None:
    # The parent's flushing thread does not exist in a child: the child starts its own.
    path = tmp_path / "child.log"
    with path.open("w") as stream:
        handler = BatchingStreamHandler(stream)
        handler.FLUSH_INTERVAL = 0.05
        log = _logger(handler, "keystead.test.fork")
        log.info("parent")
        handler.flush()
        pid = os.fork()
        if pid == 0:  # the child: one line, then wait for the timer (no flush, no exit hook)
            try:
                log.info("child")
                deadline = time.monotonic() + 5
                while "child" not in path.read_text() and time.monotonic() < deadline:
                    time.sleep(0.01)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
    assert path.read_text() == "parent\nchild\n"


def test_a_flusher_that_stopped_is_started_again() -> None:
    out = io.StringIO()
    handler = BatchingStreamHandler(out)
    handler.FLUSH_INTERVAL = 0.01
    log = _logger(handler, "keystead.test.restart")
    log.info("one")
    first = handler._flusher
    assert first is not None
    out.close()  # the timer's next flush fails: that thread ends
    first.join(timeout=5)
    assert handler._flusher is None
    handler.stream = io.StringIO()
    log.info("two")
    assert handler._flusher is not None and handler._flusher is not first


def test_flush_at_shutdown_writes_the_rest() -> None:
    out = io.StringIO()
    handler = BatchingStreamHandler(out)
    handler.FLUSH_INTERVAL = 60
    log = _logger(handler, "keystead.test.shutdown")
    log.info("last words")
    logging.shutdown([lambda: handler])  # what the interpreter does at exit
    assert out.getvalue() == "last words\n"


def test_the_server_configuration_uses_it() -> None:
    config = log_config("json", "info")
    assert config["handlers"]["default"]["class"] == "keystead.logs.BatchingStreamHandler"


def test_the_text_formatter_writes_what_the_standard_one_writes() -> None:
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    ours, standard = TextFormatter(fmt), logging.Formatter(fmt)
    for created in (1_764_000_000.123, 1_764_000_000.999, 1_764_000_001.0, 1_764_000_001.5):
        record = logging.LogRecord("keystead.access", logging.INFO, __file__, 1, "m %d", (1,), None)
        record.created, record.msecs = created, (created - int(created)) * 1000
        assert ours.format(record) == standard.format(record)


def test_lean_records_keep_the_process_id_for_the_json_format() -> None:
    saved = (logging._srcfile, logging.logThreads, logging.logMultiprocessing)  # type: ignore[attr-defined]
    try:
        lean_records()
        record = logging.getLogger("keystead.test.lean").makeRecord(
            "keystead.test.lean", logging.INFO, "f", 1, "msg", (), None
        )
        line = json.loads(JsonFormatter().format(record))
        assert line["pid"] == os.getpid() and line["msg"] == "msg"
    finally:
        logging._srcfile, logging.logThreads, logging.logMultiprocessing = saved  # type: ignore[attr-defined]


def test_a_quick_line_is_the_line_a_record_would_give() -> None:
    ours, standard = TextFormatter(TEXT_FORMAT), logging.Formatter(TEXT_FORMAT)
    for created in (1_764_000_000.123, 1_764_000_000.999, 1_764_000_001.0, 1_764_000_001.5):
        record = logging.LogRecord("keystead.access", logging.INFO, __file__, 1, "m %d", (1,), None)
        record.created = created
        record.msecs = int((created - int(created)) * 1000)  # LogRecord's own rounding
        quick = ours.line(created, "INFO", "keystead.access", "m 1")
        assert quick == standard.format(record)


def test_access_lines_take_the_quick_path_only_in_the_default_text_configuration() -> None:
    import logging.config

    access = logging.getLogger("keystead.access")
    names = ("keystead", "keystead.access", *log_config("text", "info")["loggers"])
    saved = {name: logging.getLogger(name) for name in names}
    state = {
        name: (lg.handlers[:], lg.filters[:], lg.level, lg.propagate) for name, lg in saved.items()
    }
    try:
        logging.config.dictConfig(log_config("text", "info"))
        sink = quick_text_sink(access)
        assert sink is not None
        handler, _ = sink
        out = io.StringIO()
        handler.setStream(out)
        observe._log({"method": "POST", "client": None}, "/token", "/token", 200, 0.0012)
        handler.flush()
        assert " INFO keystead.access: POST /token 200 1.20ms cid=" in out.getvalue()
        access.addFilter(lambda record: True)  # a filter must see every record
        assert quick_text_sink(access) is None
        access.filters.clear()
        logging.config.dictConfig(log_config("json", "info"))
        assert quick_text_sink(access) is None  # the JSON format needs the record's fields
    finally:
        for name, lg in saved.items():
            handlers, filters, level, propagate = state[name]
            lg.handlers, lg.filters, lg.propagate = handlers, filters, propagate
            lg.setLevel(level)
