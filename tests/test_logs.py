"""The batching log handler: lines are written in batches, never lost, warnings at once."""

from __future__ import annotations

import io
import logging
import time

from keystead.logs import BatchingStreamHandler, log_config


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
