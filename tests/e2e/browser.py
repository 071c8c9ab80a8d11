"""Debian's Chromium for the real-browser tests (Playwright cannot download its own here)."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
# As root, without a sandbox; no background traffic into this machine's closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    """The browser, or a loud failure (never a skip): `apt-get install chromium`."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is required for the browser tests (apt-get install chromium)")
    return CHROMIUM
