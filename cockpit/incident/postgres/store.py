"""PostgresStore: the IncidentStore on a PostgreSQL database the whole rotation shares.

How a write travels: the calling thread appends it to the local journal (SQLite, on disk)
with an op id it made itself, then hands it to the store's own thread, which applies the
journal in order on PostgreSQL. One transaction per op records the op id in
`applied_ops` (so a replay or a retry is a no-op), takes the next `seq`, writes the rows,
and NOTIFYs the ids; the op leaves the journal once committed. The caller waits for that
at most `write_wait` seconds, and not at all while the database is known to be down: the
screen never freezes on the database, the write is kept, and it is replayed later.

How a read travels: from the in-memory cache (cache.py), never the network. The store's
thread LISTENs; on each notification (and after every reconnect) it re-reads every row
whose seq is newer than the last one it saw, so nothing missed while disconnected stays
missing, and tells the subscribers (the screen) what changed.

Everything that talks to PostgreSQL runs on the store's thread, in its own asyncio loop,
with psycopg's async connections: one for commands, one for LISTEN.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from cockpit.domain import AlertRecord, EventKind, Incident, TimelineEvent
from cockpit.incident.postgres import rows
from cockpit.incident.postgres.cache import Cache, Presence
from cockpit.incident.postgres.connection import Target, connect, error_line
from cockpit.incident.postgres.journal import Journal, Op
from cockpit.incident.postgres.migrations import migrate
from cockpit.incident.store import StoreConflict

log = logging.getLogger(__name__)
_T = TypeVar("_T")

CHANNEL = "cockpit"
RECENT_DAYS = 7  # timelines loaded at start: open incidents, the shift log of the last week
PRESENCE_WINDOW = 60.0  # seconds: a cockpit not seen for this long has left


@dataclass(frozen=True, slots=True)
class StoreStatus:
    up: bool
    reason: str  # why it is down, one line, no password
    journalled: int  # writes waiting for the database
    since: float  # time.monotonic() of the last change of `up`

    def header(self) -> str:
        """'' when all is well, else what the header shows (the count first: it is what the
        engineer must know, and a narrow header cuts the end)."""
        writes = f"{self.journalled} write{'' if self.journalled == 1 else 's'}"
        if self.up and not self.journalled:
            return ""
        if self.up:
            return f"store: replaying {writes}"
        kept = f" ({writes} journalled)" if self.journalled else ""
        reason = self.reason.split(": ", 1)[-1]  # the database's address is in the logs
        return f"store DOWN{kept}: {reason}"


class _Down(Exception):
    """The database is unreachable: keep the op, reconnect."""


class PostgresStore:
    """IncidentStore on PostgreSQL, with a local journal and a live in-memory cache."""

    kind = "postgresql"

    def __init__(
        self,
        dsn: str,
        *,
        password: str = "",
        actor: str = "",
        journal_path: str | Path = ":memory:",
        lease: float = 30.0,
        write_wait: float = 1.0,
        op_timeout: float = 3.0,
        presence_interval: float = 5.0,
        connect_timeout: float = 3.0,
        reconnect_delay: float = 0.2,
        start: bool = True,
    ) -> None:
        self.target = Target(dsn, password, connect_timeout=connect_timeout)
        self.actor = actor or "on-call"
        self.session = f"{self.actor}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease = lease
        self.write_wait = write_wait
        self.op_timeout = op_timeout
        self.presence_interval = presence_interval
        self.reconnect_delay = reconnect_delay  # the first retry; doubling up to 2 s
        self.viewing: str | None = None  # the incident this cockpit shows (presence)
        self.cache = Cache()
        self.journal = Journal(journal_path)
        self._waiters: dict[str, concurrent.futures.Future[Any]] = {}
        self._subscribers: list[Callable[[set[str]], None]] = []
        self._status = StoreStatus(False, "connecting", len(self.journal), time.monotonic())
        self._ready = threading.Event()
        self._closing = False
        self._migrated = False
        self._cmd: Any = None
        self._reconnect: asyncio.Event | None = None
        self._drain_wake: asyncio.Event | None = None
        self._pull_wake: asyncio.Event | None = None
        self._db_lock: asyncio.Lock | None = None
        self.reconnects = 0
        self.live = False  # LISTEN is connected: other cockpits' changes arrive as they happen
        self.replayed_after_reconnect = 0  # events a re-read after a reconnect brought in
        self.last_applied_ms = 0.0  # the last op's time on PostgreSQL (diagnostics)
        self._presence_read = time.monotonic()
        for op in self.journal.pending():  # what was written while down, before a restart
            self._apply_locally(op)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="cockpit-store", daemon=True)
        if start:
            self._thread.start()

    # ================================================================= lifecycle

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._reconnect = asyncio.Event()
        self._drain_wake = asyncio.Event()
        self._pull_wake = asyncio.Event()
        self._db_lock = asyncio.Lock()
        self._main = self._loop.create_task(self._supervise())
        self._loop.run_forever()
        # closing: whatever is still running is cancelled and given a moment to finish
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        if pending:
            with contextlib.suppress(Exception):
                self._loop.run_until_complete(asyncio.wait(pending, timeout=2.0))
        self._loop.close()

    def wait_ready(self, timeout: float = 5.0) -> bool:
        """Wait (bounded) for the first connection attempt; True when the store is up."""
        self._ready.wait(timeout)
        return self._status.up

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                self._submit(self._shutdown(), 3.0)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5.0)
        self.journal.close()

    async def _shutdown(self) -> None:
        if self._status.up:  # leave the presence list at once rather than after a minute

            async def leave(conn: Any) -> Any:
                return await conn.execute("DELETE FROM presence WHERE session=%s", (self.session,))

            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._db(leave), 1.0)
        self._main.cancel()
        with contextlib.suppress(BaseException):
            await self._main

    def status(self) -> StoreStatus:
        return replace(self._status, journalled=len(self.journal))

    def describe(self) -> str:
        return f"postgresql {self.target.describe()}"

    def subscribe(self, callback: Callable[[set[str]], None]) -> None:
        """callback(kinds changed) runs on the store's thread after each re-read."""
        self._subscribers.append(callback)

    def _set_status(self, up: bool, reason: str = "") -> None:
        if up != self._status.up or reason != self._status.reason:
            since = time.monotonic() if up != self._status.up else self._status.since
            self._status = StoreStatus(up, reason, len(self.journal), since)
            if not up:
                log.warning("store down: %s", reason)
            self._tell({"status"})

    def _tell(self, kinds: set[str]) -> None:
        for callback in list(self._subscribers):
            try:
                callback(kinds)
            except Exception:  # a subscriber's bug must not stop the store
                log.exception("store subscriber failed")

    def _submit(self, coro: Coroutine[Any, Any, _T], timeout: float) -> _T:
        """Run a coroutine on the store's loop from another thread, waiting at most timeout."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise _Down("called from the store's own thread")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise _Down(f"no answer within {timeout:g} s") from None

    # ================================================================= connection

    async def _close_conn(self, conn: Any) -> None:
        if conn is None:
            return
        with contextlib.suppress(Exception):  # never BaseException: a cancel must go through
            await asyncio.wait_for(conn.close(), 1.0)

    async def _supervise(self) -> None:
        """Keep the command connection; on its loss, reconnect and catch up."""
        assert self._reconnect is not None
        delay = self.reconnect_delay
        first = True
        while not self._closing:
            tasks: list[asyncio.Task[Any]] = []
            try:
                self._cmd = await connect(self.target, application=f"cockpit {self.actor}"[:63])
                if not self._migrated:
                    await migrate(self._cmd)
                    self._migrated = True
                self._reconnect.clear()
                new = await self._pull(initial=first)
                if not first:
                    self.reconnects += 1
                    self.replayed_after_reconnect += new
                first = False
                self._set_status(True)
                self._ready.set()
                delay = self.reconnect_delay
                tasks = [
                    asyncio.create_task(self._listen_forever()),
                    asyncio.create_task(self._drain_loop()),
                    asyncio.create_task(self._pull_loop()),
                    asyncio.create_task(self._heartbeat()),
                    asyncio.create_task(self._reconnect.wait()),
                ]
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                reason = self._status.reason or "connection lost"
                for task in done:
                    exc = task.exception() if not task.cancelled() else None
                    if exc is not None:
                        reason = error_line(exc, self.target)
                self._set_status(False, reason)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._set_status(False, error_line(exc, self.target))
                self._ready.set()
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(BaseException):
                        await task
                cmd, self._cmd = self._cmd, None
                await self._close_conn(cmd)
            if self._closing:
                return
            _still_wanted()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)  # a returning database is noticed within 2 s

    async def _listen_forever(self) -> None:
        """LISTEN on its own connection; after each (re)connect, re-read what was missed."""
        assert self._pull_wake is not None
        delay = self.reconnect_delay
        first = True
        while True:
            conn: Any = None
            try:
                conn = await connect(self.target, application=f"cockpit-listen {self.actor}"[:63])
                await conn.execute(f"LISTEN {CHANNEL}")
                # anything committed between the last read and LISTEN is read now
                new = await self._pull()
                if not first:
                    self.reconnects += 1
                    self.replayed_after_reconnect += new
                first = False
                self.live = True
                delay = self.reconnect_delay
                async for _notify in conn.notifies():
                    self._pull_wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("store: live updates lost: %s", error_line(exc, self.target))
            finally:
                self.live = False
                await self._close_conn(conn)
            _still_wanted()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)  # a returning database is noticed within 2 s

    async def _pull_loop(self) -> None:
        assert self._pull_wake is not None
        while True:
            await self._pull_wake.wait()
            self._pull_wake.clear()  # notifications during the re-read wake it again
            await self._pull()

    async def _heartbeat(self) -> None:
        while True:
            await self._presence()
            await asyncio.sleep(self.presence_interval)

    def _down(self, exc: BaseException) -> None:
        """A command failed on the connection: mark down and make the supervisor reconnect."""
        self._set_status(False, error_line(exc, self.target))
        if self._reconnect is not None:
            self._reconnect.set()

    async def _db(self, work: Callable[[Any], Coroutine[Any, Any, _T]]) -> _T:
        """One unit of work on the command connection, bounded by op_timeout."""
        assert self._db_lock is not None
        conn = self._cmd
        if conn is None or not self._status.up:
            raise _Down(self._status.reason or "not connected")
        async with self._db_lock:
            try:
                return await asyncio.wait_for(work(conn), self.op_timeout)
            except StoreConflict:
                raise
            except Exception as exc:
                if _is_connection_error(exc):
                    self._down(exc)
                    raise _Down(error_line(exc, self.target)) from exc
                raise

    # ================================================================= re-reading

    async def _pull(self, *, initial: bool = False) -> int:
        """Re-read every row newer than the last seq seen; returns how many events were new."""
        from psycopg.rows import dict_row

        conn = self._cmd
        assert conn is not None and self._db_lock is not None
        last = self.cache.last_seq
        async with self._db_lock, conn.transaction():
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            await cur.execute("SELECT value FROM counters WHERE name='change'")
            row = await cur.fetchone()
            seq = int(row["value"]) if row else 0
            if initial and last == 0:
                since = datetime.now(UTC) - timedelta(days=RECENT_DAYS)
                await cur.execute("SELECT * FROM incidents ORDER BY started_at DESC LIMIT 200")
                incidents = await cur.fetchall()
                open_ids = [r["id"] for r in incidents if r["status"] != "resolved"]
                await cur.execute(
                    "SELECT * FROM events WHERE incident_id = ANY(%s)"
                    " OR (incident_id IS NULL AND at >= %s)",
                    (open_ids, since),
                )
                events = await cur.fetchall()
                await cur.execute(
                    "SELECT * FROM outbox WHERE state IN ('pending','sending')"
                    " OR incident_id = ANY(%s)",
                    (open_ids,),
                )
                outbox = await cur.fetchall()
                await cur.execute("SELECT * FROM remote_ids")
                remote = await cur.fetchall()
                loaded: list[str | None] = [*open_ids, None]
            else:
                await cur.execute("SELECT * FROM incidents WHERE seq > %s", (last,))
                incidents = await cur.fetchall()
                await cur.execute("SELECT * FROM events WHERE seq > %s", (last,))
                events = await cur.fetchall()
                await cur.execute("SELECT * FROM outbox WHERE seq > %s", (last,))
                outbox = await cur.fetchall()
                await cur.execute("SELECT * FROM remote_ids WHERE seq > %s", (last,))
                remote = await cur.fetchall()
                loaded = []
        kinds: set[str] = set()
        cache = self.cache
        with cache.lock:
            for r in incidents:
                cache.put_incident(rows.incident_from_row(r))
                kinds.add("incident")
            new = cache.put_events(rows.event_from_row(r) for r in events)
            if events:
                kinds.add("event")
            for r in outbox:
                cache.put_outbox(rows.outbox_from_row(r))
                kinds.add("outbox")
            for r in remote:
                cache.remote_ids[(r["incident_id"], r["system"])] = r["remote_id"]
            cache.loaded.update(loaded)
            cache.last_seq = max(cache.last_seq, seq)
        if kinds:
            self._tell(kinds)
        return new

    async def _presence(self) -> None:
        async def work(conn: Any) -> list[Any]:
            await conn.execute(
                "INSERT INTO presence (session, who, host, incident_id, seen_at)"
                " VALUES (%s,%s,%s,%s,now()) ON CONFLICT (session) DO UPDATE SET"
                " incident_id=excluded.incident_id, seen_at=now()",
                (self.session, self.actor, socket.gethostname(), self.viewing),
            )
            cur = await conn.execute(
                "SELECT session, who, host, incident_id,"
                " extract(epoch FROM now() - seen_at)::float8 FROM presence"
                " WHERE seen_at > now() - make_interval(secs => %s) AND session <> %s",
                (PRESENCE_WINDOW, self.session),
            )
            return list(await cur.fetchall())

        try:
            found = await self._db(work)
        except _Down:
            return
        before = self.cache.presence
        self.cache.presence = [Presence(*r) for r in found]
        self._presence_read = time.monotonic()
        if before or self.cache.presence:  # their ages moved: the panel says how long ago
            self._tell({"presence"})

    def presence(self, incident_id: str | None) -> list[tuple[str, float]]:
        """(who, seconds since last seen) of the other cockpits showing this incident."""
        age = time.monotonic() - self._presence_read
        seen: dict[str, float] = {}
        for p in self.cache.presence:
            if p.incident_id == incident_id and p.who:
                seen[p.who] = min(seen.get(p.who, 1e9), p.seconds_ago + age)
        return sorted(seen.items(), key=lambda item: item[1])

    # ================================================================= the write path

    def _write(self, kind: str, args: dict[str, Any], *, wait: bool = True) -> Any:
        """Journal the op, hand it to the store's thread, wait (bounded) for PostgreSQL.

        Returns PostgreSQL's result, or None when the op stays journalled for later.
        Raises StoreConflict when PostgreSQL refused it for another engineer's change.
        """
        uid = uuid.uuid4().hex
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._waiters[uid] = future  # before the journal: the drainer may take it at once
        op = self.journal.append(Op(uid, kind, args, datetime.now(UTC).isoformat()))
        self._kick()
        if not wait or not self._status.up or threading.current_thread() is self._thread:
            self._waiters.pop(op.uid, None)
            return None
        try:
            return future.result(self.write_wait)
        except concurrent.futures.TimeoutError:
            return None  # still journalled: it will be applied when the database answers
        finally:
            self._waiters.pop(op.uid, None)

    def _kick(self) -> None:
        wake = self._drain_wake
        if wake is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(wake.set)

    async def _drain_loop(self) -> None:
        assert self._drain_wake is not None
        while True:
            await self._drain()
            await self._drain_wake.wait()
            self._drain_wake.clear()

    async def _drain(self) -> None:
        """Apply the journal in order; stop at the first connection failure (kept for later)."""
        while True:
            op = self.journal.first()
            if op is None:
                return
            waiter = self._waiters.get(op.uid)
            try:
                result = await self._db(functools.partial(self._apply, op=op))
            except _Down:
                return
            except StoreConflict as exc:
                self.journal.remove(op.uid)
                if waiter is not None:
                    waiter.set_exception(exc)
                else:  # a replayed change nobody waits for: the timeline says what happened
                    self._conflict_after_replay(op, exc)
                self._pull_wake_set()
                continue
            except Exception as exc:  # data the database refuses for good: say so, drop it
                log.error("store: %s %s refused: %s", op.kind, op.uid, exc)
                self.journal.remove(op.uid)
                if waiter is not None:
                    waiter.set_exception(exc)
                continue
            self.journal.remove(op.uid)
            self._confirm(op, result)
            if waiter is not None and not waiter.done():
                waiter.set_result(result)

    def _pull_wake_set(self) -> None:
        if self._pull_wake is not None:
            self._pull_wake.set()

    def _conflict_after_replay(self, op: Op, exc: StoreConflict) -> None:
        incident_id = op.args.get("id") or op.args.get("incident", {}).get("id")
        self._write(
            "add_event",
            {
                "event": rows.event_json(
                    TimelineEvent(
                        at=datetime.now(UTC),
                        kind=EventKind.ERROR,
                        source="store",
                        actor=self.actor,
                        summary=f"Not applied (made while the store was down): {exc}",
                        incident_id=incident_id
                        if incident_id in self.cache.incidents and op.kind != "create_incident"
                        else None,
                        uid=uuid.uuid4().hex,
                    )
                )
            },
            wait=False,
        )

    # ----------------------------------------------------------------- ops on PostgreSQL

    async def _apply(self, conn: Any, op: Op) -> Any:
        """One op in one transaction: recorded by id, seq taken, rows written, NOTIFY sent."""
        started = time.perf_counter()
        async with conn.transaction():
            cur = await conn.execute(
                "UPDATE counters SET value = value + 1 WHERE name='change' RETURNING value"
            )
            seq = int((await cur.fetchone())[0])
            cur = await conn.execute(
                "INSERT INTO applied_ops (uid, kind, actor) VALUES (%s,%s,%s)"
                " ON CONFLICT (uid) DO NOTHING RETURNING uid",
                (op.uid, op.kind, self.actor),
            )
            if await cur.fetchone() is None:  # applied before (a retry or a replay)
                cur = await conn.execute("SELECT result FROM applied_ops WHERE uid=%s", (op.uid,))
                row = await cur.fetchone()
                return row[0] if row else {}
            handler = getattr(self, f"_op_{op.kind}")
            result, note = await handler(conn, op, seq)
            await conn.execute(
                "UPDATE applied_ops SET result=%s::jsonb WHERE uid=%s",
                (json.dumps(result, default=str), op.uid),
            )
            note["seq"] = seq
            await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, json.dumps(note)))
        self.last_applied_ms = (time.perf_counter() - started) * 1000
        return result

    async def _op_create_incident(self, conn: Any, op: Op, seq: int) -> tuple[Any, dict[str, Any]]:
        data = op.args["incident"]
        names = ["id", *rows.INCIDENT_FIELDS]
        values = [json.dumps(data[n]) if n == "components" else data.get(n) for n in names]
        marks = ["%s::jsonb" if n == "components" else "%s" for n in names]
        cur = await conn.execute(
            f"INSERT INTO incidents ({', '.join(names)}, version, created_by, seq)"
            f" VALUES ({', '.join(marks)}, 1, %s, %s) ON CONFLICT (id) DO NOTHING RETURNING id",
            (*values, op.args.get("actor", self.actor), seq),
        )
        if await cur.fetchone() is None:
            cur = await conn.execute(
                "SELECT created_by, title, extract(epoch FROM now() - started_at)::float8"
                " FROM incidents WHERE id=%s",
                (data["id"],),
            )
            by, title, ago = await cur.fetchone()
            raise StoreConflict(
                f"{by or 'someone'} declared {data['id']} ({title}) {_ago(ago)} ago",
                field="id",
                by=by,
                value=title,
            )
        return {**data, "version": 1}, {"k": "incident", "id": data["id"]}

    async def _op_update_incident(self, conn: Any, op: Op, seq: int) -> tuple[Any, dict[str, Any]]:
        from psycopg.rows import dict_row

        incident_id = op.args["id"]
        base = int(op.args["base_version"])
        changes: dict[str, Any] = op.args["changes"]
        cur = conn.cursor(row_factory=dict_row)
        await cur.execute(
            "SELECT *, extract(epoch FROM now())::float8 AS now_epoch FROM incidents"
            " WHERE id=%s FOR UPDATE",
            (incident_id,),
        )
        row = await cur.fetchone()
        if row is None:
            raise StoreConflict(f"{incident_id} is not in the shared store", field="id")
        current = rows.incident_json(rows.incident_from_row(row))
        changed: dict[str, Any] = dict(row["changed"] or {})
        for name, value in changes.items():
            info = changed.get(name)
            if (
                info
                and int(info.get("version", 0)) > base
                and info.get("session") != op.args.get("session")
                and current[name] != value
            ):
                ago = row["now_epoch"] - datetime.fromisoformat(info["at"]).timestamp()
                shown = current[name]
                shown = ", ".join(shown) if isinstance(shown, list) else shown
                raise StoreConflict(
                    f"{info.get('by') or 'someone'} changed {_field_name(name)} of"
                    f" {incident_id} to {shown} {_ago(ago)} ago; your change was not applied",
                    field=name,
                    by=str(info.get("by") or ""),
                    value=str(shown),
                )
        version = int(row["version"]) + 1
        now = datetime.now(UTC).isoformat()
        for name in changes:
            changed[name] = {
                "by": op.args.get("actor", self.actor),
                "session": op.args.get("session"),
                "at": now,
                "version": version,
            }
        sets = ", ".join(
            f"{name}=%s::jsonb" if name == "components" else f"{name}=%s" for name in changes
        )
        values = [json.dumps(v) if n == "components" else v for n, v in changes.items()]
        await conn.execute(
            f"UPDATE incidents SET {sets}{', ' if sets else ''}version=%s, changed=%s::jsonb,"
            " seq=%s WHERE id=%s",
            (*values, version, json.dumps(changed), seq, incident_id),
        )
        return {**current, **changes, "version": version}, {"k": "incident", "id": incident_id}

    async def _op_add_event(self, conn: Any, op: Op, seq: int) -> tuple[Any, dict[str, Any]]:
        import psycopg

        data = op.args["event"]
        params = (
            seq,
            data["uid"],
            data["at"],
            data["kind"],
            data["source"],
            data["actor"],
            data["summary"],
            json.dumps(data["details"], default=str),
            bool(data["pinned"]),
            seq,
        )
        sql = (
            "INSERT INTO events (id, uid, incident_id, at, kind, source, actor, summary,"
            " details, pinned, seq) VALUES (%s,%s,{incident},%s,%s,%s,%s,%s,%s::jsonb,%s,%s)"
            " ON CONFLICT (uid) DO NOTHING"
        )
        incident_id = data.get("incident_id")
        try:
            async with conn.transaction():  # a savepoint: the fallback below can still run
                await conn.execute(
                    sql.format(incident="%s"), (params[0], params[1], incident_id, *params[2:])
                )
        except psycopg.errors.ForeignKeyViolation:
            # its incident never reached the shared store (its declaration was refused):
            # keep the event, on the shift log
            await conn.execute(sql.format(incident="NULL"), params)
        # the same event written before under another op (a retry): that row stands
        cur = await conn.execute("SELECT id, incident_id FROM events WHERE uid=%s", (data["uid"],))
        event_id, incident_id = await cur.fetchone()
        return {"id": event_id, "incident_id": incident_id}, {"k": "event", "id": event_id}

    async def _op_adopt_shift_log(self, conn: Any, op: Op, seq: int) -> tuple[Any, dict[str, Any]]:
        cur = await conn.execute(
            "UPDATE events SET incident_id=%s, seq=%s WHERE incident_id IS NULL AND at >= %s",
            (op.args["incident_id"], seq, op.args["since"]),
        )
        return {"count": cur.rowcount}, {"k": "event", "adopted": op.args["incident_id"]}

    async def _op_outbox_enqueue(self, conn: Any, op: Op, seq: int) -> tuple[Any, dict[str, Any]]:
        a = op.args
        await conn.execute(
            "INSERT INTO outbox (kind, incident_id, idempotency_key, payload, state, attempts,"
            " next_attempt_at, created_at, seq) VALUES (%s,%s,%s,%s::jsonb,'pending',0,%s,%s,%s)"
            " ON CONFLICT (idempotency_key) DO NOTHING",
            (
                a["kind"],
                a["incident_id"],
                a["key"],
                json.dumps(a["payload"]),
                a["now"],
                a["now"],
                seq,
            ),
        )
        cur = await conn.execute("SELECT id FROM outbox WHERE idempotency_key=%s", (a["key"],))
        item_id = int((await cur.fetchone())[0])
        return {"id": item_id}, {"k": "outbox", "id": item_id}

    async def _op_set_remote_id(self, conn: Any, op: Op, seq: int) -> tuple[Any, dict[str, Any]]:
        a = op.args
        await conn.execute(
            "INSERT INTO remote_ids (incident_id, system, remote_id, seq) VALUES (%s,%s,%s,%s)"
            " ON CONFLICT (incident_id, system) DO UPDATE SET remote_id=excluded.remote_id,"
            " seq=excluded.seq",
            (a["incident_id"], a["system"], a["remote_id"], seq),
        )
        return {}, {"k": "remote_id", "id": a["incident_id"]}

    # ----------------------------------------------------------------- results into the cache

    def _apply_locally(self, op: Op) -> Any:
        """What a journalled op looks like before PostgreSQL has it (shown on screen)."""
        cache = self.cache
        a = op.args
        if op.kind == "create_incident":
            incident = rows.incident_from_json({**a["incident"], "version": 1})
            cache.put_incident(incident, confirmed=False)
            return incident
        if op.kind == "update_incident":
            known = cache.incidents.get(a["id"])
            if known is None:
                return None
            values = {n: rows.field_value(n, v) for n, v in a["changes"].items()}
            incident = replace(known, **values, version=known.version + 1)
            cache.put_incident(incident, confirmed=False)
            return incident
        if op.kind == "add_event":
            event = rows.event_from_json(a["event"], cache.local_id())
            cache.put_events([event], confirmed=False)
            return event
        if op.kind == "adopt_shift_log":
            return cache.adopt(a["incident_id"], rows.when(a["since"]))
        if op.kind == "outbox_enqueue":
            from cockpit.incident.outbox import PENDING, OutboxItem

            now = rows.when(a["now"]) or datetime.now(UTC)
            item = OutboxItem(
                cache.local_id(), a["kind"], a["incident_id"], a["key"], a["payload"],
                PENDING, 0, "", now, now,
            )  # fmt: skip
            cache.put_outbox(item, confirmed=False)
            return cache.outbox[a["key"]]
        if op.kind == "set_remote_id":
            cache.remote_ids[(a["incident_id"], a["system"])] = a["remote_id"]
        return None

    def _confirm(self, op: Op, result: Any) -> None:
        """PostgreSQL's answer replaces the local copy at once (the re-read follows)."""
        cache = self.cache
        a = op.args
        if op.kind in ("create_incident", "update_incident"):
            cache.put_incident(rows.incident_from_json(result))
        elif op.kind == "add_event":
            event = rows.event_from_json(
                {**a["event"], "incident_id": result.get("incident_id")}, int(result["id"])
            )
            cache.put_events([event])
        elif op.kind == "adopt_shift_log":
            cache.adopt(a["incident_id"], rows.when(a["since"]))
        elif op.kind == "set_remote_id":
            cache.remote_ids[(a["incident_id"], a["system"])] = a["remote_id"]

    # ================================================================= IncidentStore

    def next_incident_id(self, now: datetime) -> str:
        prefix = f"INC-{now.year}-"
        with self.cache.lock:
            numbers = [
                int(i.rsplit("-", 1)[1]) for i in self.cache.incidents if i.startswith(prefix)
            ]
        if self._status.up:
            with contextlib.suppress(_Down, Exception):
                numbers.append(self._submit(self._max_number(prefix), self.write_wait))
        return f"{prefix}{max(numbers, default=0) + 1:04d}"

    async def _max_number(self, prefix: str) -> int:
        async def work(conn: Any) -> int:
            cur = await conn.execute(
                "SELECT id FROM incidents WHERE id LIKE %s ORDER BY id DESC LIMIT 1",
                (prefix + "%",),
            )
            row = await cur.fetchone()
            return int(row[0].rsplit("-", 1)[1]) if row else 0

        return await self._db(work)

    def create_incident(self, incident: Incident) -> Incident:
        data = rows.incident_json(incident)
        args = {"incident": data, "actor": self.actor}
        op_local = rows.incident_from_json({**data, "version": 1})
        result = self._write("create_incident", args)
        if result is None:
            self.cache.put_incident(op_local, confirmed=False)
            return op_local
        return self.cache.incidents.get(incident.id, op_local)

    def update_incident(self, incident: Incident) -> Incident:
        base = self.cache.base(incident)
        changes = {
            name: rows.field_json(name, getattr(incident, name))
            for name in rows.INCIDENT_FIELDS
            if getattr(incident, name) != getattr(base, name)
        }
        if not changes:
            return self.cache.incidents.get(incident.id, incident)
        args = {
            "id": incident.id,
            "base_version": base.version,
            "changes": changes,
            "actor": self.actor,
            "session": self.session,
        }
        result = self._write("update_incident", args)
        if result is None:
            values = {n: rows.field_value(n, v) for n, v in changes.items()}
            local = replace(base, **values, version=max(base.version, 0) + 1)
            self.cache.put_incident(local, confirmed=False)
            return local
        return self.cache.incidents.get(incident.id) or rows.incident_from_json(result)

    def get_incident(self, incident_id: str) -> Incident | None:
        found = self.cache.incidents.get(incident_id)
        if found is None and self._status.up:
            with contextlib.suppress(_Down, Exception):
                self._submit(self._load_incident(incident_id), self.op_timeout)
            found = self.cache.incidents.get(incident_id)
        return found

    def current_incident(self) -> Incident | None:
        return self.cache.current()

    def active_incidents(self) -> list[Incident]:
        return self.cache.active()

    def incidents(self, limit: int = 50) -> list[Incident]:
        return self.cache.recent(limit)

    def add_event(self, event: TimelineEvent) -> TimelineEvent:
        if not event.uid:
            event = replace(event, uid=uuid.uuid4().hex)
        args = {"event": rows.event_json(event)}
        result = self._write("add_event", args)
        if result is None:
            local = rows.event_from_json(args["event"], self.cache.local_id())
            self.cache.put_events([local], confirmed=False)
            return self.cache.events.get(event.uid, local)
        return self.cache.events[event.uid]

    def add_event_in(self, transaction: Any, event: TimelineEvent) -> TimelineEvent:
        """The shared store holds no transaction for its callers: the shared outbox commits a
        result and its timeline event together itself (outbox_update(event=...)). Anything
        else asking for this gets the event written on its own."""
        return self.add_event(event)

    def timeline(self, incident_id: str | None, limit: int = 500) -> list[TimelineEvent]:
        """Newest first."""
        self.ensure_loaded(incident_id)
        return self.cache.timeline(incident_id, limit)

    def ensure_loaded(self, incident_id: str | None) -> None:
        """A past incident's whole record, read once (bounded) into the cache."""
        if incident_id not in self.cache.loaded and self._status.up:
            with contextlib.suppress(_Down, Exception):
                self._submit(self._load_incident(incident_id), self.op_timeout)

    async def _load_incident(self, incident_id: str | None) -> None:
        """A past incident (post-mortem, history) and its whole timeline, read once."""
        from psycopg.rows import dict_row

        async def work(conn: Any) -> tuple[list[Any], list[Any], list[Any]]:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute("SELECT * FROM incidents WHERE id=%s", (incident_id,))
            found = await cur.fetchall()
            await cur.execute(
                "SELECT * FROM events WHERE incident_id IS NOT DISTINCT FROM %s", (incident_id,)
            )
            events = await cur.fetchall()
            await cur.execute("SELECT * FROM outbox WHERE incident_id=%s", (incident_id,))
            return found, events, await cur.fetchall()

        found, events, outbox = await self._db(work)
        for r in found:
            self.cache.put_incident(rows.incident_from_row(r))
        self.cache.put_events(rows.event_from_row(r) for r in events)
        for r in outbox:
            self.cache.put_outbox(rows.outbox_from_row(r))
        self.cache.loaded.add(incident_id)

    def adopt_shift_log(self, incident_id: str, since: datetime) -> int:
        args = {"incident_id": incident_id, "since": rows.iso(since)}
        result = self._write("adopt_shift_log", args)
        if result is None:
            return int(self.cache.adopt(incident_id, since))
        return int(result.get("count", 0))

    def events_between(self, since: datetime, until: datetime) -> list[TimelineEvent]:
        """From PostgreSQL (a shift's worth may be far more than the screen holds); from the
        screen's copy while the database cannot be asked."""
        from psycopg.rows import dict_row

        async def work(conn: Any) -> list[Any]:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "SELECT * FROM events WHERE at >= %s AND at < %s ORDER BY at, id", (since, until)
            )
            return list(await cur.fetchall())

        try:
            found = self._submit(self._db(work), self.op_timeout + 0.5)
        except (_Down, Exception):
            with self.cache.lock:
                events = [e for e in self.cache.events.values() if since <= e.at < until]
            return sorted(events, key=lambda e: (e.at, e.id or 0))
        return [rows.event_from_row(r) for r in found]

    # ================================================================= alert history
    # Written straight to PostgreSQL by each cockpit's alert poll (the natural key makes two
    # cockpits recording the same firing one row); while the database cannot be asked these
    # raise StoreUnavailable and the recorder tries again at the next poll.

    def _history(self, work: Callable[[Any], Coroutine[Any, Any, _T]]) -> _T:
        try:
            return self._submit(self._db(work), self.op_timeout + 0.5)
        except _Down as exc:
            raise StoreUnavailable(f"store DOWN: {self._status.reason or exc}") from None

    def open_alerts(self) -> list[AlertRecord]:
        from psycopg.rows import dict_row

        async def work(conn: Any) -> list[AlertRecord]:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute("SELECT * FROM alerts WHERE resolved_at IS NULL ORDER BY id")
            return [rows.alert_from_row(r) for r in await cur.fetchall()]

        return self._history(work)

    def save_alert_sightings(
        self,
        new: Sequence[AlertRecord],
        seen: Sequence[tuple[int, datetime]],
        resolved: Sequence[tuple[int, datetime]],
    ) -> list[AlertRecord]:
        from psycopg.rows import dict_row

        async def work(conn: Any) -> list[AlertRecord]:
            stored: list[AlertRecord] = []
            async with conn.transaction():
                cur = conn.cursor(row_factory=dict_row)
                for r in new:
                    await cur.execute(
                        "INSERT INTO alerts (cluster, fingerprint, starts_at, name, labels,"
                        " group_key, severity, team, first_seen, last_seen, resolved_at)"
                        " VALUES (%s,%s,%s,%s,%s::jsonb,%s,%s,%s,%s,%s,%s)"
                        " ON CONFLICT (cluster, fingerprint, starts_at) DO UPDATE SET"
                        " resolved_at = NULL, last_seen = excluded.last_seen RETURNING *",
                        (
                            r.cluster, r.fingerprint, r.starts_at, r.name,
                            json.dumps(dict(r.labels), sort_keys=True), r.group_key,
                            r.severity, r.team, r.first_seen, r.last_seen, r.resolved_at,
                        ),
                    )  # fmt: skip
                    row = await cur.fetchone()
                    stored.append(rows.alert_from_row(row))
                if seen:
                    await cur.executemany(
                        "UPDATE alerts SET last_seen=greatest(last_seen, %s) WHERE id=%s",
                        [(at, i) for i, at in seen],
                    )
                if resolved:
                    await cur.executemany(
                        "UPDATE alerts SET resolved_at=%s WHERE id=%s AND resolved_at IS NULL",
                        [(at, i) for i, at in resolved],
                    )
            return stored

        return self._history(work)

    def alert_history(
        self, since: datetime, until: datetime | None = None, *, group_key: str | None = None
    ) -> list[AlertRecord]:
        from psycopg.rows import dict_row

        sql = "SELECT * FROM alerts WHERE (resolved_at IS NULL OR resolved_at >= %s)"
        params: list[Any] = [since]
        if until is not None:
            sql += " AND starts_at < %s"
            params.append(until)
        if group_key is not None:
            sql += " AND group_key = %s"
            params.append(group_key)

        async def work(conn: Any) -> list[AlertRecord]:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(sql + " ORDER BY starts_at, id", params)
            return [rows.alert_from_row(r) for r in await cur.fetchall()]

        return self._history(work)

    # ================================================================= outbox rows

    def outbox_enqueue(
        self,
        kind: str,
        incident_id: str,
        payload: dict[str, Any],
        key: str,
        now: datetime,
    ) -> Any:
        args = {
            "kind": kind,
            "incident_id": incident_id,
            "payload": json.loads(json.dumps(payload, default=str)),
            "key": key,
            "now": rows.iso(now),
        }
        known = self.cache.outbox.get(key)
        if known is not None:
            return known
        result = self._write("outbox_enqueue", args)
        if result is not None:
            self._fetch_outbox(int(result["id"]))
        if key not in self.cache.outbox:
            self._apply_locally(Op("local", "outbox_enqueue", args, ""))
        return self.cache.outbox[key]

    def _fetch_outbox(self, item_id: int) -> Any:
        with contextlib.suppress(_Down, Exception):
            return self._submit(self._outbox_row(item_id), self.op_timeout)
        return None

    async def _outbox_row(self, item_id: int) -> Any:
        from psycopg.rows import dict_row

        async def work(conn: Any) -> Any:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute("SELECT * FROM outbox WHERE id=%s", (item_id,))
            row = await cur.fetchone()
            return rows.outbox_from_row(row) if row else None

        item = await self._db(work)
        if item is not None:
            self.cache.put_outbox(item)
        return item

    def outbox_update(
        self, sql: str, params: dict[str, Any], event: TimelineEvent | None = None
    ) -> Any:
        """A claim or a result: straight to PostgreSQL (never journalled, never blind).

        `sql` is an UPDATE outbox ... RETURNING * using %(seq)s and %(id)s among its params.
        `event` (a result's timeline event) is committed in the same transaction, and only
        when the update changed the row. Returns the changed row as an OutboxItem (with
        .event), or None when it changed nothing. Raises StoreUnavailable when the database
        cannot be asked.
        """
        if event is not None and not event.uid:
            event = replace(event, uid=uuid.uuid4().hex)

        async def work(conn: Any) -> Any:
            from psycopg.rows import dict_row

            async with conn.transaction():
                cur = await conn.execute(
                    "UPDATE counters SET value = value + 1 WHERE name='change' RETURNING value"
                )
                seq = int((await cur.fetchone())[0])
                dcur = conn.cursor(row_factory=dict_row)
                await dcur.execute(sql, {**params, "seq": seq})
                row = await dcur.fetchone()
                if row is None:
                    return None
                item = rows.outbox_from_row(row)
                remote = item.result_ids.get("remote_id")
                if row["kind"] == "customer_update" and remote:
                    await conn.execute(
                        "INSERT INTO remote_ids (incident_id, system, remote_id, seq)"
                        " VALUES (%s,'statuspage',%s,%s) ON CONFLICT (incident_id, system)"
                        " DO UPDATE SET remote_id=excluded.remote_id, seq=excluded.seq",
                        (item.incident_id, remote, seq),
                    )
                    self.cache.remote_ids[(item.incident_id, "statuspage")] = remote
                if event is not None:
                    data = rows.event_json(event)
                    await conn.execute(
                        "INSERT INTO events (id, uid, incident_id, at, kind, source, actor,"
                        " summary, details, pinned, seq)"
                        " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s::jsonb,%s,%s)",
                        (
                            seq, data["uid"], data["incident_id"], data["at"], data["kind"],
                            data["source"], data["actor"], data["summary"],
                            json.dumps(data["details"], default=str), data["pinned"], seq,
                        ),
                    )  # fmt: skip
                    item = replace(item, event=rows.event_from_json(data, seq))
                note = {"k": "outbox", "id": item.id, "seq": seq}
                await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, json.dumps(note)))
            self.cache.put_outbox(item)
            if item.event is not None:
                self.cache.put_events([item.event])
            return item

        try:
            return self._submit(self._db(work), self.op_timeout + 0.5)
        except _Down as exc:
            raise StoreUnavailable(f"store DOWN: {self._status.reason or exc}") from None

    def remote_id(self, incident_id: str, system: str = "statuspage") -> str | None:
        return self.cache.remote_ids.get((incident_id, system))

    def set_remote_id(self, incident_id: str, system: str, remote_id: str) -> None:
        args = {"incident_id": incident_id, "system": system, "remote_id": remote_id}
        self._apply_locally(Op("local", "set_remote_id", args, ""))
        self._write("set_remote_id", args)


class StoreUnavailable(Exception):
    """The shared store cannot be asked right now (the outbox waits for it)."""


def _still_wanted() -> None:
    """Raise CancelledError when this task was cancelled even though the cancellation was
    swallowed on the way (asyncio.wait_for can lose one that races with its inner result)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _is_connection_error(exc: BaseException) -> bool:
    import psycopg

    return isinstance(
        exc,
        psycopg.OperationalError | psycopg.InterfaceError | TimeoutError | asyncio.TimeoutError,
    )


def _ago(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _field_name(name: str) -> str:
    return {
        "last_customer_update_at": "the last customer update",
        "next_update_due": "the next update promise",
        "closed_at": "closed",
        "customer_title": "the customer-facing title",
    }.get(name, name)
