"""The shared incident store on PostgreSQL: one incident, live in every cockpit of the rotation.

    migrations.py  numbered schema migrations, run by the cockpit under an advisory lock
    connection.py  DSN handling (the password never in a message), connect with bounded timeouts
    journal.py     the local SQLite journal: every write lands here first, replayed by op id
    cache.py       what the screen reads: an in-memory copy kept live by LISTEN/NOTIFY
    store.py       PostgresStore, the IncidentStore on PostgreSQL, and its background thread
    outbox.py      the shared outbox: claims with a lease, so each item goes out once
    copy.py        `cockpit store migrate --from SQLITE_PATH`

psycopg is imported only here, so a cockpit on the SQLite default never loads it.
"""

from __future__ import annotations

from cockpit.incident.postgres.store import PostgresStore, StoreStatus

__all__ = ["PostgresStore", "StoreStatus"]
