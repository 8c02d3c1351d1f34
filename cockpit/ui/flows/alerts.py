"""Alert flows: acknowledge (a short silence), remove the ack, show a group's detail,
follow it to the pods and queues it names, open its runbook."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from rich.console import RenderableType
from rich.text import Text

from cockpit.config import ConfigError, parse_duration
from cockpit.domain import ActionResult, AlertGroup
from cockpit.live import short_duration
from cockpit.pivot import Following
from cockpit.pivot import follow as follow_group
from cockpit.runbooks import Step
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
    result = await actions.ack(group, duration, values.get("note", ""))
    if result.ok:
        cockpit.acted_on("alerts")  # the acked group sinks: the cursor stays on top
    cockpit.report(result)
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
    """enter: what the group names on screen with its status, then every alert with its
    labels, annotations, runbook and ack."""
    live = cockpit.live
    followed = follow_group(group, live.pods.values(), live.queues)
    cockpit.push_screen(
        DetailScreen(
            f"Alert group {clean(group.name)}",
            alert_detail(group, cockpit.clock.now(), followed),
        )
    )


async def follow(cockpit: Cockpit, group: AlertGroup) -> None:
    """f: the pods and queues panels show only what the group's labels name, and the pods
    take the focus; f on the same group again (or escape) shows everything again."""
    current = cockpit.following
    if current is not None and current.key == group.key:
        await unfollow(cockpit)
        return
    live = cockpit.live
    followed = follow_group(group, live.pods.values(), live.queues)
    if followed.empty:
        cockpit.notify(clean(followed.nothing_line(), 300), severity="warning", timeout=8)
        return
    cockpit.set_following(Following(group, pods=bool(followed.pods), queues=bool(followed.queues)))
    cockpit.focus_panel("pods" if followed.pods else "queues")


async def unfollow(cockpit: Cockpit) -> None:
    """escape: the pods and queues panels show every row again."""
    if cockpit.following is not None:
        cockpit.set_following(None)


async def runbook(cockpit: Cockpit, group: AlertGroup) -> None:
    """o: the group's runbook in a screen; x checks a step off on the timeline, once."""
    # imported here: its Markdown widget and markdown-it cost ~40 ms of every start-up,
    # and the first screen never shows a runbook
    from cockpit.ui.screens.runbook import RunbookScreen, done_labels

    library = cockpit.runtime.runbooks
    loading = asyncio.ensure_future(library.load(group))
    done, _ = await asyncio.wait({loading}, timeout=0.3)
    if not done:  # a URL is being fetched: say so rather than look frozen
        cockpit.notify(f"fetching the runbook of {clean(group.name)}…", timeout=4)
    result = await loading
    actions = cockpit.actions
    found = result.runbook
    checked = done_labels(actions.runbook_steps_done(found)) if found else {}

    async def check(step: Step) -> ActionResult:
        assert found is not None
        return await actions.runbook_step(found, step)

    allowed = found is not None and actions.allowed("runbook_step")
    cockpit.push_screen(RunbookScreen(result, done=checked, on_check=check if allowed else None))


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
