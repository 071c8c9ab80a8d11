"""keystead user invite / delete / list (paged) / set-password through the real command line on
a temporary data dir: the invitation is one mail job in the durable outbox whose link is a
stored invite token; delete asks first and takes the user's factors along; list pages in the
database with an opaque cursor, with no duplicate and no gap; refusals name the flag and say
why."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import anyio
import pyotp
import pytest
from typer.testing import CliRunner, Result

from keystead.accounts.links import INVITE, token_hash
from keystead.bootstrap import open_provider
from keystead.cli import app
from keystead.config import Settings
from keystead.outbox import payload_of
from keystead.provider import Provider
from keystead.store.base import User
from keystead.store.outbox import MAIL

ISSUER = "http://127.0.0.1:8000"  # loopback http: development, so mail needs no SMTP server
T = TypeVar("T")


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    monkeypatch.setenv("KEYSTEAD_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KEYSTEAD_ISSUER", ISSUER)
    monkeypatch.delenv("KEYSTEAD_SMTP_URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None) -> Result:
        return runner.invoke(app, list(args), stdin)

    return invoke


def ok(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def refused(result: Result) -> str:
    assert result.exit_code == 1, result.output
    return result.stderr


def with_store(work: Callable[[Provider], Awaitable[T]]) -> T:
    async def run() -> T:
        provider = await open_provider(Settings())
        try:
            return await work(provider)
        finally:
            await provider.close()

    return anyio.run(run)


def mail_jobs() -> list[dict[str, Any]]:
    """Every mail job due now, decrypted (claimed for a minute: nothing else sends here)."""

    async def read(provider: Provider) -> list[dict[str, Any]]:
        jobs = await provider.store.jobs.claim("t", provider.now() + 5, 60, 10)
        assert all(job.kind == MAIL for job in jobs)
        return [payload_of(provider, job) for job in jobs]

    return with_store(read)


def test_invite_queues_one_mail_with_a_stored_invite_link(cli: Any) -> None:
    invited = ok(cli("user", "invite", "Bob@Example.com", "--name", "Bob B", "--json"))
    assert invited["email"] == "Bob@Example.com" and invited["username"] == "Bob@Example.com"
    assert invited["name"] == "Bob B" and invited["email_verified"] is False
    assert invited["invitation"] == "queued"

    (mail,) = mail_jobs()
    assert mail["to"] == "Bob@Example.com" and mail["template"] == "invitation"
    link = urlsplit(mail["context"]["link"])
    assert f"{link.scheme}://{link.netloc}{link.path}" == f"{ISSUER}/invitation"
    (token,) = parse_qs(link.query)["token"]

    async def stored(provider: Provider) -> tuple[Any, User | None]:
        record = await provider.store.action_tokens.get(token_hash(token))
        return record, await provider.store.users.get(invited["sub"])

    record, user = with_store(stored)
    assert record is not None and record.purpose == INVITE and record.sub == invited["sub"]
    assert record.used_at is None and record.expires_at > int(time.time()) + 6 * 86400
    assert user is not None and user.name == "Bob B"
    assert token not in json.dumps(invited)  # the link travels only in the mail

    # the same address again (any case): a conflict, and no second account or mail
    out = refused(cli("user", "invite", "bob@example.COM"))
    assert "EMAIL: An account with the address bob@example.COM exists already" in out
    assert [u["sub"] for u in ok(cli("user", "list", "--json"))["users"]] == [invited["sub"]]
    assert mail_jobs() == []

    plain = cli("user", "invite", "carol@example.com", "--username", "carol")
    assert plain.exit_code == 0, plain.output
    assert "invited carol@example.com: user carol (sub " in plain.stdout
    assert "queued" in plain.stdout


def test_invite_refusals_name_the_reason(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    out = refused(cli("user", "invite", "not an address"))
    assert "EMAIL: 'not an address' is not an email address" in out
    ok(cli("user", "create", "dave", "--password-stdin", "--json", stdin="long enough pw\n"))
    out = refused(cli("user", "invite", "x@example.com", "--username", "dave"))
    assert "--username: A user named dave already exists" in out
    out = refused(cli("user", "invite", "y@example.com", "--username", "has space"))
    assert "--username:" in out and "without spaces" in out
    # a production issuer and no KEYSTEAD_SMTP_URL: nothing to send it with
    monkeypatch.setenv("KEYSTEAD_ISSUER", "https://id.example.com")
    out = refused(cli("user", "invite", "z@example.com"))
    assert "KEYSTEAD_SMTP_URL" in out
    assert [u["username"] for u in ok(cli("user", "list", "--json"))["users"]] == ["dave"]


def test_delete_asks_first_and_takes_the_factors_along(cli: Any) -> None:
    alice = ok(
        cli("user", "create", "alice", "--password-stdin", "--json", stdin="long enough pw\n")
    )
    ok(cli("user", "create", "bob", "--password-stdin", "--json", stdin="long enough pw\n"))
    ok(cli("user", "totp", "set", "alice", "--secret-stdin", "--json",
           stdin=pyotp.random_base32() + "\n"))  # fmt: skip

    declined = cli("user", "delete", "alice", stdin="n\n")
    assert declined.exit_code == 1
    assert f"Delete alice (sub {alice['sub']})" in declined.stderr
    assert "sessions, consents, second factors" in declined.stderr and "grants" in declined.stderr
    assert refused(cli("user", "delete", "alice", "--json")) != ""  # no answer: no
    assert len(ok(cli("user", "list", "--json"))["users"]) == 2

    deleted = ok(cli("user", "delete", "alice", "--yes", "--json"))
    assert deleted["sub"] == alice["sub"] and deleted["deleted"] is True
    assert deleted["revoked"] == ["grants"] and "factors" in deleted["removed"]
    assert [u["username"] for u in ok(cli("user", "list", "--json"))["users"]] == ["bob"]

    async def left(provider: Provider) -> tuple[int, int]:
        factors = await provider.store.factors.list(alice["sub"])
        return len(factors), len(await provider.store.users.list())

    assert with_store(left) == (0, 1)
    assert "USERNAME: No user named alice" in refused(cli("user", "delete", "alice", "--yes"))

    confirmed = cli("user", "delete", "bob", stdin="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert "deleted bob (sub " in confirmed.stdout and "grants are revoked" in confirmed.stdout


def add_users(count: int) -> list[str]:
    """``count`` users straight into the store (no password hashing: fast), many created in
    the same second so the cursor must order by sub within a second."""

    async def add(provider: Provider) -> list[str]:
        subs = []
        for i in range(count):
            sub = f"sub-{(i * 7919) % count:04d}"  # creation order differs from sub order
            user = User(sub, f"user{i:03d}", "x", created_at=1_700_000_000 + i // 9)
            await provider.store.users.add(user)
            subs.append(sub)
        return subs

    return with_store(add)


def test_list_pages_in_the_database_without_duplicates_or_gaps(cli: Any) -> None:
    add_users(250)
    expected = with_store(lambda p: p.store.users.list())
    pages, cursor = [], None
    while True:
        args = ["user", "list", "--limit", "100", "--json"]
        page = ok(cli(*args, *(["--after", cursor] if cursor else [])))
        pages.append([u["sub"] for u in page["users"]])
        cursor = page["next"]
        if cursor is None:
            break
        assert len(pages) < 5
    assert [len(p) for p in pages] == [100, 100, 50]
    seen = [sub for page in pages for sub in page]
    assert seen == [u.sub for u in expected] and len(set(seen)) == 250
    # opaque, but base64url JSON of the last user's (created_at, sub)
    first = ok(cli("user", "list", "--limit", "100", "--json"))
    raw = base64.urlsafe_b64decode(first["next"] + "=" * (-len(first["next"]) % 4))
    assert json.loads(raw) == [expected[99].created_at, expected[99].sub]

    # exactly a page left: no next
    last = ok(cli("user", "list", "--limit", "50", "--after", first["next"], "--json"))
    assert len(last["users"]) == 50 and last["next"] is not None
    end = ok(cli("user", "list", "--limit", "100", "--after", last["next"], "--json"))
    assert len(end["users"]) == 100 and end["next"] is None

    # the plain listing as before: one "username  sub" line each, the first 100; the way
    # on goes to stderr
    plain = cli("user", "list")
    assert plain.exit_code == 0, plain.output
    lines = plain.stdout.splitlines()
    assert lines == [f"{u.username}  {u.sub}" for u in expected[:100]]
    assert f"keystead user list --after {first['next']}" in plain.stderr
    small = cli("user", "list", "--limit", "1000")
    assert len(small.stdout.splitlines()) == 250 and small.stderr == ""


def test_list_refuses_a_bad_limit_or_cursor(cli: Any) -> None:
    assert "--after: not a cursor" in refused(cli("user", "list", "--after", "garbage"))
    forged = base64.urlsafe_b64encode(b'["x", 1]').decode()
    assert "--after: not a cursor" in refused(cli("user", "list", "--after", forged))
    for bad in ("0", "1001"):
        result = cli("user", "list", "--limit", bad)
        assert result.exit_code == 2 and "--limit" in result.stderr


def test_set_password_applies_the_policy_and_names_the_reason(cli: Any) -> None:
    ok(cli("user", "create", "erin", "--email", "erin@example.com", "--password-stdin", "--json",
           stdin="long enough pw\n"))  # fmt: skip
    cases = [
        ("password1", "attackers try first"),
        ("short", "at least 8 characters"),
        ("erin@example.com", "email address"),
        ("ERIN", "at least 8"),
        ("erin walks far", None),  # fine: the username is only part of it
    ]
    for password, reason in cases:
        result = cli("user", "set-password", "erin", "--password-stdin", stdin=password + "\n")
        if reason is None:
            assert result.exit_code == 0, result.output
            continue
        out = refused(result)
        assert out.startswith("error: password: ") and reason in out, (password, out)
    assert "No user named nobody" in refused(
        cli("user", "set-password", "nobody", "--password-stdin", stdin="long enough pw\n")
    )
