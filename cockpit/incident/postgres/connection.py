"""Connecting to PostgreSQL with bounded timeouts; the password never reaches a message.

The password comes from a secret (resolved like every other secret) and is handed to
libpq as a separate parameter, never pasted into the DSN, so `describe()`, errors, logs and
the header only ever show user@host:port/dbname.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

CONNECT_TIMEOUT = 3.0  # seconds: the cockpit must not hang on a black-holed database


@dataclass(frozen=True)
class Target:
    dsn: str
    password: str = field(default="", repr=False)
    connect_timeout: float = CONNECT_TIMEOUT
    statement_timeout_ms: int = 5000

    def describe(self) -> str:
        """user@host:port/dbname, with no password even when the DSN held one."""
        return describe_dsn(self.dsn)

    def redact(self, text: str) -> str:
        """An error's text without the password or the DSN's secret parts."""
        text = str(text)
        for secret in (self.password, _dsn_password(self.dsn)):
            if secret:
                text = text.replace(secret, "***")
        return text


def _parts(dsn: str) -> dict[str, str]:
    from psycopg.conninfo import conninfo_to_dict

    try:
        return {k: str(v) for k, v in conninfo_to_dict(dsn).items() if v is not None}
    except Exception:
        return {}


def _dsn_password(dsn: str) -> str:
    return _parts(dsn).get("password", "")


def describe_dsn(dsn: str) -> str:
    parts = _parts(dsn)
    if not parts:
        return "postgresql (unparsable DSN)"
    user = parts.get("user", "")
    host = parts.get("host", "localhost")
    port = parts.get("port", "5432")
    dbname = parts.get("dbname", user)
    return f"{user + '@' if user else ''}{host}:{port}/{dbname}"


def error_line(exc: BaseException, target: Target) -> str:
    """One short line for a connection or query failure."""
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return f"{target.describe()}: no answer within {target.connect_timeout:g} s"
    text = str(exc).strip() or type(exc).__name__
    # libpq repeats the server address and adds hints on further lines; keep the reason
    if "failed:" in text:
        text = text.rsplit("failed:", 1)[1].strip() or text
    text = " ".join(text.splitlines()[0].split()) if text.strip() else type(exc).__name__
    return target.redact(f"{target.describe()}: {text}")[:200]


async def connect(target: Target, *, application: str = "cockpit") -> Any:
    """An autocommit AsyncConnection in UTC with a server-side statement timeout."""
    import psycopg

    kwargs: dict[str, Any] = {
        "autocommit": True,
        "connect_timeout": max(int(target.connect_timeout + 0.999), 1),
        "application_name": application,
        "options": f"-c TimeZone=UTC -c statement_timeout={target.statement_timeout_ms}",
        # a dead peer is noticed in seconds, not after the kernel's 2-hour default
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 2,
        "tcp_user_timeout": int(target.connect_timeout * 1000) + 2000,
    }
    if target.password:
        kwargs["password"] = target.password
    return await asyncio.wait_for(
        psycopg.AsyncConnection.connect(target.dsn, **kwargs), target.connect_timeout + 1
    )
