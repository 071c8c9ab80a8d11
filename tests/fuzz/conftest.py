"""The fuzz runs' shared pieces: seeds, the bound on each run, and the checks every answer
must pass (no 5xx, the Content-Length of the body sent, the RFC error shape on a 4xx).

Each fuzz test runs twice: once with ``FIXED_SEED`` (the same examples on every run, so CI is
reproducible) and once with a random seed, printed when it fails; rerun that run with
``KEYSTEAD_FUZZ_SEED=<seed>``. The number of examples is ``KEYSTEAD_FUZZ_EXAMPLES`` times each
test's own weight (default 1: the whole of tests/fuzz in about a minute on two cores).
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import seed as hypothesis_seed

FIXED_SEED = 20261204
RANDOM_SEED = int(os.environ.get("KEYSTEAD_FUZZ_SEED") or random.SystemRandom().randrange(2**32))
SCALE = float(os.environ.get("KEYSTEAD_FUZZ_EXAMPLES", "1"))

# The error codes an OAuth / OpenID Connect client may be answered with: RFC 6749 §4.1.2.1,
# §5.2; RFC 6750 §3.1; RFC 7009 §2.2.1; RFC 7591 §3.2.2; RFC 8707 §2; OIDC Core §3.1.2.6.
RFC_ERRORS = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "access_denied",
        "unsupported_response_type",
        "server_error",
        "temporarily_unavailable",
        "invalid_token",
        "insufficient_scope",
        "unsupported_token_type",
        "invalid_redirect_uri",
        "invalid_client_metadata",
        "invalid_software_statement",
        "unapproved_software_statement",
        "invalid_target",
        "interaction_required",
        "login_required",
        "account_selection_required",
        "consent_required",
        "invalid_request_uri",
        "invalid_request_object",
        "request_not_supported",
        "request_uri_not_supported",
        "registration_not_supported",
        # CIBA Core 1.0 §13 (/bc-authorize)
        "unknown_user_id",
        "expired_login_hint_token",
        "invalid_binding_message",
    }
)


def bounded(examples: int) -> settings:
    """Hypothesis settings for one fuzz run of ``examples`` examples: no deadline (a shared
    CI machine has slow moments), no example database (runs are reproduced by seed), no
    shrinking past a few seconds."""
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        deadline=None,
        database=None,
        derandomize=False,
        phases=(Phase.explicit, Phase.generate, Phase.target, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=True,
    )


@pytest.fixture(params=["fixed", "random"])
def fuzz_seed(request: pytest.FixtureRequest) -> int:
    return FIXED_SEED if request.param == "fixed" else RANDOM_SEED


def run_seeded(test: Callable[[], None], seed: int) -> None:
    """Run a @given test with ``seed``; on failure the seed is part of the report."""
    try:
        hypothesis_seed(seed)(test)()
    except BaseException as exc:
        exc.add_note(f"fuzz seed {seed}: rerun with KEYSTEAD_FUZZ_SEED={seed}")
        print(f"fuzz seed {seed}: rerun with KEYSTEAD_FUZZ_SEED={seed}")  # noqa: T201
        raise


def rss_bytes() -> int:
    """The process's resident set size now (not its peak)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def check_answer(status: int, headers: list[tuple[bytes, bytes]], body: bytes, what: str) -> None:
    """No 5xx; the Content-Length of the body sent; a 4xx JSON answer in the RFC shape."""
    assert status < 500, f"{what}: {status} {body[:300]!r}"
    length = header(headers, b"content-length")
    if length is not None:
        assert int(length) == len(body), f"{what}: Content-Length {length!r}, body {len(body)}"
    content_type = (header(headers, b"content-type") or b"").split(b";")[0].strip()
    if 400 <= status < 500 and content_type == b"application/json":
        answer: Any = json.loads(body)
        assert isinstance(answer, dict), f"{what}: {body[:300]!r}"
        assert answer.get("error") in RFC_ERRORS, f"{what}: {body[:300]!r}"
        assert isinstance(answer.get("error_description"), str), f"{what}: {body[:300]!r}"


@pytest.fixture
def no_traceback_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """After the test: no ``keystead*`` log record carries a traceback or is an ERROR."""
    caplog.set_level("INFO", logger="keystead")
    yield
    bad = [
        r
        for r in caplog.records
        if r.name.startswith("keystead") and (r.exc_info or r.levelname in ("ERROR", "CRITICAL"))
    ]
    assert not bad, "\n".join(f"{r.name}: {r.getMessage()}" for r in bad[:5])
