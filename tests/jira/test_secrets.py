"""The planted Jira token never reaches the store, the audit log, the log or any message,
even when a proxy in front of Jira echoes the credentials back in its errors."""

from __future__ import annotations

import base64
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from cockpit.actions import Actions
from cockpit.audit import AuditLog
from cockpit.backends.jira import JiraTracker
from cockpit.clock import FrozenClock
from cockpit.config import Identity
from cockpit.domain import Incident
from cockpit.incident.outbox import Outbox, OutboxSender
from cockpit.incident.store import SQLiteStore
from cockpit.incident.tickets import TicketBook, TicketFollower
from cockpit.live import LiveState
from cockpit.secrets import redact
from tests.incident.fakehttp import Reply
from tests.jira.conftest import EMAIL, TOKEN, draft, jira_config
from tests.jira.server import FakeJira

BASIC = base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()


async def test_planted_token_is_nowhere(
    tmp_path: Path,
    fake_jira: FakeJira,
    store: SQLiteStore,
    clock: FrozenClock,
    incident: Incident,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    tracker = JiraTracker(jira_config(fake_jira.url), token=TOKEN)
    audit = AuditLog(tmp_path / "audit.jsonl", env="prod", redact=redact)
    outbox = Outbox(store)
    actions = Actions(
        store=store,
        identity=Identity("alice"),
        clock=clock,
        live=LiveState(),
        outbox=outbox,
        audit=audit,
        tracker=tracker,
    )
    messages: list[str] = []
    sender = OutboxSender(
        outbox,
        statuspage=None,
        pager=None,
        clock=clock,
        tracker=tracker,
        on_result=lambda item, result: (
            messages.append(result.message),
            actions.outbox_result(item.kind, item.incident_id, "PAY", result),
        ),
    )
    echo = f"bad credentials: Basic {BASIC} (token {TOKEN})"
    try:
        # a proxy answers with the credentials in its error, three ways
        fake_jira.forced += [
            Reply(502, {"errorMessages": [echo]}),
            Reply(400, {"errorMessages": [echo], "errors": {"summary": TOKEN}}),
        ]
        messages.append((await actions.file_ticket(draft())).message)
        await sender.send_due()
        clock.advance(timedelta(seconds=6))
        await sender.send_due()
        messages.append(sender.describe(clock.now()))
        messages.append((await actions.file_ticket(draft(number=2))).message)
        await sender.send_due()
        await actions.note("a note", ticket_key="PAY-1")
        fake_jira.forced.append(Reply(404, {"errorMessages": [echo]}))
        await sender.send_due()
        follower = TicketFollower(tracker, TicketBook(store), clock)
        fake_jira.forced.append(Reply(500, {"errorMessages": [echo]}))
        await follower.poll()
        messages.extend(t.describe() for t in TicketBook(store).tickets(incident.id))
        bad = JiraTracker(jira_config(fake_jira.url), token=TOKEN + "-wrong")
        try:
            from cockpit.backends.base import BackendError

            with pytest.raises(BackendError) as error:
                await bad.read("PAY-1")
            messages.append(str(error.value))
        finally:
            await bad.close()
        messages.append(repr(tracker))
    finally:
        await tracker.close()
    assert any("bad credentials" in m for m in messages)  # the echo was shown, scrubbed
    assert any("•••" in m for m in messages)
    timeline = " ".join(e.summary + repr(dict(e.details)) for e in store.timeline(incident.id))
    assert "bad credentials" in timeline
    store.close()
    blobs = {
        "messages": "\n".join(messages),
        "timeline": timeline,
        "log": caplog.text,
        "audit": (tmp_path / "audit.jsonl").read_text(),
    }
    for path in tmp_path.glob("cockpit.db*"):
        blobs[path.name] = path.read_bytes().decode("latin-1")
    for where, text in blobs.items():
        assert TOKEN not in text, where
        assert BASIC not in text, where
