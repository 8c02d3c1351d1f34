"""Incident flows: declare, note, status, severity, commander, customer update, escalate,
post-mortem, past incidents, a timeline event's detail."""

from __future__ import annotations

import asyncio
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from cockpit.domain import AlertGroup, IncidentStatus, Severity, TimelineEvent
from cockpit.ui.context import Cockpit
from cockpit.ui.details import customer_preview, escalation_preview, event_detail, incident_record
from cockpit.ui.screens.forms import Field, confirm, form
from cockpit.ui.screens.views import DetailScreen, PickScreen
from cockpit.ui.text import clean

DEFAULT_TEMPLATES = {
    "investigating": "We are investigating reports of problems with {title}. "
    "We will post an update within 30 minutes.",
    "identified": "We have identified the cause of the problems with {title} and are "
    "working on a fix.",
    "monitoring": "A fix has been applied and we are monitoring the results.",
    "resolved": "This incident has been resolved. {title} is operating normally.",
}


async def declare(cockpit: Cockpit, group: AlertGroup | None) -> None:
    """i: open an incident, prefilled from the selected alert group."""
    actions = cockpit.actions
    existing = actions.current_incident()
    if existing is not None:
        cockpit.notify(
            f"{existing.id} is open: resolve it first (s in the incident panel)",
            severity="warning",
        )
        return
    title = ""
    severity = Severity.SEV3
    if group is not None:
        title = group.firing[0].summary if group.firing and group.firing[0].summary else group.name
        severity = Severity.from_alert_severity(group.severity)
    values = await cockpit.push_screen_wait(
        form(
            "Declare an incident",
            [
                Field("title", "Title", clean(title, 120)),
                Field(
                    "severity",
                    "Severity",
                    severity.value,
                    kind="select",
                    options=[(s.value, s.value) for s in Severity],
                ),
                Field("commander", "Incident commander", actions.actor),
            ],
            body="Opens an incident; the shift log's last hour joins its timeline.",
            submit_label="Declare",
            validate=lambda v: "" if v["title"].strip() else "the incident needs a title",
        )
    )
    if values is None:
        return
    result = await actions.declare(
        values["title"], Severity(values["severity"]), values.get("commander", "")
    )
    cockpit.report(result)
    cockpit.refresh_all()


async def note(cockpit: Cockpit, ticket: str = "") -> None:
    """n: a note on the open incident's timeline, or on the shift log. On a ticket's row
    (a Jira event in the incident panel) the note goes to that ticket as a comment too."""
    incident = cockpit.actions.current_incident()
    where = incident.id if incident else "the shift log"
    if incident is None or cockpit.actions.tracker is None:
        ticket = ""
    fields = [Field("text", "Note", kind="text")]
    if ticket:
        fields.append(
            Field(
                "comment",
                f"Also a comment on {ticket} (the developers see it)",
                "yes",
                kind="radio",
                options=[(f"yes, comment on {ticket}", "yes"), ("no, the timeline only", "no")],
            )
        )
    values = await cockpit.push_screen_wait(
        form(
            f"Note on {where}" + (f" and Jira {ticket}" if ticket else ""),
            fields,
            submit_label="Add note",
            validate=lambda v: "" if v["text"].strip() else "the note is empty",
        )
    )
    if values is None:
        return
    to_ticket = ticket if values.get("comment", "no") == "yes" else ""
    cockpit.report(await cockpit.actions.note(values["text"], ticket_key=to_ticket))
    if to_ticket:
        cockpit.wake_outbox()


async def status(cockpit: Cockpit) -> None:
    """s: move the incident on (investigating -> identified -> ...), or resolve it."""
    incident = cockpit.actions.current_incident()
    if incident is None:
        return
    values = await cockpit.push_screen_wait(
        form(
            f"Status of {incident.id}",
            [
                Field(
                    "status",
                    "Status",
                    incident.status.next().value,
                    kind="radio",
                    options=[(s.value, s.value) for s in IncidentStatus],
                )
            ],
            body="Resolving closes the incident; customers hear it only through an update (u).",
            submit_label="Set status",
        )
    )
    if values is None:
        return
    cockpit.report(await cockpit.actions.set_status(IncidentStatus(values["status"])))
    cockpit.refresh_all()


async def severity(cockpit: Cockpit) -> None:
    """v: change the incident's severity."""
    incident = cockpit.actions.current_incident()
    if incident is None:
        return
    values = await cockpit.push_screen_wait(
        form(
            f"Severity of {incident.id}",
            [
                Field(
                    "severity",
                    "Severity",
                    incident.severity.value,
                    kind="radio",
                    options=[(s.value, s.value) for s in Severity],
                )
            ],
            submit_label="Set severity",
        )
    )
    if values is None:
        return
    cockpit.report(await cockpit.actions.set_severity(Severity(values["severity"])))


async def commander(cockpit: Cockpit) -> None:
    """c: hand the incident to another commander."""
    incident = cockpit.actions.current_incident()
    if incident is None:
        return
    values = await cockpit.push_screen_wait(
        form(
            f"Commander of {incident.id}",
            [Field("commander", "Incident commander", incident.commander)],
            submit_label="Set commander",
        )
    )
    if values is None:
        return
    cockpit.report(await cockpit.actions.set_commander(values["commander"]))


