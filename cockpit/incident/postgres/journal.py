"""The local journal: every write to the shared store is committed here first.

One SQLite file on the jump host. An op is appended (with the id its cockpit gave it)
before PostgreSQL sees it and removed once PostgreSQL has committed it, so a write made
while the database is down, or in flight when the cockpit died, is replayed when the
database is back. Replays are harmless: PostgreSQL records every applied op id.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS ops (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    args TEXT NOT NULL,
    at TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class Op:
    uid: str
    kind: str
    args: dict[str, Any]
    at: str  # when the cockpit made it (ISO, UTC)
    n: int = 0


class Journal:
    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # journalled means on disk
        self._db.executescript(SCHEMA)

    def append(self, op: Op) -> Op:
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO ops (uid, kind, args, at) VALUES (?,?,?,?)",
                (op.uid, op.kind, json.dumps(op.args, sort_keys=True, default=str), op.at),
            )
            n = cursor.lastrowid if cursor.rowcount else self._n(op.uid)
        return Op(op.uid, op.kind, op.args, op.at, int(n or 0))

    def _n(self, uid: str) -> int:
        row = self._db.execute("SELECT n FROM ops WHERE uid=?", (uid,)).fetchone()
        return int(row[0]) if row else 0

    def pending(self, limit: int = 1000) -> list[Op]:
        """Oldest first: ops are replayed in the order they were made."""
        with self._lock:
            rows = self._db.execute(
                "SELECT n, uid, kind, args, at FROM ops ORDER BY n LIMIT ?", (limit,)
            ).fetchall()
        return [Op(uid, kind, json.loads(args), at, int(n)) for n, uid, kind, args, at in rows]

    def first(self) -> Op | None:
        ops = self.pending(1)
        return ops[0] if ops else None

    def remove(self, uid: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM ops WHERE uid=?", (uid,))

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM ops").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
