"""Incident flows: declare, note, status, severity, commander, customer update, escalate,
post-mortem, past incidents, a timeline event's detail."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from cockpit.domain import AlertGroup, EventKind, Incident, IncidentStatus, Severity, TimelineEvent
from cockpit.incident.wording import (
    customer_template,
    customer_warnings,
    default_components,
    internal_terms,
    pager_words,
    suggest_customer_title,
    update_cadence,
    with_next_update,
)
from cockpit.ui.context import Cockpit
from cockpit.ui.details import customer_preview, escalation_preview, event_detail, incident_record
from cockpit.ui.screens.forms import Field, FormScreen, confirm, form
from cockpit.ui.screens.views import DetailScreen, PickScreen
from cockpit.ui.text import clean

# why developers were needed (the shift report's escalation reasons); optional
ESCALATION_REASONS = (
    ("no reason given", ""),
    ("bug", "bug"),
    ("no runbook", "no runbook"),
    ("no access", "no access"),
    ("wrong team", "wrong team"),
)
NOTHING_SENT = "cancelled: nothing sent"


async def declare(cockpit: Cockpit, group: AlertGroup | None) -> None:
    """i: open an incident, prefilled from the selected alert group: its internal title,
    severity, team and service; the customer-facing title from the config's words."""
    actions = cockpit.actions
    config = cockpit.config
    title, severity, team, service = "", Severity.SEV3, "", ""
    if group is not None:
        title = group.firing[0].summary if group.firing and group.firing[0].summary else group.name
        severity = Severity.from_alert_severity(group.severity)
        team, service = group.team, group.service
    already = [i for i in actions.active_incidents() if i.is_open]
    body = "Opens an incident; the shift log's last hour joins its timeline."
    if already:
        body += f" {', '.join(i.id for i in already)} stays open too: [ and ] switch between them."
    terms = internal_terms(cockpit.live.groups, config)

    def preview(values: dict[str, Any]) -> RenderableType:
        words = str(values.get("customer_title", ""))
        text = Text.assemble(("Customers will read: ", "dim"), (clean(words), "bold"))
        for warning in customer_warnings(words, terms | {title} if title else terms):
            text.append(f"\n! {clean(warning)}", style="bold red")
        return text

    def problems(values: dict[str, Any]) -> str:
        if not str(values["title"]).strip():
            return "the incident needs a title"
        if not str(values["customer_title"]).strip():
            return "the incident needs a title customers can read"
        return ""

    values = await cockpit.push_screen_wait(
        form(
            "Declare an incident",
            [
                Field("title", "Title (internal)", clean(title, 120)),
                Field(
                    "customer_title",
                    "Title customers see on the status page",
                    suggest_customer_title(config, service),
                ),
                Field(
                    "severity",
                    "Severity",
                    severity.value,
                    kind="select",
                    options=[(s.value, s.value) for s in Severity],
                ),
                Field("team", "Team that owns it (paged by e)", clean(team, 60)),
                Field("service", "Service", clean(service, 60)),
                Field("commander", "Incident commander", actions.actor),
            ],
            body=body,
            submit_label="Declare",
            preview=preview,
            validate=problems,
        )
    )
    if values is None:
        return
    result = await actions.declare(
        values["title"],
        Severity(values["severity"]),
        values.get("commander", ""),
        group=group,
        team=values.get("team", ""),
        service=values.get("service", ""),
        customer_title=values.get("customer_title", ""),
    )
    cockpit.report(result)
    cockpit.refresh_all()


async def note(cockpit: Cockpit, ticket: str = "") -> None:
    """n: a note on the selected incident's timeline, or on the shift log. On a ticket's row
    (a Jira event in the incident panel) the note goes to that ticket as a comment too."""
    incident = cockpit.actions.selected_incident()
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
    """s: move the incident on (investigating -> identified -> ...), or resolve it; resolving
    offers the resolved customer update right away."""
    actions = cockpit.actions
    incident = actions.selected_incident()
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
            body="Resolving keeps the incident on the panel until you close it (x); the "
            "resolved customer update is offered next.",
            submit_label="Set status",
        )
    )
    if values is None:
        return
    new = IncidentStatus(values["status"])
    # `incident` is what the engineer saw when the dialog opened: on the shared store a
    # status someone else set meanwhile is reported, not overwritten
    result = await actions.set_status(new, base=incident)
    cockpit.report(result)
    cockpit.refresh_all()
    if result.ok and new is IncidentStatus.RESOLVED and cockpit.runtime.statuspage is not None:
        resolved = actions.store.get_incident(incident.id)
        if resolved is not None:
            await _compose_update(cockpit, resolved, IncidentStatus.RESOLVED, after_resolve=True)


async def severity(cockpit: Cockpit) -> None:
    """v: change the incident's severity."""
    incident = cockpit.actions.selected_incident()
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
    severity = Severity(values["severity"])
    cockpit.report(await cockpit.actions.set_severity(severity, base=incident))


