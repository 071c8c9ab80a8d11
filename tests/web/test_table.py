"""The endpoint table (web/table.py) is the one declaration of what keystead serves: routes
and lanes are both built from it, and nothing can be added that the lanes would skip."""

from __future__ import annotations

import pytest
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Mount, Route

from keystead.errors import OAuthError
from keystead.web.fastlane import Keystead, Row
from keystead.web.observe import ObserveRequests
from keystead.web.parse import MAX_BODY, read_body
from keystead.web.table import ENDPOINTS, OIDC_CONFIG


def _routes(app: Keystead) -> dict[str, Route]:
    """Full path -> every route the router knows."""
    found: dict[str, Route] = {}
    for route in app.routes:
        if isinstance(route, Mount):
            for inner in route.routes:
                assert isinstance(inner, Route)
                found[route.path + inner.path] = inner
        elif isinstance(route, Route):
            found[route.path] = route
    return found


def test_each_path_and_method_is_declared_once() -> None:
    seen = [(row.path, method) for row in ENDPOINTS for method in row.methods]
    assert len(seen) == len(set(seen))


def test_the_table_declares_only_what_a_lane_can_serve() -> None:
    for row in ENDPOINTS:
        assert row.errors in ("json", "page") and row.cors in ("none", "public", "client")
        assert row.place in ("issuer", "root", "well-known")
        if row.direct is not None:  # answers server-to-server POSTs without Request objects
            assert "POST" in row.methods and row.errors == "json"
        if row.document is not None:  # a public document: any origin may read it
            assert row.methods == ("GET",) and row.cors == "public"


@pytest.mark.parametrize("issuer_path", ["", "/tenant"])
def test_routes_and_lanes_are_built_from_the_same_rows(issuer_path: str) -> None:
    app = Keystead(ENDPOINTS, issuer_path=issuer_path)
    routes = _routes(app)
    for row in ENDPOINTS:
        path = row.path if row.place == "root" else issuer_path + row.path
        methods = routes[path].methods or set()
        assert set(row.methods) <= methods, path
        if row.cors != "none":  # preflights are the router's
            assert "OPTIONS" in methods
        for method in row.methods:
            lane = app.lanes.get((method, path))
            if "{" in row.path:
                assert lane is None  # parameterised paths are routed
                continue
            assert lane is not None, (method, path)
            label, endpoint, kind = lane
            assert label == row.path and kind == row.errors
            assert endpoint is routes[path].endpoint  # the same function, CORS included
        assert (("POST", path) in app.direct) == (row.direct is not None)
        assert (("GET", path) in app.static) == (row.document is not None)
    if issuer_path:  # RFC 8414 §3.1: the issuer's path after the well-known segment
        assert ("GET", OIDC_CONFIG + issuer_path) in app.static
        assert ("GET", "/healthz") in app.lanes  # operations stay at the root


def test_middleware_the_lanes_would_skip_is_refused() -> None:
    with pytest.raises(TypeError, match="GZipMiddleware would not run"):
        Keystead(ENDPOINTS, middleware=[Middleware(GZipMiddleware)])
    app = Keystead(ENDPOINTS, middleware=[Middleware(ObserveRequests, metrics=None)])
    with pytest.raises(TypeError, match="would not run for the requests the lanes serve"):
        app.add_middleware(GZipMiddleware)


def test_a_row_is_one_line_of_data() -> None:
    async def endpoint(request: object) -> None: ...

    row = Row("/example", ("GET",), endpoint)  # type: ignore[arg-type]
    app = Keystead([row])
    assert app.lanes[("GET", "/example")][1:] == (endpoint, "json")


@pytest.mark.anyio
async def test_the_body_reader_stops_at_the_limit_without_reading_on() -> None:
    chunk = b"a" * 16384
    sent = 0

    async def receive() -> dict[str, object]:
        nonlocal sent
        sent += 1
        return {"type": "http.request", "body": chunk, "more_body": True}  # endless

    with pytest.raises(OAuthError) as raised:
        await read_body(receive)
    assert "too large" in raised.value.description
    assert sent == MAX_BODY // len(chunk) + 1  # the chunk that passed the limit, no more
