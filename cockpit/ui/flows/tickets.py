"""Tickets: `b` files a bug for the developers in Jira, with what the engineer saw.

The form is prefilled: the summary is the incident's internal title, the project comes
from the incident's team ([jira.teams], else [jira] project), the priority from its
severity, and the description (light Markdown, shown as Jira will render its ADF) holds
the evidence snapshot, the timeline so far and the links. A confirmation names the
project and the issue type; then the ticket goes into the outbox, which files it once.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from rich.console import Group
from rich.text import Text

from cockpit.backends import jira_adf
from cockpit.domain import TicketDraft
from cockpit.incident.ticket_draft import (
    describe,
    draft_for,
    gather_evidence,
    incident_team,
    problems,
)
from cockpit.live import short_duration
from cockpit.ui.context import Cockpit
from cockpit.ui.details import ticket_preview
from cockpit.ui.screens.forms import Field, confirm, form
from cockpit.ui.text import clean

PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest")
NO_PRIORITY = "(none)"


async def file_ticket(cockpit: Cockpit) -> None:
    """b: a bug ticket in Jira for the selected incident, through the outbox."""
    actions = cockpit.actions
    jira = cockpit.config.jira
    if jira is None or cockpit.runtime.tracker is None:
        cockpit.notify(
            "Jira is not configured: add a [jira] section (cockpit config example)",
            severity="warning",
        )
        return
    incident = actions.selected_incident()
    if incident is None:
        cockpit.notify("a ticket belongs to an incident: declare one first (i)", severity="warning")
        return
    now = cockpit.clock.now()
    timeline = actions.store.timeline(incident.id, limit=500)
    team = incident_team(incident, timeline, cockpit.live)
    evidence = await gather_evidence(cockpit.live, cockpit.runtime.cluster, now)
    base = draft_for(
        jira,
        incident,
        number=actions.next_ticket_number(incident.id),
        team=team,
        description=describe(incident, evidence, timeline, now, filed_by=actions.identity.display),
        filed_by=actions.identity.display,
    )
    where = "Jira Cloud" if jira.api_version == 3 else "Jira Data Center"

    def drafted(values: dict[str, Any]) -> TicketDraft:
        priority = str(values.get("priority", base.priority))
        return dataclasses.replace(
            base,
            project=str(values.get("project", base.project)).strip().upper(),
            summary=" ".join(str(values.get("summary", base.summary)).split()),
            priority="" if priority == NO_PRIORITY else priority,
            description=str(values.get("description", base.description)),
        )

    filed = actions.tickets_of(incident.id)
    # short: at 80x24 the form and its buttons must fit; the confirmation is the preview
    body = Text(
        f"A {clean(base.issue_type)} for {clean(team) or 'the developers'}, with the evidence, "
        "the timeline and the links (## heading, - item)."
    )
    if filed:
        body.append(
            "\nAlready filed for this incident: "
            + clean(", ".join(t.describe() for t in filed), 200),
            style="bold",
        )
    priorities = list(dict.fromkeys([*PRIORITIES, *jira.priorities.values()]))
    values = await cockpit.push_screen_wait(
        form(
            f"Bug ticket for {incident.id}",
            [
                Field("summary", "Summary", base.summary),
                Field("project", "Jira project", base.project),
                Field(
                    "priority",
                    "Priority (from the severity)",
                    base.priority or NO_PRIORITY,
                    kind="select",
                    options=[(p, p) for p in [*priorities, NO_PRIORITY]],
                ),
                Field("description", "Description", base.description, kind="text"),
            ],
            body=body,
            submit_label="Review",
            validate=lambda v: problems(drafted(v)),
        )
    )
    if values is None:
        return
    draft = drafted(values)
    review = confirm(
        f"File a {clean(draft.issue_type)} in Jira project {clean(draft.project)}?",
        Group(
            Text(
                f"Creates one {clean(draft.issue_type)} in {clean(draft.project)} at "
                f"{clean(jira.url)}, labelled {clean(draft.label)}. It is stored first and "
                "sent once, even across a crash; its status and the developers' comments "
                f"come back to the timeline every {short_duration(jira.poll)}.\n"
            ),
            ticket_preview(draft, jira_adf.from_text(draft.description), where),
        ),
        confirm_label="File ticket",
    )
    review.add_class("-tall")  # the preview is the point of this confirmation: room for it
    sure = await cockpit.push_screen_wait(review)
    if sure is None:
        return
    cockpit.report(await actions.file_ticket(draft))
    cockpit.wake_outbox()
    cockpit.refresh_all()