async def commander(cockpit: Cockpit) -> None:
    """c: hand the incident to another commander."""
    incident = cockpit.actions.selected_incident()
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
    cockpit.report(await cockpit.actions.set_commander(values["commander"], base=incident))


async def owner(cockpit: Cockpit) -> None:
    """o: the team that owns the incident (e pages it) and the affected service."""
    incident = cockpit.actions.selected_incident()
    if incident is None:
        return
    values = await cockpit.push_screen_wait(
        form(
            f"Owner of {incident.id}",
            [
                Field("team", "Team that owns it (paged by e)", incident.team),
                Field("service", "Service", incident.service),
            ],
            submit_label="Set owner",
            validate=lambda v: "" if v["team"].strip() else "the incident needs a team",
        )
    )
    if values is None:
        return
    owner = await cockpit.actions.set_owner(values["team"], values["service"], base=incident)
    cockpit.report(owner)
    cockpit.refresh_all()


async def close(cockpit: Cockpit) -> None:
    """x: take a resolved incident off the panel (its record stays: past incidents)."""
    actions = cockpit.actions
    incident = actions.selected_incident()
    if incident is None:
        return
    if incident.is_open:
        cockpit.notify(f"{incident.id} is not resolved: resolve it first (s)", severity="warning")
        return
    last = _last_update_status(cockpit, incident)
    told = (
        "Customers were told it is resolved."
        if last == IncidentStatus.RESOLVED.value
        else "Customers were NOT told it is resolved: u posts the resolved update first."
    )
    sure = await cockpit.push_screen_wait(
        confirm(
            f"Close {incident.id}?",
            Text(f"It leaves the incident panel; its record stays (past incidents). {told}"),
            confirm_label="Close incident",
            danger=False,
        )
    )
    if sure is None:
        return
    cockpit.report(await actions.close_incident())
    cockpit.refresh_all()


async def switch(cockpit: Cockpit, step: int) -> None:
    """[ and ]: the previous / next incident on the panel; every action then goes to it."""
    actions = cockpit.actions
    if len(actions.active_incidents()) < 2:
        cockpit.notify("only one incident is on the panel")
        return
    chosen = actions.select_next(step)
    if chosen is not None:
        cockpit.notify(f"{chosen.id} {chosen.status.value}: {clean(chosen.title, 80)}")
    cockpit.refresh_all()


def _last_update_status(cockpit: Cockpit, incident: Incident) -> str:
    for event in cockpit.actions.store.timeline(incident.id, limit=500):
        if event.kind is EventKind.CUSTOMER_UPDATE and "status" in event.details:
            return str(event.details["status"])
    return ""


async def customer_update(cockpit: Cockpit) -> None:
    """u: the update from the status's template in customer words, the next update's
    promise, a review of exactly what customers see, then the outbox. Works on a resolved
    incident until it is closed (customers must hear that it is fixed)."""
    incident = cockpit.actions.selected_incident()
    if incident is None:
        cockpit.notify("declare an incident first (i)", severity="warning")
        return
    await _compose_update(cockpit, incident, incident.status)


async def _compose_update(
    cockpit: Cockpit, incident: Incident, status: IncidentStatus, *, after_resolve: bool = False
) -> None:
    actions = cockpit.actions
    config = cockpit.config
    terms = internal_terms(cockpit.live.groups, config) | {incident.title}
    cadence = update_cadence(config, incident.severity)
    minutes = str(int(cadence.total_seconds() // 60)) if cadence else ""
    components = ", ".join(default_components(config, incident))

    def template(for_status: str) -> str:
        return customer_template(config, for_status or status.value, incident)

    def next_in(values: dict[str, Any]) -> timedelta | None:
        text = str(values.get("next", "")).strip()
        return timedelta(minutes=int(text)) if text.isdigit() and int(text) > 0 else None

    def due(values: dict[str, Any]) -> Any:
        delay = next_in(values)
        if values.get("status") == IncidentStatus.RESOLVED.value or delay is None:
            return None
        return cockpit.clock.now() + delay

    def preview(values: dict[str, Any]) -> RenderableType:
        body = str(values.get("body", ""))
        return customer_preview(
            incident.public_title,
            str(values.get("status", status.value)),
            with_next_update(body, due(values)),
            str(values.get("components", "")),
            cockpit.clock.now(),
            customer_warnings(f"{incident.public_title}\n{body}", terms),
        )

    def problems(values: dict[str, Any]) -> str:
        if not str(values["body"]).strip():
            return "the message is empty"
        text = str(values.get("next", "")).strip()
        if text and (not text.isdigit() or not 1 <= int(text) <= 24 * 60):
            return "next update in: whole minutes (1-1440), or empty for no promise"
        return ""

    title = f"Customer update for {incident.id}"
    if after_resolve:
        title = f"{incident.id} is resolved: tell customers"
    screen = form(
        title,
        [
            Field(
                "status",
                "Status customers see",
                status.value,
                kind="select",
                options=[(s.value, s.value) for s in IncidentStatus],
            ),
            Field(
                "body",
                "Message",
                template(status.value),
                kind="text",
                follows="status",
                template=template,
            ),
            Field("next", "Next update in minutes (empty: no promise; not when resolved)", minutes),
            Field("components", "Affected components (comma separated)", components),
        ],
        body=f'The status page shows the title "{clean(incident.public_title, 80)}".',
        submit_label="Review",
        preview=preview,
        validate=problems,
    )
    values = await cockpit.push_screen_wait(screen)
    if values is None:
        _cancelled(cockpit, screen, after_resolve)
        return
    comps = tuple(c.strip() for c in values["components"].split(",") if c.strip())
    chosen = IncidentStatus(values["status"])
    update = actions.customer_update_for(
        chosen, values["body"], comps, next_update_in=next_in(values)
    )
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
                    customer_warnings(f"{update.title}\n{update.body}", terms),
                ),
            ),
            confirm_label="Post update",
        )
    )
    if sure is None:
        cockpit.notify(f"Customer update {NOTHING_SENT}", severity="warning")
        return
    cockpit.report(await actions.customer_update(update))
    cockpit.wake_outbox()
    cockpit.refresh_all()


