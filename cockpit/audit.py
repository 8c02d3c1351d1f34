"""The audit log: one JSON line per action attempt and outcome, on disk before we move on.

Each record is appended with a single write, then flushed and fsync'd before record()
returns, so a line the user was told about survives a crash or a dropped SSH session.
Secret values are blanked out of every field. The file is private to the user (0600).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cockpit.config import data_dir


class AuditError(Exception):
    """The audit log could not be written; str() is one clear line."""


def default_audit_path() -> Path:
    return data_dir() / "audit.jsonl"


def _redact_value(value: Any, redact: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(str(k)): _redact_value(v, redact) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact_value(v, redact) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


class AuditLog:
    """Append-only JSON-lines audit log; thread-safe."""

    def __init__(
        self,
        path: Path,
        *,
        env: str,
        redact: Callable[[str], str],
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.path = Path(path)
        self.env = env
        self._redact = redact
        self._now = now or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._fd: int | None = None

    def _open(self) -> int:
        if self._fd is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                # an older file (or a umask-less copy) may be wider: the log names who did what
                os.fchmod(fd, 0o600)
            except OSError as exc:
                raise AuditError(f"cannot open audit log {self.path}: {exc.strerror}") from None
            self._fd = fd
        return self._fd

    def record(
        self,
        actor: str,
        action: str,
        target: str,
        outcome: str,
        ids: dict[str, Any] | None = None,
        detail: str = "",
    ) -> None:
        """Append one line and fsync it before returning. Raises AuditError on failure."""
        entry = {
            "time": self._now().astimezone(UTC).isoformat(timespec="milliseconds"),
            "actor": actor,
            "env": self.env,
            "action": action,
            "target": target,
            "outcome": outcome,
            "ids": ids or {},
            "detail": detail,
        }
        clean = _redact_value(entry, self._redact)
        # redact fields, not the serialized line: a replacement there could break the JSON
        data = (json.dumps(clean, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            fd = self._open()
            try:
                written = 0
                while written < len(data):
                    written += os.write(fd, data[written:])
                os.fsync(fd)
            except OSError as exc:
                raise AuditError(f"cannot write audit log {self.path}: {exc.strerror}") from None

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_audit(path: Path) -> Iterator[dict[str, Any]]:
    """Every record in an audit log, oldest first (a torn last line is skipped)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return
    for line in text.splitlines():
        try:
            yield json.loads(line)
        except json.JSONDecodeError:
            continue
