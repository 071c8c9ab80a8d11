"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 with a free port, in its own thread,
collecting every message it accepts as an ``email.message.EmailMessage``.

    with SmtpSink() as sink:                     # plain SMTP
        settings = load_settings(smtp_url=sink.url)
        ...
        [message] = await sink.wait_for(1)
        assert message["To"] == "alice@example.org"

Options: ``tls=make_tls_files(tmp_path)`` offers STARTTLS (or, with ``implicit_tls=True``, is
an smtps server) with a certificate for 127.0.0.1 signed by a test CA (``tls.ca_file`` is what a
client trusts: ``KEYSTEAD_SMTP_CA_FILE``); ``logins={"user": "pass"}`` requires AUTH;
``refuse={"nobody@example.org": "550 5.1.1 No such user"}`` answers RCPT TO with that reply.
"""

from __future__ import annotations

import asyncio
import datetime
import email
import email.policy
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class TlsFiles:
    cert_file: Path  # the server's certificate (CN/SAN 127.0.0.1, localhost)
    key_file: Path
    ca_file: Path  # the test CA that signed it


def make_tls_files(directory: Path) -> TlsFiles:
    """A throw-away CA and a server certificate for 127.0.0.1 and localhost, as PEM files."""
    now = datetime.datetime.now(datetime.UTC)

    def build(subject: str, issuer: str, key: Any, signer: Any, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), False
            )
        )
        if ca:
            usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
            builder = builder.add_extension(usage, critical=True)
        else:
            names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    server_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = build("keystead test CA", "keystead test CA", ca_key, ca_key, ca=True)
    server_cert = build("127.0.0.1", "keystead test CA", server_key, ca_key, ca=False)
    files = TlsFiles(directory / "smtp-cert.pem", directory / "smtp-key.pem", directory / "ca.pem")
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    """One accepted message with its envelope (what the client said in MAIL FROM / RCPT TO)."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    authenticated_as: str | None = None
    over_tls: bool = False


@dataclass
class _Handler:
    sink: SmtpSink
    refuse: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if session.auth_data else None
        self.sink._add(
            Received(
                mail_from=envelope.mail_from or "",
                rcpt_tos=list(envelope.rcpt_tos),
                message=message,
                authenticated_as=login,
                over_tls=server.transport is not None
                and server.transport.get_extra_info("ssl_object") is not None,
            )
        )
        return "250 Message accepted"


class SmtpSink:
    """aiosmtpd on 127.0.0.1:<free port>; a context manager (start on enter, stop on exit)."""

    def __init__(
        self,
        *,
        tls: TlsFiles | None = None,
        implicit_tls: bool = False,
        logins: dict[str, str] | None = None,
        refuse: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.tls = tls
        self.implicit_tls = implicit_tls
        self.logins = logins
        self._received: list[Received] = []
        self._lock = threading.Lock()
        context = None
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(tls.cert_file, tls.key_file)
        kwargs: dict[str, Any] = {}
        if implicit_tls:
            assert context is not None, "implicit_tls needs tls=make_tls_files(...)"
            kwargs["ssl_context"] = context
        elif context is not None:
            kwargs["tls_context"] = context
        if logins is not None:
            kwargs.update(
                authenticator=self._authenticate, auth_required=True, auth_require_tls=False
            )
        self._controller = Controller(
            _Handler(self, refuse or {}),
            hostname="127.0.0.1",
            port=self.port,
            server_hostname="sink.test",
            **kwargs,
        )

    @property
    def url(self) -> str:
        """A KEYSTEAD_SMTP_URL for this sink (without a login)."""
        if self.implicit_tls:
            return f"smtps://127.0.0.1:{self.port}"
        if self.tls is not None:
            return f"smtp+starttls://127.0.0.1:{self.port}"
        return f"smtp://127.0.0.1:{self.port}"

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword) and self.logins is not None:
            login, password = data.login.decode(), data.password.decode()
            if self.logins.get(login) == password:
                return AuthResult(success=True, auth_data=data)
        return AuthResult(success=False, handled=False)

    def _add(self, received: Received) -> None:
        with self._lock:
            self._received.append(received)

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    @property
    def messages(self) -> list[EmailMessage]:
        return [r.message for r in self.received]

    async def wait_for(self, count: int, within: float = 5.0) -> list[EmailMessage]:
        """The first ``count`` messages, once that many arrived; AssertionError after
        ``within`` seconds with fewer."""
        deadline = time.monotonic() + within
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.received)} of {count} messages arrived")
            await asyncio.sleep(0.02)
        return self.messages[:count]

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
