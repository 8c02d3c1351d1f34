"""A cockpit-like process for the SIGKILL test: files one ticket through the outbox.
Run: python -m tests.jira.crash_worker STORE (JIRA_URL, JIRA_TOKEN in env)."""

from __future__ import annotations

import asyncio
import os
import sys
import time

from cockpit.backends.jira import JiraTracker
from cockpit.clock import SystemClock
from cockpit.domain import Incident, IncidentStatus, Severity
from cockpit.incident.outbox import TICKET, Outbox, OutboxSender, ticket_payload
from cockpit.incident.store import SQLiteStore
from tests.jira.conftest import draft, jira_config


async def main(store_path: str) -> int:
    clock = SystemClock()
    store = SQLiteStore(store_path)
    if store.get_incident("INC-2026-0001") is None:
        store.create_incident(
            Incident(
                "INC-2026-0001",
                "Checkout errors",
                Severity.SEV1,
                IncidentStatus.INVESTIGATING,
                "alice",
                clock.now(),
            )
        )
    outbox = Outbox(store)
    tracker = JiraTracker(jira_config(os.environ["JIRA_URL"]), token=os.environ["JIRA_TOKEN"])
    sender = OutboxSender(outbox, statuspage=None, pager=None, clock=clock, tracker=tracker)
    outbox.enqueue(
        TICKET, "INC-2026-0001", ticket_payload(draft()), "ticket:INC-2026-0001:1", clock.now()
    )
    print("enqueued", flush=True)
    deadline = time.monotonic() + 60
    while outbox.pending() and time.monotonic() < deadline:
        await sender.send_due()
        await asyncio.sleep(0.2)
    await tracker.close()
    print("done" if not outbox.pending() else "left", flush=True)
    return 0 if not outbox.pending() else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1])))
