"""Response times counted from the alert's startsAt, on a real Alertmanager.

The alert fired 7m13s before the engineer looked (startsAt in the past, as Prometheus
sends it); the post-mortem must say "Time to acknowledge: 7m 13s", not "0s".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.actions import Actions
from cockpit.backends.alertmanager import AlertmanagerPager, AlertmanagerSource
from cockpit.backends.alertmanager_parse import format_time
from cockpit.backends.demo import build_demo
from cockpit.clock import FrozenClock
from cockpit.config import Identity
from cockpit.domain import IncidentStatus, PodEventType, RestartMode, Severity
from cockpit.incident.alert_history import AlertRecorder
from cockpit.incident.postmortem import render_postmortem
from cockpit.incident.store import SQLiteStore
from cockpit.live import LiveState
from tests.alertmanager.conftest import config_for
from tests.alertmanager.server import AlertmanagerServer

pytestmark = pytest.mark.server


async def test_time_to_acknowledge_counts_from_starts_at_to_the_second(
    am: AlertmanagerServer, tmp_path: Path
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    clock = FrozenClock(now)
    fired = now - timedelta(minutes=7, seconds=13)
    am.post_alerts(
        [
            {
                "labels": {
                    "alertname": "CheckoutLatencyHigh",
                    "team": "payments",
                    "service": "checkout-api",
                    "severity": "critical",
                },
                "annotations": {"summary": "p99 4.2s on /checkout/confirm"},
                "startsAt": format_time(fired),
            }
        ]
    )
    am.wait_for_alerts(1)
    source = AlertmanagerSource(config_for(("", (am.url,))), clock=clock)
    store = SQLiteStore(tmp_path / "cockpit.db")
    demo = build_demo(clock, poll=0.01)  # a cluster to restart a pod on
    actions = Actions(
        store=store,
        identity=Identity("alice"),
        clock=clock,
        live=LiveState(),
        alerts=source,
        cluster=demo.cluster,
        pager=AlertmanagerPager(source, clock=clock),
    )
    recorder = AlertRecorder(store)
    try:
        groups = await source.groups()
        recorder.observe(groups, clock.now())  # what the alerts feed does on every poll
        [group] = [g for g in groups if g.name == "CheckoutLatencyHigh"]
        [record] = store.open_alerts()
        assert record.starts_at == fired and record.first_seen == now

        assert (await actions.ack(group, timedelta(hours=1), "looking")).ok  # at now
        clock.advance(62)
        declared = await actions.declare("Checkout latency", Severity.SEV1, group=group)
        incident_id = declared.ids["incident"]
        clock.advance(120)
        escalation = actions.escalation_for("payments")
        assert (await actions.escalate(escalation)).ok
        clock.advance(300)
        pod = await _a_pod(demo)
        assert (await actions.restart(pod, RestartMode.DELETE_POD)).ok
        clock.advance(900)
        assert (await actions.set_status(IncidentStatus.RESOLVED)).ok

        text = render_postmortem(store, incident_id, clock.now())
    finally:
        await source.close()
        store.close()
    stamp = fired.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert f"- **First alert:** {stamp} (startsAt of the declaring alert)" in text
    assert "- **Time to acknowledge:** 7m 13s (" in text
    assert "- **Time to declare:** 8m 15s (" in text
    assert "- **Time to escalate:** 10m 15s (" in text
    assert "- **Time to mitigate:** 15m 15s (" in text
    assert "- **Time to resolve:** 30m 15s (" in text
    assert "- **Team:** payments" in text and "- **Service:** checkout-api" in text
    timeline = text.split("## Timeline")[1].split("## Actions taken")[0]
    first = next(line for line in timeline.splitlines() if line.startswith("- "))
    started = "CheckoutLatencyHigh started firing (team payments)"
    assert first == f"- {stamp} [alert] alertmanager: {started}"


async def _a_pod(demo):  # type: ignore[no-untyped-def]
    async for event in demo.cluster.watch():
        if event.type is PodEventType.SYNC:
            return event.pods[0]
    raise AssertionError("no pods")
