"""`cockpit doctor` on the shared store: reachable, migrated, and LISTEN/NOTIFY working."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass

from cockpit.incident.postgres.connection import Target, connect, error_line
from cockpit.incident.postgres.migrations import LATEST, schema_version


@dataclass(frozen=True)
class Diagnosis:
    reachable: bool
    problem: str = ""  # why not, one line, no password
    server: str = ""  # "PostgreSQL 15.4"
    version: int = 0  # newest applied migration
    latest: int = LATEST  # newest this cockpit knows
    listen_ms: float | None = None  # NOTIFY heard back after this long; None: not heard


async def diagnose(target: Target) -> Diagnosis:
    try:
        conn = await connect(target, application="cockpit-doctor")
    except Exception as exc:
        return Diagnosis(False, error_line(exc, target))
    try:
        cursor = await conn.execute("SHOW server_version")
        row = await cursor.fetchone()
        server = f"PostgreSQL {row[0].split()[0]}" if row else "PostgreSQL"
        version = await schema_version(conn)
        channel = f"cockpit_doctor_{uuid.uuid4().hex[:8]}"
        await conn.execute(f"LISTEN {channel}")
        started = time.perf_counter()
        await conn.execute("SELECT pg_notify(%s, 'ping')", (channel,))
        heard = None
        async for _notify in conn.notifies(timeout=2.0, stop_after=1):
            heard = (time.perf_counter() - started) * 1000
        return Diagnosis(True, "", server, version, LATEST, heard)
    except Exception as exc:
        return Diagnosis(True, error_line(exc, target), version=0)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(conn.close(), 1.0)


def diagnose_now(target: Target) -> Diagnosis:
    """From a thread without a loop (doctor's pool)."""
    return asyncio.run(diagnose(target))
