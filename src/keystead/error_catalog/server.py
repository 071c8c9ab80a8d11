"""Error catalog rows: the catch-all for unexpected failures."""

from __future__ import annotations

from keystead.error_catalog import Row

ROWS: tuple[Row, ...] = (
    # --- anything else ---
    (
        "server-error",
        "server_error",
        500,
        "Internal error",
        ("A bug or an outage; details are in the server log under the correlation id.",),
        ("Retry later; operators: look up the correlation id in the logs.",),
        ("Something went wrong on our side.", "Please try again in a moment."),
    ),
)
