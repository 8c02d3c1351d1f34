"""`cockpit store migrate --from SQLITE_PATH`: a local store's record into the shared one.

Incidents, their timelines, the shift log, the outbox, the remote ids and the alert
history, in one
transaction, idempotently: an event's uid is made from its local row (id, time, kind,
actor, text), an outbox item keeps its idempotency key, and an incident already copied is
recognised by its start time and title. Two local files both numbered INC-2026-0001 are
different incidents: the second gets the next free number, and its events follow it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cockpit.incident.postgres.connection import Target, connect
from cockpit.incident.postgres.migrations import migrate
from cockpit.incident.postgres.store import CHANNEL


@dataclass
class CopyReport:
    incidents: int = 0  # newly copied
    events: int = 0
    outbox: int = 0
    skipped: int = 0  # rows the shared store already had
    renamed: dict[str, str] = field(default_factory=dict)  # local id -> shared id

    def line(self) -> str:
        text = (
            f"copied {self.incidents} incidents, {self.events} events, "
            f"{self.outbox} outbox items ({self.skipped} already there)"
        )
        for local, shared in self.renamed.items():
            text += f"; {local} is {shared} in the shared store"
        return text


def _uid(row: Any, incident: dict[str, Any] | None) -> str:
    """The same local row always gets the same uid; rows of different incidents never do."""
    owner = f"{incident['started_at']}|{incident['title']}" if incident else "shift log"
    raw = f"{owner}|{row['id']}|{row['at']}|{row['kind']}|{row['actor']}|{row['summary']}"
    return "sqlite-" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def copy_sqlite(sqlite_path: str | Path, target: Target) -> CopyReport:
    from cockpit.incident.outbox import Outbox
    from cockpit.incident.store import SQLiteStore

    if not Path(sqlite_path).is_file():
        raise FileNotFoundError(f"no incident store at {sqlite_path}")
    local = SQLiteStore(sqlite_path)
    try:
        Outbox(local)  # makes sure the outbox tables exist, even in an old file
        incidents = [dict(r) for r in local.query("SELECT * FROM incidents ORDER BY started_at")]
        events = [dict(r) for r in local.query("SELECT * FROM events ORDER BY id")]
        outbox = [dict(r) for r in local.query("SELECT * FROM outbox ORDER BY id")]
        remote = [dict(r) for r in local.query("SELECT * FROM remote_ids")]
        alerts = [dict(r) for r in local.query("SELECT * FROM alerts ORDER BY id")]
    finally:
        local.close()
    return asyncio.run(_copy(target, incidents, events, outbox, remote, alerts))


async def _copy(
    target: Target,
    incidents: list[dict[str, Any]],
    events: list[dict[str, Any]],
    outbox: list[dict[str, Any]],
    remote: list[dict[str, Any]],
    alerts: list[dict[str, Any]],
) -> CopyReport:
    report = CopyReport()
    conn = await connect(target, application="cockpit-store-migrate")
    try:
        await migrate(conn)
        async with conn.transaction():
            cur = await conn.execute(
                "UPDATE counters SET value = value + %s WHERE name='change' RETURNING value",
                (len(events) + 1,),
            )
            top = int((await cur.fetchone())[0])
            seq = top - len(events)
            ids: dict[str, str] = {}
            by_id = {inc["id"]: inc for inc in incidents}
            for inc in incidents:
                ids[inc["id"]] = await _incident(conn, inc, seq, report)
            next_id = seq + 1
            for ev in events:
                incident_id = ids.get(ev["incident_id"]) if ev["incident_id"] else None
                uid = _uid(ev, by_id.get(ev["incident_id"]))
                cur = await conn.execute(
                    "INSERT INTO events (id, uid, incident_id, at, kind, source, actor, summary,"
                    " details, pinned, seq) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s::jsonb,%s,%s)"
                    " ON CONFLICT (uid) DO NOTHING RETURNING id",
                    (
                        next_id, uid, incident_id, ev["at"], ev["kind"], ev["source"],
                        ev["actor"], ev["summary"], ev["details"] or "{}", bool(ev["pinned"]), seq,
                    ),
                )  # fmt: skip
                next_id += 1
                if await cur.fetchone():
                    report.events += 1
                else:
                    report.skipped += 1
            for item in outbox:
                cur = await conn.execute(
                    "INSERT INTO outbox (kind, incident_id, idempotency_key, payload, state,"
                    " attempts, last_error, next_attempt_at, created_at, sent_at, result_ids, seq)"
                    " VALUES (%s,%s,%s,%s::jsonb,%s,%s,%s,%s,%s,%s,%s::jsonb,%s)"
                    " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
                    (
                        item["kind"], ids.get(item["incident_id"], item["incident_id"]),
                        item["idempotency_key"], _retarget(item["payload"], ids), item["state"],
                        item["attempts"], item["last_error"], item["next_attempt_at"],
                        item["created_at"], item["sent_at"], item["result_ids"] or "{}", seq,
                    ),
                )  # fmt: skip
                if await cur.fetchone():
                    report.outbox += 1
                else:
                    report.skipped += 1
            for r in remote:
                await conn.execute(
                    "INSERT INTO remote_ids (incident_id, system, remote_id, seq)"
                    " VALUES (%s,%s,%s,%s) ON CONFLICT (incident_id, system) DO NOTHING",
                    (ids.get(r["incident_id"], r["incident_id"]), r["system"], r["remote_id"], seq),
                )
            for a in alerts:  # the alert history: one row per firing, whoever saw it
                await conn.execute(
                    "INSERT INTO alerts (cluster, fingerprint, starts_at, name, labels, group_key,"
                    " severity, team, first_seen, last_seen, resolved_at)"
                    " VALUES (%s,%s,%s,%s,%s::jsonb,%s,%s,%s,%s,%s,%s)"
                    " ON CONFLICT (cluster, fingerprint, starts_at) DO NOTHING",
                    (
                        a["cluster"], a["fingerprint"], a["starts_at"], a["name"],
                        a["labels"] or "{}", a["group_key"], a["severity"], a["team"],
                        a["first_seen"], a["last_seen"], a["resolved_at"],
                    ),
                )  # fmt: skip
            note = json.dumps({"k": "import", "seq": top})
            await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, note))
    finally:
        await conn.close()
    return report


async def _incident(conn: Any, inc: dict[str, Any], seq: int, report: CopyReport) -> str:
    cur = await conn.execute(
        "SELECT id FROM incidents WHERE started_at=%s AND title=%s",
        (inc["started_at"], inc["title"]),
    )
    same = await cur.fetchone()
    if same:  # copied before
        report.skipped += 1
        if same[0] != inc["id"]:
            report.renamed[inc["id"]] = same[0]
        return str(same[0])
    new_id = inc["id"]
    cur = await conn.execute("SELECT 1 FROM incidents WHERE id=%s", (new_id,))
    if await cur.fetchone():  # another incident has this number in the shared store
        prefix = new_id.rsplit("-", 1)[0] + "-"
        cur = await conn.execute(
            "SELECT id FROM incidents WHERE id LIKE %s ORDER BY id DESC LIMIT 1", (prefix + "%",)
        )
        top = await cur.fetchone()
        new_id = f"{prefix}{int(top[0].rsplit('-', 1)[1]) + 1:04d}"
        report.renamed[inc["id"]] = new_id
    await conn.execute(
        "INSERT INTO incidents (id, title, severity, status, commander, started_at, resolved_at,"
        " components, last_customer_update_at, team, service, customer_title, next_update_due,"
        " alert_group, detected_at, closed_at, version, created_by, seq)"
        " VALUES (%s,%s,%s,%s,%s,%s,%s,%s::jsonb,%s,%s,%s,%s,%s,%s,%s,%s,1,%s,%s)",
        (
            new_id, inc["title"], inc["severity"], inc["status"], inc["commander"],
            inc["started_at"], inc["resolved_at"], inc["components"] or "[]",
            inc["last_customer_update_at"], inc.get("team") or "", inc.get("service") or "",
            inc.get("customer_title") or "", inc.get("next_update_due"),
            inc.get("alert_group") or "", inc.get("detected_at"), inc.get("closed_at"),
            inc["commander"], seq,
        ),
    )  # fmt: skip
    report.incidents += 1
    return str(new_id)


def _retarget(payload: str, ids: dict[str, str]) -> str:
    """An outbox payload names its incident: follow a renumbering."""
    data = json.loads(payload or "{}")
    if data.get("incident_id") in ids:
        data["incident_id"] = ids[data["incident_id"]]
    return json.dumps(data)


def store_main(argv: list[str], config: Any) -> int:
    """`cockpit store migrate --from SQLITE_PATH`: prints one line, 0 on success."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="cockpit store")
    sub = parser.add_subparsers(dest="verb", required=True)
    migrate_cmd = sub.add_parser("migrate", help="copy a local SQLite store into the shared one")
    migrate_cmd.add_argument("--from", dest="source", metavar="SQLITE_PATH", required=True)
    args = parser.parse_args(argv)
    if config.store.kind != "postgresql":
        sys.stderr.write(
            'cockpit store migrate: the config\'s [store] is not kind = "postgresql"\n'
        )
        return 2
    from cockpit.secrets import SecretError, SecretResolver

    password = ""
    if config.store.password_secret:
        try:
            password = str(SecretResolver(prompt=sys.stdin.isatty()).resolve(
                config.store.password_secret
            ).value)  # fmt: skip
        except SecretError as exc:
            sys.stderr.write(f"cockpit store migrate: {exc}\n")
            return 2
    target = Target(config.store.dsn, password)
    try:
        report = copy_sqlite(args.source, target)
    except FileNotFoundError as exc:
        sys.stderr.write(f"cockpit store migrate: {exc}\n")
        return 2
    except Exception as exc:
        from cockpit.incident.postgres.connection import error_line

        sys.stderr.write(f"cockpit store migrate: {error_line(exc, target)}\n")
        return 1
    print(f"cockpit store migrate: {target.describe()}: {report.line()}")
    return 0
