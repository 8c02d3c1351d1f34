"""Numbered schema migrations. The cockpit runs them itself when it connects.

Several cockpits starting at once must migrate once: each takes the same session-level
advisory lock, then applies only the versions `schema_migrations` does not list yet, each
in its own transaction. A migration is never edited once released; a change is a new one.

Every row that other cockpits must see carries `seq`, taken from the one `change` counter
row inside the writing transaction. The counter's row lock serialises writers, so rows
commit in seq order: a reader that has seen seq N has seen everything up to N, and after a
reconnect it re-reads `WHERE seq > N` and misses nothing.
"""

from __future__ import annotations

from typing import Any

# pg_advisory_lock key: the ASCII of "cockpit!" (fits a signed 64-bit integer)
ADVISORY_KEY = 0x636F636B70697421

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "incidents, timeline events, shift log, outbox, remote ids, presence",
        """
        CREATE TABLE counters (name text PRIMARY KEY, value bigint NOT NULL);
        INSERT INTO counters VALUES ('change', 0);
        -- every applied write, by the id its cockpit gave it: a replay or a retry is a no-op
        CREATE TABLE applied_ops (
            uid text PRIMARY KEY,
            kind text NOT NULL,
            actor text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now(),
            result jsonb NOT NULL DEFAULT '{}'
        );
        CREATE TABLE incidents (
            id text PRIMARY KEY,
            title text NOT NULL,
            severity text NOT NULL,
            status text NOT NULL,
            commander text NOT NULL,
            started_at timestamptz NOT NULL,
            resolved_at timestamptz,
            components jsonb NOT NULL DEFAULT '[]',
            last_customer_update_at timestamptz,
            version integer NOT NULL DEFAULT 1,
            -- field -> {"by": actor, "at": iso time, "version": n}: who changed it last
            changed jsonb NOT NULL DEFAULT '{}',
            created_by text NOT NULL DEFAULT '',
            seq bigint NOT NULL
        );
        CREATE INDEX incidents_by_seq ON incidents (seq);
        CREATE TABLE events (
            id bigint PRIMARY KEY,
            uid text NOT NULL UNIQUE,
            incident_id text REFERENCES incidents (id),
            at timestamptz NOT NULL,
            kind text NOT NULL,
            source text NOT NULL,
            actor text NOT NULL,
            summary text NOT NULL,
            details jsonb NOT NULL DEFAULT '{}',
            pinned boolean NOT NULL DEFAULT false,
            seq bigint NOT NULL
        );
        CREATE INDEX events_by_seq ON events (seq);
        CREATE INDEX events_by_incident ON events (incident_id, at);
        CREATE TABLE outbox (
            id bigserial PRIMARY KEY,
            kind text NOT NULL,
            incident_id text NOT NULL,
            idempotency_key text NOT NULL UNIQUE,
            payload jsonb NOT NULL,
            state text NOT NULL DEFAULT 'pending',
            attempts integer NOT NULL DEFAULT 0,
            last_error text NOT NULL DEFAULT '',
            next_attempt_at timestamptz NOT NULL,
            created_at timestamptz NOT NULL,
            sent_at timestamptz,
            result_ids jsonb NOT NULL DEFAULT '{}',
            claimed_by text NOT NULL DEFAULT '',
            lease_until timestamptz,
            seq bigint NOT NULL
        );
        CREATE INDEX outbox_by_seq ON outbox (seq);
        CREATE INDEX outbox_by_state ON outbox (state, next_attempt_at);
        CREATE TABLE remote_ids (
            incident_id text NOT NULL,
            system text NOT NULL,
            remote_id text NOT NULL,
            seq bigint NOT NULL,
            PRIMARY KEY (incident_id, system)
        );
        CREATE TABLE presence (
            session text PRIMARY KEY,
            who text NOT NULL,
            host text NOT NULL DEFAULT '',
            incident_id text,
            seen_at timestamptz NOT NULL DEFAULT now()
        );
        """,
    ),
    (
        2,
        "incident owner, customer title, next update due, declaring alert, closed; alert history",
        """
        ALTER TABLE incidents
            ADD COLUMN team text NOT NULL DEFAULT '',
            ADD COLUMN service text NOT NULL DEFAULT '',
            ADD COLUMN customer_title text NOT NULL DEFAULT '',
            ADD COLUMN next_update_due timestamptz,
            ADD COLUMN alert_group text NOT NULL DEFAULT '',
            ADD COLUMN detected_at timestamptz,
            ADD COLUMN closed_at timestamptz;
        -- incidents resolved before there was a "close" are done with: closed
        UPDATE incidents SET closed_at = resolved_at WHERE status = 'resolved';
        CREATE TABLE alerts (
            id bigserial PRIMARY KEY,
            cluster text NOT NULL DEFAULT '',
            fingerprint text NOT NULL,
            starts_at timestamptz NOT NULL,
            name text NOT NULL,
            labels jsonb NOT NULL DEFAULT '{}',
            group_key text NOT NULL DEFAULT '',
            severity text NOT NULL DEFAULT 'none',
            team text NOT NULL DEFAULT '',
            first_seen timestamptz NOT NULL,
            last_seen timestamptz NOT NULL,
            resolved_at timestamptz,
            UNIQUE (cluster, fingerprint, starts_at)
        );
        CREATE INDEX alerts_by_start ON alerts (starts_at);
        CREATE INDEX alerts_by_group ON alerts (group_key, starts_at);
        CREATE INDEX alerts_open ON alerts (resolved_at) WHERE resolved_at IS NULL;
        CREATE INDEX events_by_time ON events (at);
        """,
    ),
)
LATEST = MIGRATIONS[-1][0]


async def migrate(conn: Any) -> list[int]:
    """Apply the missing migrations on an autocommit AsyncConnection; returns those applied."""
    applied: list[int] = []
    await conn.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_KEY,))
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
            " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        cursor = await conn.execute("SELECT version FROM schema_migrations")
        done = {int(row[0]) for row in await cursor.fetchall()}
        for version, name, sql in MIGRATIONS:
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (version, name),
                )
            applied.append(version)
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_KEY,))
    return applied


async def schema_version(conn: Any) -> int:
    """The newest applied migration, 0 on an empty database."""
    cursor = await conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
    row = await cursor.fetchone()
    if not row or not row[0]:
        return 0
    cursor = await conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations")
    row = await cursor.fetchone()
    return int(row[0]) if row else 0
