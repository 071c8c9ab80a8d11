"""The outbox's handlers by job kind (outbox.py): what the app's Sender delivers."""

from __future__ import annotations

from keystead.mail.deliver import HANDLERS as MAIL
from keystead.net.backchannel import HANDLERS as BACKCHANNEL
from keystead.net.ciba_ping import HANDLERS as CIBA_PING
from keystead.outbox import Deliver

HANDLERS: dict[str, Deliver] = {**MAIL, **BACKCHANNEL, **CIBA_PING}
