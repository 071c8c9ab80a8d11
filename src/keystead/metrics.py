"""Prometheus metrics (prometheus-client).

- request count and latency per endpoint: a pure ASGI middleware (``web/observe.py``) calls
  ``observe_request`` once per request;
- tokens issued per grant type, login failures, errors per catalog id, every event by name:
  ``Metrics`` is an ``Events`` subscriber (nothing re-reads an HTTP response).

Several worker processes (``keystead serve --workers N``): with ``PROMETHEUS_MULTIPROC_DIR``
set before the workers start (``serve`` does it), each writes its samples to files there and
``/metrics`` in any worker aggregates all of them. That variable is read when prometheus-client
is imported, so it must be in the environment before the process starts.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from keystead.events import Event

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
UNMATCHED = "unmatched"  # requests no route answered (404s): one label, not one per path


class Metrics:
    """The metrics of one app. Single-process: a registry of its own (tests can build several
    apps). Multi-process: samples go to the shared directory; ``render`` aggregates them."""

    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        self.registry = CollectorRegistry(auto_describe=True)
        registry = None if self.multiprocess else self.registry
        self.requests = Counter(
            "keystead_http_requests",
            "HTTP requests by endpoint (route path), method and status",
            ["endpoint", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "keystead_http_request_duration_seconds",
            "HTTP request latency by endpoint (route path)",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.tokens = Counter(
            "keystead_tokens_issued",
            "Token responses by grant type (implicit: access tokens from /authorize)",
            ["grant_type"],
            registry=registry,
        )
        self.login_failures = Counter(
            "keystead_login_failures", "Failed password logins", registry=registry
        )
        self.login_throttled = Counter(
            "keystead_login_throttled", "Login attempts refused by throttling", registry=registry
        )
        self.errors = Counter(
            "keystead_errors",
            "Refused requests by error catalog id (server-error: unexpected failures)",
            ["catalog_id"],
            registry=registry,
        )
        self.events = Counter(
            "keystead_events", "Events emitted, by name", ["name"], registry=registry
        )

        # Labelled children by (metric, labels): ``labels()`` validates and locks on every
        # call; the label values are few (route paths, statuses, event names, catalog ids).
        self._children: dict[tuple[Any, ...], Any] = {}

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def observe_request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        self._child(self.requests, endpoint, method, str(status)).inc()
        self._child(self.latency, endpoint).observe(seconds)

    def __call__(self, event: Event) -> None:
        """The ``Events`` subscriber."""
        name, data = event.name, event.data
        self._child(self.events, name).inc()
        if name == "token.granted":
            self._child(self.tokens, str(data.get("grant_type"))).inc()
        elif name == "authorization.issued":
            if "token" in str(data.get("response_type", "")).split():
                self._child(self.tokens, "implicit").inc()
        elif name == "login.failed":
            self.login_failures.inc()
        elif name == "login.throttled":
            self.login_throttled.inc()
        elif name == "request.refused":
            self.errors.labels(str(data.get("catalog_id"))).inc()
        elif name == "request.failed":
            self.errors.labels("server-error").inc()

    def render(self) -> tuple[bytes, str]:
        """The text exposition format (blocking file reads in multi-process mode)."""
        registry = self.registry
        if self.multiprocess:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST


def prepare_multiprocess_dir(path: str) -> None:
    """Empty the directory before workers start (stale files of a previous run would count)."""
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))
