"""KEYSTEAD_SMTP_URL: every accepted form, the refused ones with their reasons, and the
password never in a repr, a str or an error message (mail/smtp.py, config.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from keystead.config import Settings
from keystead.mail.smtp import MailError, SmtpTarget, parse_smtp_url, target_from_settings

PASSWORD = "s3cr%2Ft p@ss"  # as written in the URL: "/" percent-encoded
DECODED = "s3cr/t p@ss"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com", SmtpTarget("mail.example.com", 25, "plain")),
        ("smtp://mail.example.com:2525", SmtpTarget("mail.example.com", 2525, "plain")),
        ("smtp+starttls://mail.example.com", SmtpTarget("mail.example.com", 587, "starttls")),
        ("SMTP+STARTTLS://mail.example.com:25", SmtpTarget("mail.example.com", 25, "starttls")),
        ("smtps://mail.example.com", SmtpTarget("mail.example.com", 465, "tls")),
        ("smtp://127.0.0.1:1025/", SmtpTarget("127.0.0.1", 1025, "plain")),
        ("smtp://[::1]:1025", SmtpTarget("::1", 1025, "plain")),
        (
            "smtps://bob:hunter2@mail.example.com",
            SmtpTarget("mail.example.com", 465, "tls", "bob", "hunter2"),
        ),
        (
            "smtp+starttls://bob%40example.com:a%3Ab%2Fc%40d%23e@mail.example.com:587",
            SmtpTarget("mail.example.com", 587, "starttls", "bob@example.com", "a:b/c@d#e"),
        ),
        (
            # an unencoded "@" in the password: the host is after the last one
            "smtps://bob:p@ss@mail.example.com",
            SmtpTarget("mail.example.com", 465, "tls", "bob", "p@ss"),
        ),
        (
            "smtp://bob:a:b@localhost",  # a ":" after the first is the password's
            SmtpTarget("localhost", 25, "plain", "bob", "a:b"),
        ),
        (
            "smtp://bob:pw@127.0.0.1:1025",  # a login over plain SMTP: to this host only
            SmtpTarget("127.0.0.1", 1025, "plain", "bob", "pw"),
        ),
        ("  smtp://mail.example.com  ", SmtpTarget("mail.example.com", 25, "plain")),
    ],
)
def test_accepted_forms(url: str, expected: SmtpTarget) -> None:
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mail.example.com:25", "no scheme"),
        ("http://mail.example.com", "unknown SMTP URL scheme 'http'"),
        ("smtp+ssl://mail.example.com", "unknown SMTP URL scheme 'smtp+ssl'"),
        ("smtp://", "no host"),
        ("smtp://:25", "no host"),
        ("smtp://mail.example.com:smtp", "port is not a number"),
        ("smtp://mail.example.com:0", "port is not a number"),
        ("smtp://mail.example.com:70000", "port is not a number"),
        ("smtp://mail.example.com/inbox", "path, query or fragment"),
        ("smtp://mail.example.com?tls=1", "path, query or fragment"),
        (f"smtp://:{PASSWORD}@mail.example.com", "password but no user name"),
        ("smtps://bob@mail.example.com", "user name but no password"),
        ("smtps://bob:@mail.example.com", "user name but no password"),
        ("smtp://bob:s3cret@mail.example.com", "would send the password unencrypted"),
        # a raw "/" or "#" in a password ends the authority: the rest looks like a path
        ("smtps://bob:s3cr/t@mail.example.com", "path, query or fragment"),
        ("smtps://bob:s3cr#t@mail.example.com", "path, query or fragment"),
        ("smtps://bob:s3cr?t@mail.example.com", "path, query or fragment"),
    ],
)
def test_refused_forms_say_why_and_show_the_accepted_ones(url: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_smtp_url(url)
    message = str(caught.value)
    assert reason in message
    assert "smtp+starttls://[user:pass@]host[:port]" in message
    for secret in ("s3cr", "s3cret", DECODED, PASSWORD):
        assert secret not in message


def test_the_password_is_in_no_repr_or_str() -> None:
    target = parse_smtp_url(f"smtp+starttls://bob:{PASSWORD}@mail.example.com")
    assert target.password == DECODED
    for shown in (repr(target), str(target), f"{target}", repr([target])):
        assert DECODED not in shown and PASSWORD not in shown
        assert "s3cr" not in shown
    assert str(target) == "smtp+starttls://bob@mail.example.com:587"
    assert repr(MailError("refused", permanent=True)) == "MailError('refused', permanent=True)"


def test_settings_validate_the_url_at_load_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KEYSTEAD_SMTP_URL", "smtps://bob:s3cret@mail.example.com:99999")
    with pytest.raises(ValidationError) as caught:
        Settings()
    shown = str(caught.value)
    assert "port is not a number" in shown and "smtps://" in shown
    assert "s3cret" not in shown and "s3cret" not in repr(caught.value)


def test_settings_give_the_target(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    monkeypatch.setenv("KEYSTEAD_SMTP_URL", "smtps://bob:hunter2@mail.example.com")
    monkeypatch.setenv("KEYSTEAD_SMTP_CA_FILE", str(ca_file))
    settings = Settings()
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.model_dump())
    assert target_from_settings(settings) == SmtpTarget(
        "mail.example.com", 465, "tls", "bob", "hunter2", ca_file
    )
    assert target_from_settings(Settings(smtp_url=None)) is None


@pytest.mark.parametrize(
    "value",
    ["no-reply@example.com", "keystead <no-reply@example.com>", '"Key, Stead" <a@example.com>'],
)
def test_mail_from_accepts_one_mailbox(value: str) -> None:
    assert Settings(mail_from=value).mail_from == value


@pytest.mark.parametrize(
    "value", ["a@example.com, b@example.com", "no-reply", "a@example.com\r\nBcc: x@example.com"]
)
def test_mail_from_refuses_anything_else(value: str) -> None:
    with pytest.raises(ValidationError, match="keystead <no-reply@example.com>"):
        Settings(mail_from=value)


def test_mail_templates_dir_must_exist(tmp_path: Path) -> None:
    assert Settings(mail_templates_dir=tmp_path).mail_templates_dir == tmp_path
    with pytest.raises(ValidationError, match="existing directory"):
        Settings(mail_templates_dir=tmp_path / "missing")
