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

import bisect
import itertools
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from keystead.events import Event

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
UNMATCHED = "unmatched"  # requests no route answered (404s): one label, not one per path


# name, help, label names of each counter (exposed as <name>_total, and <name>_created)
COUNTERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "requests": (
        "keystead_http_requests",
        "HTTP requests by endpoint (route path), method and status",
        ("endpoint", "method", "status"),
    ),
    "tokens": (
        "keystead_tokens_issued",
        "Token responses by grant type (implicit: access tokens from /authorize)",
        ("grant_type",),
    ),
    "login_failures": ("keystead_login_failures", "Failed password logins", ()),
    "login_throttled": ("keystead_login_throttled", "Login attempts refused by throttling", ()),
    "errors": (
        "keystead_errors",
        "Refused requests by error catalog id (server-error: unexpected failures)",
        ("catalog_id",),
    ),
    "events": ("keystead_events", "Events emitted, by name", ("name",)),
}
LATENCY = (
    "keystead_http_request_duration_seconds",
    "HTTP request latency by endpoint (route path)",
)


class Metrics:
    """The metrics of one app, counted by ``observe_request`` (each request) and as an
    ``Events`` subscriber (tokens, logins, errors, every event by name).

    One process: plain dicts a :class:`_Tally` turns into metric families when ``/metrics``
    is scraped — a request costs a few dict updates instead of prometheus-client's locked
    ``inc``/``observe`` calls (~10 µs of a token request here; docs/performance.md). Several
    workers: prometheus-client's own metrics, whose samples go to the shared directory that
    ``render`` aggregates."""

    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        self.registry = CollectorRegistry(auto_describe=True)
        self._count: Callable[..., None]
        self._observe: Callable[[str, float], None]
        if self.multiprocess:
            shared = _Shared()
            self._count, self._observe = shared.count, shared.observe
        else:
            tally = _Tally()
            self.registry.register(tally)
            self._count, self._observe = tally.count, tally.observe

    def observe_request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        self._count("requests", endpoint, method, str(status))
        self._observe(endpoint, seconds)

    def __call__(self, event: Event) -> None:
        """The ``Events`` subscriber."""
        name, data = event.name, event.data
        count = self._count
        count("events", name)
        if name == "token.granted":
            count("tokens", str(data.get("grant_type")))
        elif name == "authorization.issued":
            if "token" in str(data.get("response_type", "")).split():
                count("tokens", "implicit")
        elif name == "login.failed":
            count("login_failures")
        elif name == "login.throttled":
            count("login_throttled")
        elif name == "request.refused":
            count("errors", str(data.get("catalog_id")))
        elif name == "request.failed":
            count("errors", "server-error")

    def render(self) -> tuple[bytes, str]:
        """The text exposition format (blocking file reads in multi-process mode)."""
        registry = self.registry
        if self.multiprocess:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST


class _Tally(Collector):
    """Counts and latency buckets in dicts; the families are built at scrape time, as
    prometheus-client's own metrics would show them (``_total``, ``_created``, buckets; a
    histogram family has no ``_created`` here)."""

    def __init__(self) -> None:
        # counter -> label values -> [value, created]; unlabelled counters exist from the start
        now = time.time()
        self.counters: dict[str, dict[tuple[str, ...], list[float]]] = {
            name: ({(): [0.0, now]} if not labels else {})
            for name, (_, _, labels) in COUNTERS.items()
        }
        # endpoint -> [count per bucket (the last one +Inf), sum]
        self.latency: dict[str, list[Any]] = {}

    def count(self, counter: str, *labels: str) -> None:
        samples = self.counters[counter]
        sample = samples.get(labels)
        if sample is None:
            samples[labels] = [1.0, time.time()]
        else:
            sample[0] += 1

    def observe(self, endpoint: str, seconds: float) -> None:
        state = self.latency.get(endpoint)
        if state is None:
            state = self.latency[endpoint] = [[0] * (len(LATENCY_BUCKETS) + 1), 0.0]
        state[0][bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1  # le: value <= bound
        state[1] += seconds

    def collect(self) -> Iterator[Metric]:
        for counter, (name, documentation, labels) in COUNTERS.items():
            family = CounterMetricFamily(name, documentation, labels=labels)
            for values, (value, created) in list(self.counters[counter].items()):
                family.add_metric(values, value, created=created)
            yield family
        family_ = HistogramMetricFamily(*LATENCY, labels=("endpoint",))
        bounds = [*(floatToGoString(b) for b in LATENCY_BUCKETS), "+Inf"]  # type: ignore[no-untyped-call]
        for endpoint, (counts, total) in list(self.latency.items()):
            cumulative = itertools.accumulate(counts)  # a histogram's buckets count all below
            family_.add_metric((endpoint,), list(zip(bounds, cumulative, strict=True)), total)
        yield family_


class _Shared:
    """prometheus-client's metrics, in multi-process mode (samples in the shared directory)."""

    def __init__(self) -> None:
        self.counters = {
            counter: Counter(name, documentation, list(labels), registry=None)
            for counter, (name, documentation, labels) in COUNTERS.items()
        }
        self.latency = Histogram(*LATENCY, ["endpoint"], buckets=LATENCY_BUCKETS, registry=None)
        # Labelled children: ``labels()`` validates and locks on every call.
        self._children: dict[tuple[str, ...], Any] = {}  # (counter, *label values)
        self._latency_children: dict[str, Any] = {}  # endpoint

    def count(self, counter: str, *labels: str) -> None:
        key = (counter, *labels)
        child = self._children.get(key)
        if child is None:
            metric = self.counters[counter]
            child = self._children[key] = metric.labels(*labels) if labels else metric
        child.inc()

    def observe(self, endpoint: str, seconds: float) -> None:
        child = self._latency_children.get(endpoint)
        if child is None:
            child = self._latency_children[endpoint] = self.latency.labels(endpoint)
        child.observe(seconds)


def prepare_multiprocess_dir(path: str) -> None:
    """Empty the directory before workers start (stale files of a previous run would count)."""
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))
