"""Issue 10: an unwritable audit log is reported and never undoes or hides a committed action."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from cockpit.actions import Actions
from cockpit.audit import AuditLog
from cockpit.backends.demo import build_demo
from cockpit.clock import FrozenClock
from cockpit.config import Identity
from cockpit.domain import EventKind, Severity
from cockpit.incident.store import SQLiteStore
from cockpit.live import LiveState


def actions_with_broken_audit(tmp_path: Path, clock: FrozenClock) -> tuple[Actions, object]:
    world = build_demo(clock, poll=0.01)
    clock.advance(70)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    audit = AuditLog(blocker / "audit.jsonl", env="prod", redact=lambda text: text)
    actions = Actions(
        store=SQLiteStore(tmp_path / "store.sqlite3"),
        identity=Identity("alice"),
        clock=clock,
        live=LiveState(),
        alerts=world.alerts,
        cluster=world.cluster,
        broker=world.broker,
        statuspage=world.statuspage,
        pager=world.pager,
        audit=audit,
    )
    return actions, world


async def test_an_ack_with_an_unwritable_audit_log_is_committed_and_reported(
    tmp_path: Path, clock: FrozenClock
) -> None:
    actions, world = actions_with_broken_audit(tmp_path, clock)
    group = (await world.alerts.groups())[0]  # type: ignore[attr-defined]
    result = await actions.ack(group, timedelta(hours=1), "looking")
    assert result.ok, result.message  # the silence exists: the action is not undone
    acked = {g.key: g for g in await world.alerts.groups()}[group.key]  # type: ignore[attr-defined]
    assert acked.acked
    events = actions.store.timeline(None)
    kinds = [e.kind for e in events]
    assert EventKind.ACK in kinds  # not hidden
    errors = [e for e in events if e.kind is EventKind.ERROR]
    assert len(errors) == 1 and "Audit log not written: cannot open audit log" in errors[0].summary
    assert "not-a-directory" in actions.audit_problem

    # a second action: still committed, the problem is not repeated on the timeline
    note = await actions.note("second")
    assert note.ok
    assert sum(e.kind is EventKind.ERROR for e in actions.store.timeline(None)) == 1


async def test_declaring_with_an_unwritable_audit_log_opens_the_incident(
    tmp_path: Path, clock: FrozenClock
) -> None:
    actions, _world = actions_with_broken_audit(tmp_path, clock)
    result = await actions.declare("Checkout down", Severity.SEV1)
    assert result.ok, result.message
    assert actions.store.current_incident() is not None
