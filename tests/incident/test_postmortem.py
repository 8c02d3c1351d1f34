"""The post-mortem draft of a recorded incident, and the `cockpit postmortem` command."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from cockpit.backends.statuspage import StaticStatusPage
from cockpit.clock import FrozenClock
from cockpit.config import StatusPageConfig
from cockpit.domain import (
    CustomerUpdate,
    EventKind,
    Incident,
    IncidentStatus,
    Severity,
    TimelineEvent,
)
from cockpit.incident.outbox import CUSTOMER_UPDATE, Outbox, OutboxSender, customer_update_payload
from cockpit.incident.postmortem import fmt_duration, main, render_postmortem, write_postmortem
from cockpit.incident.store import SQLiteStore


async def record_incident(store: SQLiteStore, clock: FrozenClock, tmp_path: Path) -> Incident:
    """03:00 alert, 03:01 declared, 03:04 ack, 03:10 escalation, 03:20 restart, 04:02 resolved."""

    def event(kind: EventKind, actor: str, summary: str, **details: object) -> None:
        store.add_event(
            TimelineEvent(clock.now(), kind, "cockpit", actor, summary, details, "INC-2026-0042")
        )

    # the alert lands in the shift log; declaring the incident adopts it
    store.add_event(
        TimelineEvent(
            clock.now(), EventKind.ALERT, "alertmanager", "alertmanager", "CheckoutErrors firing"
        )
    )
    alert_at = clock.now()
    clock.advance(60)
    incident = store.create_incident(
        Incident(
            "INC-2026-0042",
            "Checkout errors",
            Severity.SEV2,
            IncidentStatus.INVESTIGATING,
            "alice",
            clock.now(),
            components=("checkout",),
        )
    )
    assert store.adopt_shift_log(incident.id, alert_at) == 1
    event(EventKind.DECLARED, "alice", "Declared SEV2: Checkout errors")
    outbox = Outbox(store)
    page = StaticStatusPage(StatusPageConfig(), directory=tmp_path / "page", clock=clock)
    sender = OutboxSender(outbox, statuspage=page, pager=None, clock=clock)
    update = CustomerUpdate(
        incident.id,
        IncidentStatus.INVESTIGATING,
        incident.title,
        "Some payments fail.",
        ("checkout",),
    )
    outbox.enqueue(CUSTOMER_UPDATE, incident.id, customer_update_payload(update), "u1", clock.now())
    await sender.send_due()
    clock.advance(180)
    event(EventKind.ACK, "alice", "Acked CheckoutErrors for 1h")
    clock.advance(360)
    event(EventKind.ESCALATION, "alice", "Paged team db")
    clock.advance(600)
    event(EventKind.RESTART, "bob", "Restarted shop/checkout-7f9 (delete pod)")
    event(EventKind.NOTE, "bob", "Connection pool | exhausted\nafter deploy")
    clock.advance(42 * 60)
    incident = store.update_incident(
        replace(incident, status=IncidentStatus.RESOLVED, resolved_at=clock.now())
    )
    event(EventKind.RESOLVED, "alice", "Resolved")
    return incident


async def test_postmortem_has_times_timeline_and_actions(
    store: SQLiteStore, clock: FrozenClock, tmp_path: Path
) -> None:
    incident = await record_incident(store, clock, tmp_path)
    text = render_postmortem(store, incident.id, clock.now())
    assert text.startswith("# Post-mortem: INC-2026-0042 Checkout errors")
    assert "- **Severity:** SEV2" in text and "- **Incident commander:** alice" in text
    assert "- **Duration:** 1h 1m" in text  # declared 03:01, resolved 04:02
    assert "- **First alert:** 2026-11-25 03:00:00 UTC" in text
    assert "- **Time to acknowledge:** 4m" in text
    assert "- **Time to escalate:** 10m" in text
    assert "- **Time to resolve:** 1h 2m" in text
    assert "- **Affected components:** checkout" in text
    assert "sent 2026-11-25 03:01:00 UTC, **investigating**: Some payments fail." in text
    timeline = text.split("## Timeline")[1].split("## Actions taken")[0]
    lines = [line for line in timeline.splitlines() if line.startswith("- ")]
    assert lines[0] == "- 2026-11-25 03:00:00 UTC [alert] alertmanager: CheckoutErrors firing"
    assert lines[-1] == "- 2026-11-25 04:02:00 UTC [resolved] alice: Resolved"
    assert "- 2026-11-25 03:20:00 UTC [note] bob: Connection pool | exhausted after deploy" in lines
    assert len(lines) == 7
    actions = text.split("## Actions taken")[1].split("## Root cause")[0]
    assert [line for line in actions.splitlines() if line.startswith("-")] == [
        "- 2026-11-25 03:04:00 UTC ack by alice: Acked CheckoutErrors for 1h",
        "- 2026-11-25 03:10:00 UTC escalation by alice: Paged team db",
        "- 2026-11-25 03:20:00 UTC restart by bob: Restarted shop/checkout-7f9 (delete pod)",
    ]
    root = text.split("## Root cause")[1].split("## Follow-ups")[0]
    assert root.strip().startswith("<!--") and root.strip().endswith("-->")
    assert text.rstrip().endswith("-->")


def test_fmt_duration() -> None:
    from datetime import timedelta

    assert fmt_duration(timedelta(seconds=45)) == "45s"
    assert fmt_duration(timedelta(minutes=4, seconds=59)) == "4m"
    assert fmt_duration(timedelta(hours=1, minutes=2)) == "1h 2m"
    assert fmt_duration(timedelta(days=2, hours=3)) == "2d 3h"
    assert fmt_duration(None) == "n/a"


async def test_cli_prints_latest_writes_file_and_refuses_unknown_ids(
    store: SQLiteStore, clock: FrozenClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    incident = await record_incident(store, clock, tmp_path)
    path = store.path
    assert main([], store_path=path) == 0
    assert capsys.readouterr().out.startswith(f"# Post-mortem: {incident.id}")

    out_file = tmp_path / "pm.md"
    assert main([incident.id, "--output", str(out_file)], store_path=path) == 0
    assert "Time to resolve:** 1h 2m" in out_file.read_text()

    assert main(["INC-1999-0001"], store_path=path) == 2
    err = capsys.readouterr().err
    assert "no incident 'INC-1999-0001'" in err and incident.id in err and "Traceback" not in err
    assert main([], store_path=str(tmp_path / "missing.db")) == 2
    assert not (tmp_path / "missing.db").exists()

    written = write_postmortem(store, incident.id, tmp_path / "drafts", clock.now())
    assert written.name == "INC-2026-0042-postmortem.md"
    assert "## Follow-ups" in written.read_text()
