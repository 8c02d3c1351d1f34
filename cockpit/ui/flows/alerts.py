"""Alert flows: acknowledge (a short silence), remove the ack, show a group's detail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rich.console import RenderableType
from rich.text import Text

from cockpit.config import ConfigError, parse_duration
from cockpit.domain import AlertGroup
from cockpit.live import short_duration
from cockpit.ui.context import Cockpit
from cockpit.ui.details import alert_detail
from cockpit.ui.screens.forms import Field, confirm
from cockpit.ui.screens.views import DetailScreen
from cockpit.ui.text import clean

MAX_ACK = timedelta(days=7)  # longer is a silence: that belongs in Alertmanager


async def ack(cockpit: Cockpit, group: AlertGroup) -> None:
    """a: a silence matching the group's common labels, for a duration the engineer picks."""
    if cockpit.runtime.alerts is None:
        return
    config = cockpit.config.alertmanager
    default = config.ack_duration if config else timedelta(hours=1)
    actions = cockpit.actions
    matchers = ", ".join(f"{k}={v!r}" for k, v in sorted(group.common_labels.items()))
    verb = "Extends the existing ack" if group.acked else "Creates a silence"
    body = Text.assemble(
        f"{verb} in Alertmanager{' ' + group.cluster if group.cluster else ''} matching ",
        (clean(matchers), "bold"),
        f"\nCovers {len(group.alerts)} alert(s) of {clean(group.name)}. "
        f"createdBy {clean(actions.actor)}. Notifications for them stop until it ends.",
    )

    def preview(values: dict[str, Any]) -> RenderableType:
        return Text(f"comment: {actions.ack_comment(values.get('note', ''))}")

    values = await cockpit.push_screen_wait(
        confirm(
            f"Acknowledge {clean(group.name)}?",
            body,
            confirm_label="Acknowledge",
            fields=[
                Field("duration", "Duration (e.g. 30m, 1h, 2h)", format_duration(default)),
                Field("note", "Note (optional)", ""),
            ],
            validate=validate_duration,
            preview=preview,
        )
    )
    if values is None:
        return
    duration = parse_duration(values["duration"])
    cockpit.report(await actions.ack(group, duration, values.get("note", "")))
    cockpit.poll_now("alerts")


async def unack(cockpit: Cockpit, group: AlertGroup) -> None:
    """A: expire the group's ack silence; its alerts notify again."""
    if group.ack is None:
        cockpit.notify(f"{clean(group.name)} is not acknowledged")
        return
    left = short_duration(group.ack.time_left(cockpit.clock.now()))
    values = await cockpit.push_screen_wait(
        confirm(
            f"Remove the ack of {clean(group.name)}?",
            Text(
                f"Expires silence {clean(group.ack.id)} (by {clean(group.ack.created_by)}, "
                f"{left} left). Its alerts notify again."
            ),
            confirm_label="Expire silence",
        )
    )
    if values is None:
        return
    cockpit.report(await cockpit.actions.unack(group))
    cockpit.poll_now("alerts")


async def detail(cockpit: Cockpit, group: AlertGroup) -> None:
    """enter: every alert of the group with its labels, annotations, runbook and ack."""
    cockpit.push_screen(
        DetailScreen(f"Alert group {clean(group.name)}", alert_detail(group, cockpit.clock.now()))
    )


def format_duration(delta: timedelta) -> str:
    """A duration as the engineer types it: 1h, 30m, 90s."""
    seconds = int(delta.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def validate_duration(values: dict[str, Any]) -> str:
    try:
        duration = parse_duration(values.get("duration", ""))
    except ConfigError:
        return "duration: write it like 30m, 1h or 2h"
    if duration <= timedelta(0):
        return "duration must be positive"
    if duration > MAX_ACK:
        return "an ack longer than 7 days is a silence: use Alertmanager for that"
    return ""