def _cancelled(cockpit: Cockpit, screen: FormScreen, after_resolve: bool) -> None:
    """An edited form has said "cancelled: nothing sent" itself; the resolved update
    offered after resolving says what customers still see."""
    if after_resolve:
        cockpit.notify(
            f"Resolved update {NOTHING_SENT}: customers still see the last update (u posts it)",
            severity="warning",
        )


async def escalate(cockpit: Cockpit, group: AlertGroup | None) -> None:
    """e: page a developer team: the incident's own team whatever row is selected (with no
    incident, the selected alert's team); the pager is named in words; a reason is asked."""
    pager = cockpit.runtime.pager
    if pager is None:
        cockpit.notify("no pager configured: add [pager] or [alertmanager]", severity="warning")
        return
    actions = cockpit.actions
    config = cockpit.config
    incident = actions.selected_incident()
    if incident is not None:
        team = incident.team
        summary = incident.title
    else:
        team = group.team if group else ""
        summary = group.name if group else ""
    paged = _teams_paged(cockpit, incident)
    body = (
        "Pages the team named below. Pressing it again for the same incident and team does "
        "not page twice; another team is paged separately. Enter moves to the buttons."
    )
    if paged:
        body += f" Already paged for {incident.id if incident else 'this'}: {', '.join(paged)}."

    def preview(values: dict[str, Any]) -> RenderableType:
        words, problem = pager_words(config, pager.name, str(values.get("team", "")))
        esc = actions.escalation_for(
            values.get("team", ""), values.get("summary", ""), values.get("reason", "")
        )
        head = Text(problem or f"Pages: {words}", style="bold red" if problem else "bold")
        return Group(head, escalation_preview(esc, words or pager.name))

    def problems(values: dict[str, Any]) -> str:
        if not str(values["team"]).strip():
            return "name the team to page" + (
                f": {incident.id} has no team yet (o sets it)" if incident else ""
            )
        return pager_words(config, pager.name, str(values["team"]))[1]

    screen = confirm(
        "Escalate to a developer team?",
        Text(body),
        confirm_label="Page team",
        fields=[
            Field("team", "Team", clean(team, 60)),
            Field("summary", "Summary", clean(summary, 200)),
            Field(
                "reason", "Why developers (optional)", "", kind="select", options=ESCALATION_REASONS
            ),
        ],
        preview=preview,
        validate=problems,
    )
    values = await cockpit.push_screen_wait(screen)
    if values is None:
        if not screen.edited:  # an edited dialog already said "cancelled: nothing sent"
            cockpit.notify("Escalation cancelled: nobody was paged", severity="warning")
        return
    escalation = actions.escalation_for(values["team"], values["summary"], values["reason"])
    cockpit.report(await actions.escalate(escalation))
    cockpit.wake_outbox()
    cockpit.refresh_all()


def _teams_paged(cockpit: Cockpit, incident: Incident | None) -> list[str]:
    if incident is None:
        return []
    teams: list[str] = []
    for event in cockpit.actions.store.timeline(incident.id, limit=500):
        team = event.details.get("team") if event.kind is EventKind.ESCALATION else None
        if isinstance(team, str) and team and team not in teams:
            teams.append(team)
    return teams


async def postmortem(cockpit: Cockpit) -> None:
    """P: the post-mortem draft of the selected (else the last) incident, written to a file
    in a directory that stays the same, named so that it fits the notification."""
    store = cockpit.actions.store
    incident = cockpit.actions.selected_incident() or next(iter(store.incidents(1)), None)
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
    from cockpit.incident.postmortem import short_path

    cockpit.notify(f"post-mortem draft written to {clean(short_path(path, 70))}")


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
