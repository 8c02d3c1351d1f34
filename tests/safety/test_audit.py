"""The audit log: one valid JSON line per record, on disk (fsync'd) before record() returns."""

from __future__ import annotations

import json
import os
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cockpit import audit as audit_module
from cockpit.audit import AuditError, AuditLog, read_audit
from cockpit.secrets import SecretResolver, redact


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_record_is_on_disk_as_one_json_line_when_it_returns(tmp_path: Path) -> None:
    path = tmp_path / "data" / "cockpit" / "audit.jsonl"
    log = AuditLog(path, env="prod", redact=redact)
    log.record("ada", "ack", "HighErrorRate{service=checkout}", "attempt", {"group": "g1"})
    # read right after record returned, without closing: the line is there
    first = lines(path)
    assert len(first) == 1
    log.record("ada", "ack", "HighErrorRate{service=checkout}", "ok", {"silence": "s-1"}, "1h")
    records = lines(path)
    assert [r["outcome"] for r in records] == ["attempt", "ok"]
    entry = records[1]
    assert entry["actor"] == "ada" and entry["env"] == "prod" and entry["action"] == "ack"
    assert entry["ids"] == {"silence": "s-1"} and entry["detail"] == "1h"
    stamp = datetime.fromisoformat(str(entry["time"]))
    assert stamp.utcoffset() is not None and stamp.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 60
    assert list(read_audit(path)) == records
    log.close()


def test_record_fsyncs_before_returning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(audit_module.os, "fsync", spy)
    log = AuditLog(tmp_path / "audit.jsonl", env="staging", redact=redact)
    log.record("ada", "restart", "deploy/checkout", "attempt")
    assert len(synced) == 1
    log.record("ada", "restart", "deploy/checkout", "ok")
    assert len(synced) == 2
    log.close()


def test_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    AuditLog(path, env="prod", redact=redact).record("ada", "page", "payments", "ok")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # an existing file left world-readable is tightened
    loose = tmp_path / "loose.jsonl"
    loose.write_text("")
    loose.chmod(0o644)
    AuditLog(loose, env="prod", redact=redact).record("ada", "page", "payments", "ok")
    assert stat.S_IMODE(loose.stat().st_mode) == 0o600


def test_secret_values_never_reach_the_log(tmp_path: Path) -> None:
    value = "planted-" + os.urandom(8).hex()
    SecretResolver(env={"COCKPIT_SECRET_RMQ": value}, prompt=False).resolve("rmq")
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, env="prod", redact=redact)
    log.record(
        actor=f"ada {value}",
        action=f"quarantine {value}",
        target=f"amqp://cockpit:{value}@rabbit/orders",
        outcome="failed",
        ids={"url": f"http://u:{value}@x", "nested": {value: [value, 1]}},
        detail=f'auth failed: password "{value}"',
    )
    text = path.read_text(encoding="utf-8")
    assert value not in text
    entry = lines(path)[0]
    assert entry["target"] == "amqp://cockpit:•••@rabbit/orders"
    assert entry["ids"] == {"url": "http://u:•••@x", "nested": {"•••": ["•••", 1]}}
    log.close()


def test_concurrent_records_are_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, env="prod", redact=redact)

    def writer(n: int) -> None:
        for i in range(40):
            log.record(f"user{n}", "ack", "x" * 500, "ok", {"i": i, "n": n})

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = lines(path)  # every line parses
    assert len(records) == 240
    assert {(r["actor"], r["ids"]["i"]) for r in records} == {  # type: ignore[index]
        (f"user{n}", i) for n in range(6) for i in range(40)
    }
    log.close()


def test_unwritable_location_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    log = AuditLog(blocker / "audit.jsonl", env="prod", redact=redact)
    with pytest.raises(AuditError) as err:
        log.record("ada", "ack", "g", "attempt")
    assert "cannot open audit log" in str(err.value) and "\n" not in str(err.value)
