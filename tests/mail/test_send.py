"""mail.smtp.send against a real SMTP server (aiosmtpd, tests/mail/smtp_sink.py): plain,
STARTTLS and implicit TLS with a test CA, AUTH, a 5xx reply (permanent), a 4xx reply,
a refused connection and a silent server (temporary)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote

import pytest

from keystead.config import Settings
from keystead.mail.messages import build_message, render
from keystead.mail.smtp import MailError, parse_smtp_url, send
from tests.mail.smtp_sink import SmtpSink, TlsFiles, free_port, make_tls_files

pytestmark = [
    pytest.mark.anyio,
    # aiosmtpd warns of AUTH over plain SMTP, which some tests do on purpose
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
]
SETTINGS = Settings(issuer="https://id.example.com")
PASSWORD = "pa:ss/w@rd%"


def _message(to: str = "alice@example.org") -> EmailMessage:
    subject, text, html = render(
        "password_reset",
        {"username": "alice", "link": "https://id.example.com/r?t=1", "expires_minutes": 30},
        settings=SETTINGS,
    )
    return build_message(
        mail_from="keystead <no-reply@example.com>",
        to=to,
        subject=subject,
        text=text,
        html=html,
        message_id_domain="id.example.com",
    )


@pytest.fixture
def tls(tmp_path: Path) -> TlsFiles:
    return make_tls_files(tmp_path)


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink(refuse={"nobody@example.org": "550 5.1.1 No such user here"}) as server:
        yield server


async def test_a_message_arrives_with_its_headers_and_both_parts(sink: SmtpSink) -> None:
    message = _message()
    await send(parse_smtp_url(sink.url), message, timeout=5)
    [received] = await sink.wait_for(1)
    [envelope] = sink.received
    assert envelope.mail_from == "no-reply@example.com"
    assert envelope.rcpt_tos == ["alice@example.org"] and not envelope.over_tls
    assert received["From"] == "keystead <no-reply@example.com>"
    assert received["To"] == "alice@example.org"
    assert received["Subject"] == "Reset your password"
    assert received["Message-ID"] == message["Message-ID"]
    text = received.get_body(("plain",))
    html = received.get_body(("html",))
    assert text is not None and html is not None
    assert "https://id.example.com/r?t=1" in text.get_content()
    assert 'href="https://id.example.com/r?t=1"' in html.get_content()


async def test_starttls_with_a_private_ca_and_a_login(tls: TlsFiles) -> None:
    with SmtpSink(tls=tls, logins={"keystead": PASSWORD}) as sink:
        url = f"smtp+starttls://keystead:{quote(PASSWORD, safe='')}@127.0.0.1:{sink.port}"
        await send(parse_smtp_url(url, ca_file=tls.ca_file), _message(), timeout=5)
        await sink.wait_for(1)
        [received] = sink.received
    assert received.over_tls and received.authenticated_as == "keystead"


async def test_starttls_refuses_a_certificate_it_cannot_verify(tls: TlsFiles) -> None:
    with SmtpSink(tls=tls) as sink:
        with pytest.raises(MailError) as caught:
            await send(parse_smtp_url(sink.url), _message(), timeout=5)
    assert not caught.value.permanent and "certificate" in caught.value.reason.lower()
    assert "KEYSTEAD_SMTP_CA_FILE" in caught.value.reason
    assert sink.received == []


async def test_starttls_asked_of_a_server_without_it_fails(sink: SmtpSink) -> None:
    url = f"smtp+starttls://127.0.0.1:{sink.port}"
    with pytest.raises(MailError) as caught:
        await send(parse_smtp_url(url), _message(), timeout=5)
    assert not caught.value.permanent and "STARTTLS" in caught.value.reason
    assert sink.received == []


async def test_implicit_tls(tls: TlsFiles) -> None:
    with SmtpSink(tls=tls, implicit_tls=True) as sink:
        await send(parse_smtp_url(sink.url, ca_file=tls.ca_file), _message(), timeout=5)
        await sink.wait_for(1)
        assert sink.received[0].over_tls


async def test_a_login_over_plain_smtp(tmp_path: Path) -> None:
    with SmtpSink(logins={"bob": "hunter2"}) as sink:
        url = f"smtp://bob:hunter2@127.0.0.1:{sink.port}"
        await send(parse_smtp_url(url), _message(), timeout=5)
        assert (await sink.wait_for(1)) and sink.received[0].authenticated_as == "bob"


async def test_a_wrong_password_is_temporary_and_not_in_the_reason() -> None:
    with SmtpSink(logins={"bob": "hunter2"}) as sink:
        url = f"smtp://bob:{quote(PASSWORD, safe='')}@127.0.0.1:{sink.port}"
        with pytest.raises(MailError) as caught:
            await send(parse_smtp_url(url), _message(), timeout=5)
        assert sink.received == []
    error = caught.value
    assert not error.permanent and "535" in error.reason and "refused the login" in error.reason
    assert PASSWORD not in str(error) and PASSWORD not in repr(error)


async def test_no_login_where_the_server_requires_one_is_temporary() -> None:
    with SmtpSink(logins={"bob": "hunter2"}) as sink:
        with pytest.raises(MailError) as caught:
            await send(parse_smtp_url(sink.url), _message(), timeout=5)
    assert not caught.value.permanent and "530" in caught.value.reason


async def test_a_550_reply_is_permanent(sink: SmtpSink) -> None:
    with pytest.raises(MailError) as caught:
        await send(parse_smtp_url(sink.url), _message("nobody@example.org"), timeout=5)
    assert caught.value.permanent
    assert "550 5.1.1 No such user here" in caught.value.reason
    assert "nobody@example.org" in caught.value.reason
    assert sink.received == []


async def test_a_4xx_reply_is_temporary() -> None:
    with SmtpSink(refuse={"busy@example.org": "450 4.2.1 Mailbox busy, try later"}) as sink:
        with pytest.raises(MailError) as caught:
            await send(parse_smtp_url(sink.url), _message("busy@example.org"), timeout=5)
    assert not caught.value.permanent and "450 4.2.1" in caught.value.reason


async def test_a_refused_connection_is_temporary() -> None:
    url = f"smtp://bob:hunter2@127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(MailError) as caught:
        await send(parse_smtp_url(url), _message(), timeout=5)
    assert not caught.value.permanent
    assert "smtp://bob@127.0.0.1" in caught.value.reason and "hunter2" not in caught.value.reason


async def test_a_silent_server_times_out_as_temporary() -> None:
    with socket.socket() as listener:  # accepts the connection, never greets
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"smtp://127.0.0.1:{listener.getsockname()[1]}"
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(MailError) as caught:
            await send(parse_smtp_url(url), _message(), timeout=0.5)
        assert loop.time() - started < 3
    assert not caught.value.permanent and "did not answer in time" in caught.value.reason
