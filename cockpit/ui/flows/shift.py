"""Shift flows: the handover (`h`), written by the outgoing engineer, acknowledged by the
incoming one; both are stamped on the timeline."""

from __future__ import annotations

import asyncio

from cockpit.incident.handover import render_handover
from cockpit.ui.context import Cockpit
from cockpit.ui.screens.handover import handover_editor, handover_to_acknowledge
from cockpit.ui.text import clean


async def handover(cockpit: Cockpit) -> None:
    """h: a handover from someone else not acknowledged yet is shown first (y acknowledges);
    otherwise the draft from the record and what the screen sees now, to edit and save."""
    actions = cockpit.actions
    latest = actions.latest_handover()
    if (
        latest is not None
        and latest.actor != actions.actor
        and actions.handover_acknowledged(latest) is None
    ):
        text = str(latest.details.get("markdown", ""))
        sure = await cockpit.push_screen_wait(
            handover_to_acknowledge(
                clean(latest.actor), f"{latest.at:%H:%M} UTC", clean(text, 20_000)
            )
        )
        if sure is None:
            cockpit.notify("handover not acknowledged yet: h shows it again", severity="warning")
            return
        cockpit.report(await actions.acknowledge_handover(latest))
        cockpit.refresh_all()
        return
    runtime = cockpit.runtime
    quarantine = getattr(runtime.broker, "quarantine_dir", None)
    draft = await asyncio.to_thread(
        render_handover,
        actions.store,
        cockpit.clock.now(),
        shift=cockpit.config.report.shift,
        author=actions.actor,
        groups=list(cockpit.live.groups),
        quarantine_dir=quarantine,
    )
    values = await cockpit.push_screen_wait(handover_editor(draft))
    if values is None:
        return
    cockpit.report(await actions.handover(values["markdown"]))
    cockpit.refresh_all()
