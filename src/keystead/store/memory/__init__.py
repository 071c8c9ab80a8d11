"""In-memory store for protocol unit tests: the same Protocols and behaviour as ``store/sql``.

Plain dicts, no locks: nothing in it awaits between reading and writing, so each method is
atomic on one event loop (the single-use ``consume_code`` and ``rotate_refresh_token``
included). The dataclasses are frozen; the few mutable fields (``Client.extra``,
``StoredKey.public_jwk``) are copied on the way in and out, so callers cannot change stored
state by accident, as with SQL. Sequence fields are normalized to tuples (of tuples, for
``Api.scopes``) on the way in, as SQL returns them. One module per concern of
``store/base.py``, as in ``store/sql/``; ``store.py`` wires them into ``MemoryStore``.
``tests/store/`` runs the same contract suite against every implementation.
"""

from keystead.store.memory.store import MemoryStore

__all__ = ["MemoryStore"]
