"""A cockpit-like process for the SIGKILL test: appends timeline events and enqueues and
sends outbox items (status page updates and pages) in a burst, printing each committed
event id. Run: python -m tests.incident.crash_worker STORE COUNT (servers and keys in env).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

from cockpit.backends.pagerduty import PagerDutyPager
from cockpit.backends.statuspage import StatuspageIO
from cockpit.clock import SystemClock
from cockpit.config import PagerConfig, StatusPageConfig
from cockpit.domain import (
    ActionResult,
    CustomerUpdate,
    Escalation,
    EventKind,
    Incident,
    IncidentStatus,
    Severity,
    TimelineEvent,
)
from cockpit.incident.outbox import (
    CUSTOMER_UPDATE,
    ESCALATION,
    Outbox,
    OutboxItem,
    OutboxSender,
    customer_update_payload,
    escalation_payload,
)
from cockpit.incident.store import SQLiteStore

INCIDENT = "INC-2026-0007"


async def main(store_path: str, count: int) -> int:
    clock = SystemClock()
    store = SQLiteStore(store_path)
    if store.get_incident(INCIDENT) is None:
        store.create_incident(
            Incident(
                INCIDENT,
                "Checkout errors",
                Severity.SEV1,
                IncidentStatus.INVESTIGATING,
                "alice",
                clock.now(),
            )
        )
    outbox = Outbox(store)
    statuspage = StatuspageIO(
        StatusPageConfig(kind="statuspage", page_id="pg1", api_url=os.environ["SP_URL"]),
        api_key=os.environ["SP_KEY"],
        clock=clock,
    )
    pager = PagerDutyPager(
        PagerConfig(kind="pagerduty", events_url=os.environ["PD_URL"]),
        routing_keys={f"team{i}": os.environ["PD_KEY"] for i in range(count)},
        identity="alice",
        clock=clock,
    )

    def outcome(item: OutboxItem, result: ActionResult) -> TimelineEvent:
        """The outcome's timeline event: committed with the outcome, in one transaction."""
        kind = EventKind.ESCALATION if item.kind == ESCALATION else EventKind.CUSTOMER_UPDATE
        return TimelineEvent(
            clock.now(),
            kind if result.ok else EventKind.ERROR,
            "outbox",
            "alice",
            f"{item.idempotency_key}: {result.message}",
            details={"outbox_id": item.id},
            incident_id=INCIDENT,
        )

    sender = OutboxSender(outbox, statuspage=statuspage, pager=pager, clock=clock, timeline=outcome)
    print("started", flush=True)
    for i in range(count):
        event = store.add_event(
            TimelineEvent(
                clock.now(), EventKind.NOTE, "cockpit", "alice", f"note {i}", incident_id=INCIDENT
            )
        )
        print(f"event {event.id}", flush=True)
        update = CustomerUpdate(
            INCIDENT, IncidentStatus.INVESTIGATING, "Checkout errors", f"update {i}"
        )
        outbox.enqueue(
            CUSTOMER_UPDATE, INCIDENT, customer_update_payload(update), f"u{i}", clock.now()
        )
        page = Escalation(INCIDENT, f"team{i}", "SEV1", "Checkout errors")
        outbox.enqueue(ESCALATION, INCIDENT, escalation_payload(page), f"e{i}", clock.now())
        await sender.send_due()
    deadline = time.monotonic() + 60
    while outbox.pending() and time.monotonic() < deadline:
        await sender.send_due()
        await asyncio.sleep(0.2)
    await statuspage.close()
    await pager.close()
    left = outbox.pending()
    print("done" if not left else f"left {len(left)}", flush=True)
    return 0 if not left else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], int(sys.argv[2]))))
