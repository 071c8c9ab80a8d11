"""metrics.py: one process counts in plain dicts and builds the families at scrape time; what
it shows must be what prometheus-client's own Counter and Histogram show for the same
samples (the multi-process path uses those; tests/e2e/test_scale_out.py covers it)."""

from __future__ import annotations

import random

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from keystead.events import Event
from keystead.metrics import COUNTERS, LATENCY, LATENCY_BUCKETS, Metrics


def samples(text: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text.decode())
        for s in family.samples
        if not s.name.endswith("_created")  # creation times differ by construction
    }


def reference() -> tuple[CollectorRegistry, dict[str, Counter], Histogram]:
    registry = CollectorRegistry()
    counters = {
        key: Counter(name, doc, list(labels), registry=registry)
        for key, (name, doc, labels) in COUNTERS.items()
    }
    latency = Histogram(*LATENCY, ["endpoint"], buckets=LATENCY_BUCKETS, registry=registry)
    return registry, counters, latency


def test_the_tally_shows_what_prometheus_client_would() -> None:
    rng = random.Random(7)
    metrics = Metrics()
    assert not metrics.multiprocess
    registry, counters, latency = reference()
    endpoints = ["/token", "/introspect", "/jwks", "unmatched"]
    # bucket bounds exactly, and values around them: le means "<="
    durations = [*LATENCY_BUCKETS, 0.0, 7.0, *(rng.uniform(0, 6) for _ in range(500))]
    for seconds in durations:
        endpoint = rng.choice(endpoints)
        status = rng.choice([200, 400, 401, 500])
        metrics.observe_request(endpoint, "POST", status, seconds)
        counters["requests"].labels(endpoint, "POST", str(status)).inc()
        latency.labels(endpoint).observe(seconds)
    events = [
        Event("token.granted", {"grant_type": "client_credentials"}),
        Event("token.granted", {"grant_type": "refresh_token"}),
        Event("authorization.issued", {"response_type": "code id_token token"}),
        Event("authorization.issued", {"response_type": "code"}),
        Event("login.failed"),
        Event("login.throttled"),
        Event("request.refused", {"catalog_id": "code-replayed"}),
        Event("request.failed"),
    ]
    for event in events:
        metrics(event)
        counters["events"].labels(event.name).inc()
    counters["tokens"].labels("client_credentials").inc()
    counters["tokens"].labels("refresh_token").inc()
    counters["tokens"].labels("implicit").inc()
    counters["login_failures"].inc()
    counters["login_throttled"].inc()
    counters["errors"].labels("code-replayed").inc()
    counters["errors"].labels("server-error").inc()

    ours, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    assert samples(ours) == samples(generate_latest(registry))
    assert b"keystead_http_requests_created{" in ours  # counters keep their _created


def test_a_fresh_app_shows_its_unlabelled_counters_at_zero() -> None:
    shown = samples(Metrics().render()[0])
    assert shown[("keystead_login_failures_total", ())] == 0.0
    assert not any(name.startswith("keystead_http_requests") for name, _ in shown)
