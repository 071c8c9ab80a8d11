"""Mail templates (mail/messages.py): each kind renders, overrides win file by file, html
escapes what a user typed and text does not; build_message refuses header injection."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path
from typing import Any

import pytest

from keystead.config import Settings
from keystead.mail.messages import KINDS, build_message, render

SETTINGS = Settings(issuer="https://id.example.com")
EVIL = '<b>O\'Brien & "co"</b>'
CONTEXTS: dict[str, dict[str, Any]] = {
    "password_reset": {
        "username": EVIL,
        "link": "https://id.example.com/reset?t=abc&x=1",
        "expires_minutes": 30,
    },
    "verify_email": {
        "username": EVIL,
        "link": "https://id.example.com/verify?t=abc&x=1",
        "expires_minutes": 60,
        "email": "alice@example.org",
    },
    "invitation": {"link": "https://id.example.com/invite?t=abc&x=1", "expires_days": 7},
    "email_changed_notice": {"username": EVIL, "new_email": "new@example.org"},
    "link_identity": {
        "username": EVIL,
        "provider": EVIL,
        "link": "https://id.example.com/federation/link/confirm?token=abc",
        "expires_minutes": 60,
    },
}


def test_every_kind_has_a_context_here() -> None:
    assert set(CONTEXTS) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(CONTEXTS))
def test_each_kind_renders_plain_accessible_mail(kind: str) -> None:
    subject, text, html = render(kind, CONTEXTS[kind], settings=SETTINGS)
    assert subject and "\n" not in subject
    assert "id.example.com" in text
    assert html.startswith("<!DOCTYPE html>") and '<html lang="en">' in html
    assert "<title>" in html and "<h1" in html
    assert "<img" not in html and "<script" not in html  # no remote images, no tracking
    if "link" in CONTEXTS[kind]:
        link = CONTEXTS[kind]["link"]
        assert f"\n{link}\n" in text  # on a line of its own: clients make it clickable
        assert f'href="{link.replace("&", "&amp;")}"' in html
        assert html.count("https://") == html.count(link.replace("&", "&amp;"))
    else:
        assert "href" not in html and "https://" not in html


@pytest.mark.parametrize("kind", ["password_reset", "verify_email", "email_changed_notice"])
def test_html_escapes_the_username_and_text_does_not(kind: str) -> None:
    _, text, html = render(kind, CONTEXTS[kind], settings=SETTINGS)
    assert f"Hello {EVIL}," in text
    assert EVIL not in html
    assert "Hello &lt;b&gt;O&#39;Brien &amp; &#34;co&#34;&lt;/b&gt;," in html


def test_the_facts_of_each_kind_are_in_both_parts() -> None:
    facts = {
        "password_reset": ["30 minutes"],
        "verify_email": ["60 minutes", "alice@example.org"],
        "invitation": ["7 days"],
        "email_changed_notice": ["new@example.org"],
    }
    for kind, expected in facts.items():
        _, text, html = render(kind, CONTEXTS[kind], settings=SETTINGS)
        for fact in expected:
            assert fact in text and fact in html, (kind, fact)


def test_invitation_names_the_inviter_and_the_invitee_when_given() -> None:
    context = CONTEXTS["invitation"] | {"inviter": "Ann <admin>", "name": "Bob", "expires_days": 1}
    subject, text, html = render("invitation", context, settings=SETTINGS)
    assert subject == "Ann <admin> invites you to id.example.com"
    assert text.startswith("Hello Bob,") and "Ann <admin> invites you" in text
    assert "1 day " in text and "Ann &lt;admin&gt; invites you" in html
    subject, text, _ = render("invitation", CONTEXTS["invitation"], settings=SETTINGS)
    assert subject == "You are invited to id.example.com" and text.startswith("Hello,")


def test_a_line_break_in_a_name_does_not_reach_the_subject() -> None:
    context = CONTEXTS["invitation"] | {"inviter": "Ann\r\nBcc: eve@example.org"}
    subject, _, _ = render("invitation", context, settings=SETTINGS)
    assert subject == "Ann Bcc: eve@example.org invites you to id.example.com"


def test_the_context_must_match_the_kind() -> None:
    with pytest.raises(ValueError, match="unknown mail kind 'welcome'"):
        render("welcome", {}, settings=SETTINGS)
    with pytest.raises(ValueError, match=r"missing \['link'\]"):
        render("password_reset", {"username": "a", "expires_minutes": 5}, settings=SETTINGS)
    with pytest.raises(ValueError, match=r"unexpected \['emial'\]"):
        render("verify_email", CONTEXTS["verify_email"] | {"emial": "x"}, settings=SETTINGS)


def test_an_override_replaces_only_its_own_file(tmp_path: Path) -> None:
    (tmp_path / "password_reset.subject.txt").write_text("Your {{ site }} password")
    (tmp_path / "password_reset.html").write_text("<p>Hi {{ username }}: {{ link }}</p>")
    settings = Settings(issuer="https://id.example.com", mail_templates_dir=tmp_path)
    subject, text, html = render("password_reset", CONTEXTS["password_reset"], settings=settings)
    assert subject == "Your id.example.com password"
    assert html == (
        "<p>Hi &lt;b&gt;O&#39;Brien &amp; &#34;co&#34;&lt;/b&gt;: "
        "https://id.example.com/reset?t=abc&amp;x=1</p>"
    )
    assert text == render("password_reset", CONTEXTS["password_reset"], settings=SETTINGS)[1]
    # the other kinds keep every built-in file
    assert render("verify_email", CONTEXTS["verify_email"], settings=settings) == render(
        "verify_email", CONTEXTS["verify_email"], settings=SETTINGS
    )


def test_an_override_of_the_shared_layout_applies_to_every_html(tmp_path: Path) -> None:
    (tmp_path / "_layout.html").write_text("<div class=brand>{% block body %}{% endblock %}</div>")
    settings = Settings(mail_templates_dir=tmp_path)
    for kind, context in CONTEXTS.items():
        assert render(kind, context, settings=settings)[2].startswith("<div class=brand>")


def test_a_misspelt_name_in_an_override_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "password_reset.txt").write_text("{{ usernme }}")
    settings = Settings(mail_templates_dir=tmp_path)
    with pytest.raises(Exception, match="usernme"):
        render("password_reset", CONTEXTS["password_reset"], settings=settings)


def _message(**overrides: str) -> email.message.EmailMessage:
    fields = {
        "mail_from": "keystead <no-reply@example.com>",
        "to": "alice@example.org",
        "subject": "Reset your password",
        "text": "Hello\n",
        "html": "<p>Hello</p>",
        "message_id_domain": "id.example.com",
    } | overrides
    return build_message(**fields)


def test_build_message_is_multipart_alternative_with_id_and_date() -> None:
    raw = _message(text="Grüße, Ünïcode\n", html="<p>Grüße</p>").as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed["From"] == "keystead <no-reply@example.com>"
    assert parsed["To"] == "alice@example.org"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert re.fullmatch(r"<[0-9a-f]{32}@id\.example\.com>", parsed["Message-ID"])
    assert parsed["Date"].datetime is not None
    text, html = (part for part in parsed.iter_parts())
    assert text.get_content_type() == "text/plain" and text.get_content() == "Grüße, Ünïcode\n"
    assert html.get_content_type() == "text/html" and html.get_content() == "<p>Grüße</p>\n"
    assert _message()["Message-ID"] != _message()["Message-ID"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject", "Hello\r\nBcc: eve@example.org"),
        ("subject", "Hello\nBcc: eve@example.org"),
        ("subject", "Hello\rX"),
        ("to", "alice@example.org\r\nBcc: eve@example.org"),
        ("to", "alice@example.org\nBcc: eve@example.org"),
        ("mail_from", "keystead <no-reply@example.com>\nBcc: eve@example.org"),
        ("message_id_domain", "id.example.com\r\nBcc: eve@example.org"),
    ],
)
def test_build_message_refuses_header_injection(field: str, value: str) -> None:
    with pytest.raises(ValueError, match="line break"):
        _message(**{field: value})


@pytest.mark.parametrize(
    "to", ["alice@example.org, eve@example.org", "alice", "", "alice@example.org eve@x.org"]
)
def test_build_message_sends_to_exactly_one_address(to: str) -> None:
    with pytest.raises(ValueError, match="To"):
        _message(to=to)
