"""AlertmanagerPager: a synthetic CockpitEscalation alert that a real Alertmanager routes."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cockpit.backends.alertmanager import AlertmanagerPager, AlertmanagerSource, escalation_labels
from cockpit.backends.base import Pager, Unreachable
from cockpit.clock import SystemClock
from cockpit.domain import Escalation
from tests.alertmanager.conftest import config_for
from tests.alertmanager.server import AlertmanagerServer, WebhookReceiver, closed_port_url

pytestmark = pytest.mark.server

ESCALATION = Escalation(
    incident_id="INC-2026-0042",
    team="database",
    severity="SEV1",
    summary="Orders DB primary down",
    latest_note="failover did not start",
    escalated_by="alice",
)
LABELS = {
    "alertname": "CockpitEscalation",
    "team": "database",
    "incident": "INC-2026-0042",
    "severity": "SEV1",
}


def test_escalation_labels_are_what_the_confirmation_shows() -> None:
    assert escalation_labels(ESCALATION) == LABELS


def escalations(am: AlertmanagerServer) -> list[dict[str, Any]]:
    return [a for a in am.alerts() if a["labels"].get("alertname") == "CockpitEscalation"]


async def test_escalation_pages_through_the_webhook_once(
    am: AlertmanagerServer, webhook: WebhookReceiver, source: AlertmanagerSource
) -> None:
    pager = AlertmanagerPager(source)
    assert isinstance(pager, Pager)
    now = datetime.now(UTC)

    result = await pager.escalate(ESCALATION)

    assert result.ok and result.message == "Escalated to team database through Alertmanager"
    assert result.ids["alert"] == (
        '{alertname="CockpitEscalation", team="database", '
        'incident="INC-2026-0042", severity="SEV1"}'
    )
    delivered = webhook.wait_for(
        lambda posts: [
            a
            for p in posts
            for a in p.get("alerts", [])
            if a["labels"].get("alertname") == "CockpitEscalation"
        ]
    )
    assert delivered[0]["labels"] == LABELS
    assert delivered[0]["annotations"] == {
        "summary": "Orders DB primary down",
        "latest_note": "failover did not start",
        "escalated_by": "alice",
    }
    held = escalations(am)
    assert len(held) == 1
    ends = datetime.fromisoformat(str(held[0]["endsAt"]).replace("Z", "+00:00"))
    assert timedelta(hours=3) < ends - now < timedelta(hours=5)  # resolves by itself

    # pressing again (with a newer note): the same label set, so the same alert
    again = await pager.escalate(replace(ESCALATION, latest_note="still down"))
    assert again.ok and again.ids == result.ids
    held = escalations(am)
    assert len(held) == 1 and held[0]["labels"] == LABELS
    assert held[0]["annotations"]["latest_note"] == "still down"
    # and no second page: wait past group_interval (1s) for a notification that must not come
    await asyncio.sleep(3)
    assert len(webhook.snapshot()) == 1
    assert len({a["fingerprint"] for a in webhook.alerts()}) == 1
    await pager.close()  # shares the source's client: closing the pager leaves it open
    assert (await source.health()).ok


async def test_pager_from_config_skips_a_member_that_is_down(
    am: AlertmanagerServer, webhook: WebhookReceiver
) -> None:
    pager = AlertmanagerPager(config_for(("", (closed_port_url(), am.url))), clock=SystemClock())
    try:
        result = await pager.escalate(ESCALATION)
        assert result.ok
        assert [a["labels"] for a in escalations(am)] == [LABELS]
    finally:
        await pager.close()


async def test_pager_with_nothing_up_raises_unreachable() -> None:
    url = closed_port_url()
    pager = AlertmanagerPager(config_for(("", (url,))))
    try:
        with pytest.raises(Unreachable, match=f"^alertmanager {url}: connection refused$"):
            await pager.escalate(ESCALATION)
    finally:
        await pager.close()


async def test_escalation_without_a_team_is_refused_before_sending() -> None:
    pager = AlertmanagerPager(config_for(("", (closed_port_url(),))))
    try:
        result = await pager.escalate(
            Escalation(incident_id="INC-1", team=" ", severity="SEV2", summary="x")
        )
        assert not result.ok and "no team" in result.message
    finally:
        await pager.close()
