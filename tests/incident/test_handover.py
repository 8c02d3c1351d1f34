"""The handover lists what the next engineer inherits: acks ending in their shift, silences
outliving it, pages still in the outbox, the last customer update and the next one due."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from cockpit.actions import Actions
from cockpit.clock import FrozenClock
from cockpit.config import Identity
from cockpit.domain import (
    ActionResult,
    Alert,
    AlertGroup,
    IncidentStatus,
    Severity,
    Silence,
    frozen_map,
)
from cockpit.incident.handover import main, render_handover
from cockpit.incident.outbox import Outbox
from cockpit.incident.store import SQLiteStore
from cockpit.live import LiveState


class FakePage:
    name = "statuspage"

    async def post_update(self, incident, update, *, remote_id):  # type: ignore[no-untyped-def]
        return ActionResult.success("posted")


class FakePager:
    name = "pager"

    async def escalate(self, escalation):  # type: ignore[no-untyped-def]
        return ActionResult.success("paged")


def acked(name: str, clock: FrozenClock, hours: float, by: str, comment: str) -> AlertGroup:
    ack = Silence(
        f"s-{name}",
        (("alertname", name),),
        clock.now(),
        clock.now() + timedelta(hours=hours),
        by,
        comment,
    )
    alert = Alert(
        f"fp-{name}",
        frozen_map({"alertname": name, "team": "platform"}),
        severity="warning",
        starts_at=clock.now() - timedelta(hours=1),
    )
    return AlertGroup(f"g-{name}", frozen_map({"alertname": name}), (alert,), ack=ack)


async def test_handover_lists_what_the_next_shift_inherits(
    store: SQLiteStore, clock: FrozenClock, tmp_path: Path
) -> None:
    actions = Actions(
        store=store,
        identity=Identity("alice"),
        clock=clock,
        live=LiveState(),
        statuspage=FakePage(),  # type: ignore[arg-type]
        pager=FakePager(),  # type: ignore[arg-type]
        outbox=Outbox(store),
    )
    incident_id = (
        await actions.declare(
            "CheckoutLatencyHigh",
            Severity.SEV1,
            team="payments",
            customer_title="Problems with Checkout",
        )
    ).ids["incident"]
    update = actions.customer_update_for(
        IncidentStatus.INVESTIGATING, "We are on it.", next_update_in=timedelta(minutes=30)
    )
    assert update is not None and (await actions.customer_update(update)).ok
    assert (await actions.escalate(actions.escalation_for("database", reason="no access"))).ok
    clock.advance(600)
    groups = [
        acked("DiskSpaceLow", clock, 4, "alice", "ACK! cleanup job at 06:00"),
        acked("TLSCertificateExpiring", clock, 48, "bob", "ACK! renewal ticket OPS-12"),
    ]
    quarantine = tmp_path / "quarantine" / "invoices"
    quarantine.mkdir(parents=True)
    (quarantine / "msg-1.json").write_text("{}")

    text = render_handover(
        store,
        clock.now(),
        shift=timedelta(hours=12),
        author="alice",
        groups=groups,
        quarantine_dir=tmp_path / "quarantine",
    )
    section = {part.split("\n", 1)[0]: part for part in text.split("\n## ")}
    incidents = section["Open incidents"]
    assert f"**{incident_id}** SEV1 investigating" in incidents
    assert 'customers see "Problems with Checkout"' in incidents
    assert (
        "Last customer update 2026-11-25 03:00 UTC (investigating): We are on it. Next update"
        in (incidents)
    )
    assert "Next customer update due 2026-11-25 03:30 UTC (in 20m)" in incidents
    ending = section["Acks ending during the next shift"]
    assert "DiskSpaceLow: ends 2026-11-25 07:10 UTC, by alice: ACK! cleanup job at 06:00" in ending
    assert "TLSCertificateExpiring" not in ending
    outliving = section["Acks and silences outliving the next shift"]
    assert "TLSCertificateExpiring: ends 2026-11-27 03:10 UTC, by bob: ACK! renewal ticket" in (
        outliving
    )
    outbox = section["Waiting in the outbox"]
    assert "to team database for " + incident_id in outbox and "customer update" in outbox
    assert "1 message(s)" in section["Quarantined messages kept on disk"]
    assert "invoices/msg-1.json" in section["Quarantined messages kept on disk"]
    assert (
        "1 escalations, 1 customer updates, 1 incidents declared"
        in section["This shift in numbers"]
    )

    # saved on the timeline, then acknowledged by the incoming engineer, once
    assert (await actions.handover(text)).ok
    saved = actions.latest_handover()
    assert saved is not None and saved.details["markdown"].startswith("# Handover")
    actions.identity = Identity("bob")
    assert (await actions.acknowledge_handover(saved)).ok
    again = await actions.acknowledge_handover(saved)
    assert not again.ok and "already acknowledged" in again.message
    ack = actions.handover_acknowledged(saved)
    assert ack is not None and ack.summary == "Handover from alice acknowledged by bob"


def test_cli_handover_from_the_record(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    SQLiteStore(tmp_path / "s.db").close()
    assert (
        main([], store_path=str(tmp_path / "s.db"), shift=timedelta(hours=8), quarantine_dir=None)
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("# Handover") and "## Open incidents\n\n- None." in out
    assert (
        main(
            [], store_path=str(tmp_path / "nope.db"), shift=timedelta(hours=8), quarantine_dir=None
        )
        == 2
    )