async def customer_update(cockpit: Cockpit) -> None:
    """u: write the update from the status's template, review exactly what customers see,
    then post it through the outbox."""
    actions = cockpit.actions
    config = cockpit.config
    incident = actions.current_incident()
    if incident is None:
        cockpit.notify("declare an incident first (i)", severity="warning")
        return
    templates = {**DEFAULT_TEMPLATES, **config.statuspage.templates}
    status = incident.status.value

    def template(for_status: str) -> str:
        return templates.get(for_status, "").format(title=incident.title)

    components = ", ".join(incident.components or config.statuspage.components)

    def preview(values: dict[str, Any]) -> RenderableType:
        return customer_preview(
            incident.title,
            values.get("status", status),
            values.get("body", ""),
            values.get("components", ""),
            cockpit.clock.now(),
        )

    values = await cockpit.push_screen_wait(
        form(
            f"Customer update for {incident.id}",
            [
                Field(
                    "status",
                    "Status customers see",
                    status,
                    kind="select",
                    options=[(s.value, s.value) for s in IncidentStatus],
                ),
                Field("body", "Message", template(status), kind="text"),
                Field("components", "Affected components (comma separated)", components),
            ],
            submit_label="Review",
            preview=preview,
            validate=lambda v: "" if v["body"].strip() else "the message is empty",
        )
    )
    if values is None:
        return
    comps = tuple(c.strip() for c in values["components"].split(",") if c.strip())
    update = actions.customer_update_for(IncidentStatus(values["status"]), values["body"], comps)
    if update is None:
        return
    statuspage = cockpit.runtime.statuspage
    where = statuspage.name if statuspage else "status page"
    target = (
        f"Statuspage page {config.statuspage.page_id}"
        if config.statuspage.kind == "statuspage"
        else f"the static status page ({where})"
    )
    sure = await cockpit.push_screen_wait(
        confirm(
            f"Post this update to {target}?",
            Group(
                Text("Customers will see exactly this:\n"),
                customer_preview(
                    update.title,
                    update.status.value,
                    update.body,
                    ", ".join(update.components),
                    cockpit.clock.now(),
                ),
            ),
            confirm_label="Post update",
        )
    )
    if sure is None:
        return
    cockpit.report(await actions.customer_update(update))
    cockpit.wake_outbox()
    cockpit.refresh_all()


async def escalate(cockpit: Cockpit, group: AlertGroup | None) -> None:
    """e: page a developer team, prefilled from the selected alert group's team."""
    pager = cockpit.runtime.pager
    if pager is None:
        cockpit.notify("no pager configured: add [pager] or [alertmanager]", severity="warning")
        return
    actions = cockpit.actions
    team = group.team if group else ""
    incident = actions.current_incident()
    summary = incident.title if incident else (group.name if group else "")
    pager_name = cockpit.config.pager.kind if cockpit.config.pager else pager.name

    def preview(values: dict[str, Any]) -> RenderableType:
        esc = actions.escalation_for(values.get("team", ""), values.get("summary", ""))
        return escalation_preview(esc, pager_name)

    values = await cockpit.push_screen_wait(
        confirm(
            "Escalate to a developer team?",
            Text(
                f"Pages the team through {pager_name}. Pressing it again for the same "
                "incident and team does not page twice."
            ),
            confirm_label="Page team",
            fields=[
                Field("team", "Team", team),
                Field("summary", "Summary", clean(summary, 200)),
            ],
            preview=preview,
            validate=lambda v: "" if v["team"].strip() else "name the team to page",
        )
    )
    if values is None:
        return
    escalation = actions.escalation_for(values["team"], values["summary"])
    cockpit.report(await actions.escalate(escalation))
    cockpit.wake_outbox()


async def postmortem(cockpit: Cockpit) -> None:
    """P: the post-mortem draft of the open (else the last) incident, written to a file."""
    store = cockpit.actions.store
    incident = cockpit.actions.current_incident() or next(iter(store.incidents(1)), None)
    if incident is None:
        return
    try:
        from cockpit.incident.postmortem import write_postmortem

        path = await asyncio.to_thread(
            write_postmortem,
            store,
            incident.id,
            cockpit.runtime.postmortem_dir,
            cockpit.clock.now(),
        )
    except Exception as exc:
        cockpit.notify(f"could not write the post-mortem: {clean(exc)}", severity="error")
        return
    cockpit.notify(f"post-mortem draft written to {clean(path)}")


async def past_incidents(cockpit: Cockpit) -> None:
    """Palette: pick a past incident and read its record and timeline (read-only)."""
    store = cockpit.actions.store
    incidents = store.incidents(50)
    if not incidents:
        cockpit.notify("no incident recorded yet")
        return
    chosen = await cockpit.push_screen_wait(
        PickScreen(
            "Open a past incident (read-only)",
            [
                (
                    f"{i.id} {i.severity.value} {i.status.value} "
                    f"{i.started_at:%Y-%m-%d %H:%M} {i.title}",
                    i.id,
                )
                for i in incidents
            ],
        )
    )
    if chosen:
        incident = store.get_incident(chosen)
        if incident is not None:
            events = store.timeline(incident.id, limit=1000)
            cockpit.push_screen(
                DetailScreen(f"{incident.id} (read-only)", incident_record(incident, events))
            )


async def detail(cockpit: Cockpit, event: TimelineEvent) -> None:
    """enter on the timeline: who did what, with the ids and the evidence recorded."""
    cockpit.push_screen(DetailScreen(f"Timeline event {event.id}", event_detail(event)))
