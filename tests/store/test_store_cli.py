"""`cockpit store migrate --from`, `cockpit doctor` on the shared store, and the config."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cockpit.config import ConfigError, parse_config
from cockpit.doctor import check_store
from cockpit.domain import Escalation, EventKind, Incident, IncidentStatus, Severity, TimelineEvent
from cockpit.incident.outbox import ESCALATION, Outbox, escalation_payload
from cockpit.incident.postgres import PostgresStore
from cockpit.incident.postgres.copy import store_main
from cockpit.incident.postmortem import main as postmortem_main
from cockpit.incident.store import SQLiteStore
from cockpit.secrets import SecretResolver

pytestmark = pytest.mark.server

SQL = Callable[..., list[tuple[Any, ...]]]


def shared_config(dsn: str, **store: Any) -> Any:
    return parse_config({"store": {"kind": "postgresql", "dsn": dsn, **store}})


def local_store(path: Path, incident_id: str = "INC-2026-0001", title: str = "Checkout") -> None:
    store = SQLiteStore(path)
    at = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    store.create_incident(
        Incident(incident_id, title, Severity.SEV1, IncidentStatus.INVESTIGATING, "alice", at)
    )
    for i in range(3):
        store.add_event(
            TimelineEvent(
                at, EventKind.NOTE, "cockpit", "alice", f"note {i}", incident_id=incident_id
            )
        )
    store.add_event(TimelineEvent(at, EventKind.NOTE, "cockpit", "alice", "shift log note"))
    outbox = Outbox(store)
    page = escalation_payload(Escalation(incident_id, "db", "SEV1", title))
    outbox.enqueue(ESCALATION, incident_id, page, f"esc-{title}", at)
    store.close()


def test_migrate_from_sqlite_copies_once(
    pg_dsn: str, tmp_path: Path, sql: SQL, capsys: pytest.CaptureFixture[str]
) -> None:
    local_store(tmp_path / "a.sqlite3")
    config = shared_config(pg_dsn)
    assert store_main(["migrate", "--from", str(tmp_path / "a.sqlite3")], config) == 0
    assert "copied 1 incidents, 4 events, 1 outbox items (0 already there)" in (
        capsys.readouterr().out
    )
    assert store_main(["migrate", "--from", str(tmp_path / "a.sqlite3")], config) == 0
    assert "copied 0 incidents, 0 events, 0 outbox items (6 already there)" in (
        capsys.readouterr().out
    )
    assert sql("SELECT count(*) FROM events") == [(4,)]
    # another engineer's local file also has an INC-2026-0001: a different incident
    local_store(tmp_path / "b.sqlite3", title="Login slow")
    assert store_main(["migrate", "--from", str(tmp_path / "b.sqlite3")], config) == 0
    assert "INC-2026-0001 is INC-2026-0002 in the shared store" in capsys.readouterr().out
    assert sql("SELECT id, title FROM incidents ORDER BY id") == [
        ("INC-2026-0001", "Checkout"),
        ("INC-2026-0002", "Login slow"),
    ]
    assert sql("SELECT count(*) FROM events WHERE incident_id='INC-2026-0002'") == [(3,)]
    # and a cockpit on the shared store sees it all, the post-mortem included
    store = PostgresStore(pg_dsn, actor="carol", journal_path=tmp_path / "j.sqlite3")
    try:
        assert store.wait_ready(5)
        assert [e.summary for e in store.timeline("INC-2026-0002")] == [
            "note 2",
            "note 1",
            "note 0",
        ]
        out = tmp_path / "pm.md"
        assert postmortem_main(["INC-2026-0002", "-o", str(out)], store_path="", shared=store) == 0
        assert "# Post-mortem: INC-2026-0002 Login slow" in out.read_text()
    finally:
        store.close()


def test_migrate_needs_a_shared_store_and_a_file(tmp_path: Path, pg_dsn: str) -> None:
    err = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("sys.stderr", err)
        assert store_main(["migrate", "--from", "x"], parse_config({})) == 2
        assert store_main(["migrate", "--from", str(tmp_path / "none")], shared_config(pg_dsn)) == 2
    assert 'not kind = "postgresql"' in err.getvalue()
    assert "no incident store at" in err.getvalue()


def test_doctor_checks_reachable_migrated_and_listen(pg_dsn: str, tmp_path: Path) -> None:
    resolver = SecretResolver(env={}, prompt=False)
    before = {c.name: c for c in check_store(shared_config(pg_dsn), resolver)}
    assert before["store"].verdict == "ok" and "PostgreSQL" in before["store"].detail
    assert before["store schema"].verdict == "WARN"  # empty: the cockpit migrates it
    assert before["store live"].verdict == "ok"
    store = PostgresStore(pg_dsn, journal_path=tmp_path / "j.sqlite3")
    assert store.wait_ready(5)  # migrated
    store.close()
    after = {c.name: c for c in check_store(shared_config(pg_dsn), resolver)}
    assert after["store schema"].verdict == "ok"
    assert "LISTEN/NOTIFY round trip" in after["store live"].detail


def test_doctor_on_an_unreachable_store_fails_fast() -> None:
    import socket
    import time

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    config = shared_config(f"postgresql://postgres@127.0.0.1:{port}/x", password_secret="db-pw")
    resolver = SecretResolver(env={"COCKPIT_SECRET_DB_PW": "s3cret-pw"}, prompt=False)
    started = time.monotonic()
    [check] = check_store(config, resolver)
    assert time.monotonic() - started < 4
    assert check.verdict == "FAIL" and "refused" in check.detail.lower()
    assert "s3cret" not in check.detail


def test_store_config_is_checked() -> None:
    with pytest.raises(ConfigError, match=r"store\.kind: expected 'sqlite' or 'postgresql'"):
        parse_config({"store": {"kind": "mysql"}})
    with pytest.raises(ConfigError, match=r"store\.dsn: is required"):
        parse_config({"store": {"kind": "postgresql"}})
    with pytest.raises(ConfigError, match="holds a password"):
        parse_config({"store": {"kind": "postgresql", "dsn": "postgresql://u:pw@db/x"}})
    config = shared_config("postgresql://cockpit@db:5432/oncall", password_secret="store-pw")
    assert config.store.password_secret == "store-pw"
    assert "store-pw" in config.secret_names()


def test_the_sqlite_default_never_imports_psycopg(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from cockpit.config import parse_config\n"
        "from cockpit.runtime import build_runtime\n"
        f"config = parse_config({{'store': {{'path': {str(tmp_path / 'c.sqlite3')!r}}}}})\n"
        "runtime = build_runtime(config)\n"
        "print(type(runtime.store).__name__, 'psycopg' in sys.modules)\n"
    )
    env = {"XDG_DATA_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.stdout.split() == ["SQLiteStore", "False"], out.stderr[-2000:]


def test_cockpit_store_migrate_from_the_command_line(
    pg_dsn: str, tmp_path: Path, sql: SQL, capsys: pytest.CaptureFixture[str]
) -> None:
    from cockpit.cli import main

    local_store(tmp_path / "a.sqlite3")
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\nkind = "postgresql"\ndsn = "{pg_dsn}"\n')
    argv = ["store", "migrate", "--from", str(tmp_path / "a.sqlite3"), "--config", str(config)]
    assert main(argv) == 0
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert "copied 1 incidents, 4 events" in out[0] and "copied 0 incidents" in out[1]
    assert sql("SELECT count(*) FROM events") == [(4,)]


def test_report_and_handover_read_the_shared_store(
    pg_dsn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cockpit.cli import main

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    local_store(tmp_path / "a.sqlite3")
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\nkind = "postgresql"\ndsn = "{pg_dsn}"\n')
    cfg = ["--config", str(config)]
    assert main(["store", "migrate", "--from", str(tmp_path / "a.sqlite3"), *cfg]) == 0
    capsys.readouterr()
    assert main(["report", "--since", "2026-11-24", "--until", "2026-11-26", *cfg]) == 0
    report = capsys.readouterr().out
    assert "# Shift report" in report and "INC-2026-0001" in report
    assert main(["handover", *cfg]) == 0
    assert "INC-2026-0001" in capsys.readouterr().out  # still open: the next shift inherits it
