"""The client certificate of uvicorn's own TLS connections, in the ASGI scope.

uvicorn does not put the peer certificate into the scope. ``keystead serve`` with TLS
(KEYSTEAD_TLS_CERT_FILE / KEY_FILE) selects this protocol: the certificate the client sent
in the handshake is put into ``scope["extensions"]["tls"]["client_cert_chain"]`` (the ASGI TLS
extension: PEM strings, leaf first), where web/mtls.py reads it (RFC 8705). Python's ssl
module gives the leaf only (``getpeercert(binary_form=True)``); the chain was verified in the
handshake against KEYSTEAD_TLS_CLIENT_CA_FILE.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from keystead.web.wire import JoinedWritesProtocol


class ClientCertProtocol(JoinedWritesProtocol):
    """``JoinedWritesProtocol`` that adds the TLS extension to each request's scope."""

    _tls: dict[str, object] | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        ssl_object = transport.get_extra_info("ssl_object")
        if isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
            der = ssl_object.getpeercert(binary_form=True)
            if der:  # a certificate once per connection; every request on it carries it
                self._tls = {
                    "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)],
                    "tls_version": None,
                    "cipher_suite": None,
                }
        super().connection_made(transport)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._tls is not None:
            extensions: dict[str, Any] = self.scope.setdefault("extensions", {})
            extensions["tls"] = self._tls
