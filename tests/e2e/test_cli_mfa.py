"""keystead user totp set / user mfa list / user mfa reset and client --require-mfa through
the real command line on a temporary data dir: the imported secret is stored sealed and the
codes an app computes from it (pyotp) verify against it; refusals name the flag."""

from __future__ import annotations

import json
import time
from typing import Any

import anyio
import pyotp

from keystead.accounts import totp
from keystead.bootstrap import open_provider
from keystead.config import Settings
from keystead.store.factors import Factor


def stored_factors(sub: str) -> list[Factor]:
    async def read() -> list[Factor]:
        provider = await open_provider(Settings())
        try:
            return await provider.store.factors.list(sub)
        finally:
            await provider.close()

    return anyio.run(read)


def secret_of(factor: Factor) -> str:
    async def unseal() -> str:
        provider = await open_provider(Settings())
        try:
            assert factor.secret_enc is not None
            return totp.unseal(provider.kek, factor.sub, factor.secret_enc)
        finally:
            await provider.close()

    return anyio.run(unseal)


def test_totp_import_list_reset(run: Any) -> None:
    user = run("user", "create", "alice", "--password-stdin", stdin="long enough pw\n")
    secret = pyotp.random_base32()
    shown = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)).lower()
    imported = run("user", "totp", "set", "alice", "--secret-stdin", "--name", "Phone",
                   stdin=shown + "\n")  # fmt: skip
    assert imported["sub"] == user["sub"] and imported["kind"] == "totp"
    assert imported["name"] == "Phone" and secret not in json.dumps(imported)

    (factor,) = stored_factors(user["sub"])
    assert factor.factor_id == imported["factor_id"] and factor.last_step == 0
    assert factor.secret_enc and secret not in factor.secret_enc  # sealed at rest
    stored = secret_of(factor)
    now = int(time.time())
    app_code = pyotp.TOTP(secret).now()  # what the user's phone shows
    assert totp.matching_step(stored, app_code, now) is not None
    assert pyotp.TOTP(stored).verify(totp.code_at(stored, totp.step_of(now)), for_time=now)

    listed = run("user", "mfa", "list", "alice")
    assert [f["factor_id"] for f in listed["factors"]] == [factor.factor_id]
    assert listed["recovery_codes"] == {"left": 0, "generated_at": None, "last_used_at": None}
    human = run("user", "mfa", "list", "alice", as_json=False)
    assert "Phone" in human and "recovery codes left: 0" in human

    out = run("user", "totp", "set", "alice", "--secret-stdin", ok=False,
              stdin=pyotp.random_base32() + "\n")  # fmt: skip
    assert "error: USERNAME: User alice already has an authenticator app" in out
    assert len(stored_factors(user["sub"])) == 1

    reset = run("user", "mfa", "reset", "alice")
    assert reset["removed"] == {"factors": 1, "recovery_codes": 0}
    assert stored_factors(user["sub"]) == []
    assert "has no second factor" in run("user", "mfa", "list", "alice", as_json=False)
    # after a reset a new app may be imported
    run("user", "totp", "set", "alice", "--secret-stdin", stdin=secret + "\n")
    human = run("user", "mfa", "reset", "alice", as_json=False)
    assert "removed 1 factor(s) and 0 unused recovery code(s) of alice" in human


def test_refusals(run: Any) -> None:
    run("user", "create", "bob", "--password-stdin", stdin="long enough pw\n")
    out = run("user", "totp", "set", "bob", "--secret-stdin", stdin="not-base32!\n", ok=False)
    assert "error: --secret-stdin: Not a TOTP secret: the secret is not base32" in out
    out = run("user", "totp", "set", "bob", "--secret-stdin", stdin="JBSWY3DP\n", ok=False)
    assert "shorter than 80 bits" in out
    out = run("user", "totp", "set", "bob", "--secret-stdin", stdin="\n", ok=False)
    assert "nothing was read from standard input" in out
    out = run("user", "totp", "set", "bob", stdin="JBSWY3DPEHPK3PXP\n", ok=False)
    assert "--secret-stdin" in out  # never a secret as an argument
    secret = pyotp.random_base32()
    out = run("user", "totp", "set", "nobody", "--secret-stdin", stdin=secret + "\n", ok=False)
    assert "error: USERNAME: No user named nobody." in out
    assert "No user named nobody" in run("user", "mfa", "list", "nobody", ok=False)
    assert "No user named nobody" in run("user", "mfa", "reset", "nobody", ok=False)
    assert run("user", "mfa", "list", "bob")["factors"] == []


def test_client_require_mfa_round_trip(run: Any) -> None:
    base = ("client", "create", "--name", "App", "--redirect-uri", "https://app.example/cb")
    plain = run(*base)
    assert plain["require_mfa"] is False
    strict = run(*base, "--require-mfa")
    assert strict["require_mfa"] is True
    client_id = strict["client_id"]
    assert run("client", "show", client_id)["require_mfa"] is True
    assert {c["client_id"]: c["require_mfa"] for c in run("client", "list")} == {
        plain["client_id"]: False,
        client_id: True,
    }
    assert "require_mfa: True" in run("client", "show", client_id, as_json=False)
    # an update of something else keeps it; the flags switch it
    assert run("client", "update", client_id, "--name", "Renamed")["require_mfa"] is True
    assert run("client", "update", client_id, "--no-require-mfa")["require_mfa"] is False
    assert run("client", "show", client_id)["require_mfa"] is False
    assert run("client", "update", client_id, "--require-mfa")["require_mfa"] is True
    assert run("client", "show", client_id)["client_name"] == "Renamed"
