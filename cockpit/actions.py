"""The one action layer: every change the engineer makes goes through here.

The UI asks for confirmation first; then an action here checks read-only mode,
records the attempt in the audit log, calls the backend, writes a timeline event
(who, what, target, result, the ids the backend returned and a snapshot of what
the engineer saw) on the current incident or, when none is open, on the shift log,
records the outcome and returns an ActionResult for the notification.

A failing backend call changes nothing locally and comes back as a failed
ActionResult with a clear one-line message; it never raises into the UI.
Outbound writes that must not be lost (customer updates, pages) go through the
outbox: stored first, sent after, retried, never sent twice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from cockpit.backends.base import (
    AlertSource,
    BackendError,
    Broker,
    Cluster,
    Pager,
    StatusPage,
    TicketTracker,
)
from cockpit.clock import Clock
from cockpit.config import Identity
from cockpit.domain import (
    ActionResult,
    AlertGroup,
    CustomerUpdate,
    Escalation,
    EventKind,
    Incident,
    IncidentStatus,
    PodHealth,
    QueueDepth,
    QueueMessage,
    RestartMode,
    Severity,
    TicketDraft,
    TimelineEvent,
)
from cockpit.incident.outbox import (
    TICKET,
    TICKET_COMMENT,
    customer_update_payload,
    escalation_payload,
    ticket_comment_payload,
    ticket_payload,
)
from cockpit.incident.store import (
    SHIFT_LOG_ADOPTION_WINDOW,
    IncidentStore,
    SQLiteStore,
    StoreConflict,
)
from cockpit.incident.tickets import TicketBook, TicketRecord
from cockpit.incident.wording import with_next_update
from cockpit.live import LiveState
from cockpit.runbooks import Runbook, Step, done_steps, step_event_details

if TYPE_CHECKING:
    from cockpit.incident.outbox import Outbox

log = logging.getLogger(__name__)

# the same restart or quarantine again within this window, from any seat, asks first
REPEAT_WINDOW = timedelta(seconds=60)


class Auditor(Protocol):
    def record(
        self,
        actor: str,
        action: str,
        target: str,
        outcome: str,
        ids: dict[str, str] | None = None,
        detail: str = "",
    ) -> None: ...


@dataclass(frozen=True)
class ActionSpec:
    """An action the engineer can take: its key, what it does, and whether it writes.

    This one table drives the read-only gate here, and in the UI the key bindings (the
    panel's or the app's action `id`), the footer (`label`), the help and the palette:
    adding a key means adding a line here and the panel's (or app's) `action_<id>`."""

    id: str
    key: str
    description: str
    writes: bool  # writes anywhere outside the cockpit's own view: refused when read-only
    panel: str = ""  # alerts / incident / pods / queues, "" for anywhere
    label: str = ""  # the footer's word for it (offered once the panel has action_<id>)
    via: str = ""  # the key lives in a screen this action of the panel opens (help, palette)


ACTIONS: tuple[ActionSpec, ...] = (
    # id, key, what it does (help, palette), writes?, panel ("" anywhere), footer label
    ActionSpec("ack", "a", "Acknowledge the selected alert group (a short silence)", True,
               "alerts", "Ack"),
    ActionSpec("unack", "A", "Remove the acknowledgement (expire the silence)", True,
               "alerts", "Unack"),
    ActionSpec("follow", "f", "Follow the alert: only the pods and queues it names (f again: all)",
               False, "alerts", "Follow"),
    ActionSpec("runbook", "o", "Open the alert's runbook, its steps as a checklist", False,
               "alerts", "Runbook"),
    ActionSpec("runbook_step", "x", "Check off the selected runbook step (on the timeline, once)",
               True, "alerts", via="runbook"),
    ActionSpec("unfollow", "escape", "Stop following the alert: every pod and queue again",
               False, "", "All rows"),
    ActionSpec("declare", "i", "Declare an incident (prefilled from the selected alert)", True,
               "", "Declare"),
    ActionSpec("note", "n", "Add a note to the incident timeline", True, "", "Note"),
    ActionSpec("customer_update", "u", "Post a customer update to the status page", True,
               "", "Update"),
    ActionSpec("escalate", "e", "Escalate to a developer team (page them)", True,
               "", "Escalate"),
    ActionSpec("ticket", "b", "File a bug ticket in Jira with the evidence (follow it here)",
               True, "", "Bug"),
    ActionSpec("set_status", "s", "Change the incident status / resolve it", True,
               "incident", "Status"),
    ActionSpec("set_severity", "v", "Change the incident severity", True,
               "incident", "Severity"),
    ActionSpec("set_commander", "c", "Change the incident commander", True,
               "incident", "Commander"),
    ActionSpec("set_owner", "o", "Change the incident's team and service", True,
               "incident", "Owner"),
    ActionSpec("close_incident", "x", "Close the resolved incident (off the panel)", True,
               "incident", "Close"),
    ActionSpec("next_incident", "]", "Next open incident on the panel", False,
               "incident", "Next"),
    ActionSpec("previous_incident", "[", "Previous open incident on the panel", False,
               "incident"),
    ActionSpec("postmortem", "P", "Write the post-mortem draft to a file", False,
               "incident", "Post-mortem"),
    ActionSpec("handover", "h", "Shift handover: review, edit, save; acknowledge one", True),
    ActionSpec("restart", "r", "Restart the selected pod", True, "pods", "Restart"),
    ActionSpec("logs", "l", "Show the selected pod's logs", False, "pods", "Logs"),
    ActionSpec("messages", "m", "Show the messages at the head of the queue", False,
               "queues", "Messages"),
    ActionSpec("quarantine", "d", "Quarantine the selected message", True,
               "queues", "Quarantine message", via="messages"),
)  # fmt: skip
WRITE_ACTIONS = frozenset(a.id for a in ACTIONS if a.writes)


class Actions:
    def __init__(
        self,
        *,
        store: IncidentStore,
        identity: Identity,
        clock: Clock,
        live: LiveState,
        alerts: AlertSource | None = None,
        cluster: Cluster | None = None,
        broker: Broker | None = None,
        statuspage: StatusPage | None = None,
        pager: Pager | None = None,
        outbox: Outbox | None = None,
        audit: Auditor | None = None,
        read_only: bool = False,
        tracker: TicketTracker | None = None,
    ) -> None:
        self.store = store
        self.identity = identity
        self.clock = clock
        self.live = live
        self.alerts = alerts
        self.cluster = cluster
        self.broker = broker
        self.statuspage = statuspage
        self.pager = pager
        self.outbox = outbox
        self.audit = audit
        self.read_only = read_only
        self.tracker = tracker
        # the tickets filed (their key, URL and last polled status) live next to the outbox
        # (SQLite only for now: on the shared PostgreSQL store tickets are filed through its
        # outbox, their key and URL are on the timeline, but nothing follows them yet)
        self.tickets: TicketBook | None = None
        if tracker is not None and outbox is not None and isinstance(outbox.store, SQLiteStore):
            self.tickets = TicketBook(outbox.store)
        self.listeners: list[Callable[[TimelineEvent], None]] = []
        self.audit_problem = ""  # why the audit log is not being written, "" when it is
        # the incident the engineer chose on the panel ([ / ]); None: the newest
        self.selected_id: str | None = None

    # ----------------------------------------------------------------- helpers

    @property
    def actor(self) -> str:
        return self.identity.name

    def allowed(self, action_id: str) -> bool:
        return not (self.read_only and action_id in WRITE_ACTIONS)

    def active_incidents(self) -> list[Incident]:
        """Incidents on the panel: open ones and resolved ones not closed yet, oldest first."""
        return self.store.active_incidents()

    def selected_incident(self) -> Incident | None:
        """The incident the engineer works on: the chosen one while it is not closed, else
        the newest open one, else the newest resolved one still on the panel."""
        active = self.store.active_incidents()
        if not active:
            return None
        if self.selected_id is not None:
            for incident in active:
                if incident.id == self.selected_id:
                    return incident
        still_open = [i for i in active if i.is_open]
        return (still_open or active)[-1]

    def select(self, incident_id: str | None) -> Incident | None:
        """Make this incident the one every incident action goes to."""
        self.selected_id = incident_id
        return self.selected_incident()

    def select_next(self, step: int) -> Incident | None:
        """The next (+1) or previous (-1) incident on the panel, wrapping around."""
        active = self.store.active_incidents()
        if not active:
            return None
        current = self.selected_incident()
        ids = [i.id for i in active]
        index = ids.index(current.id) if current is not None and current.id in ids else 0
        return self.select(ids[(index + step) % len(ids)])

    def current_incident(self) -> Incident | None:
        """Where the events of new actions go: the selected incident while it is open (not
        resolved), else the newest open one, else None: the shift log."""
        selected = self.selected_incident()
        if selected is not None and selected.is_open:
            return selected
        return self.store.current_incident()

    def record(
        self,
        kind: EventKind,
        source: str,
        summary: str,
        details: dict[str, Any] | None = None,
        *,
        incident_id: str | None = None,
        evidence: bool = True,
    ) -> TimelineEvent:
        """Commit a timeline event (before anything shows it) and tell the listeners."""
        incident = self.current_incident()
        data = dict(details or {})
        if evidence:
            data.setdefault("evidence", self.live.evidence())
        event = self.store.add_event(
            TimelineEvent(
                at=self.clock.now(),
                kind=kind,
                source=source,
                actor=self.actor,
                summary=summary,
                details=data,
                incident_id=incident_id or (incident.id if incident else None),
            )
        )
        for listener in self.listeners:
            listener(event)
        return event

    def _audit(
        self, action: str, target: str, outcome: str, ids: dict[str, str] | None = None
    ) -> None:
        if self.audit is None:
            return
        try:
            self.audit.record(self.actor, action, target, outcome, ids or {})
        except Exception as exc:  # AuditError, a full disk...: never undo or hide the action
            self._audit_failed(str(exc) or type(exc).__name__)
        else:
            self.audit_problem = ""

    def _audit_failed(self, problem: str) -> None:
        """Say once on the timeline (and in the log) that the audit log is not being written;
        the action itself stays committed and its result is returned as usual."""
        log.error("audit log write failed: %s", problem)
        if problem == self.audit_problem:
            return
        self.audit_problem = problem
        try:
            self.record(
                EventKind.ERROR, "audit", f"Audit log not written: {problem}", evidence=False
            )
        except Exception:  # the store failing too: the log line above is all we can do
            log.exception("could not record the audit failure")

    async def _run(
        self,
        action: str,
        target: str,
        call: Callable[[], Awaitable[ActionResult]],
        *,
        kind: EventKind,
        source: str,
        details: dict[str, Any] | None = None,
        incident_id: str | None = None,
    ) -> ActionResult:
        """Read-only check, audit, backend call, timeline event, audit: every write's path.
        The event goes to `incident_id`, else to the current incident or the shift log."""
        if not self.allowed(action):
            self._audit(action, target, "refused", {"reason": "read-only"})
            return ActionResult.failure(f"read-only mode: {action} is disabled")
        self._audit(action, target, "attempt")
        try:
            result = await call()
        except BackendError as exc:
            result = ActionResult.failure(f"{action} {target} failed: {exc}")
        except Exception as exc:  # an unexpected bug must not take the screen down
            log.exception("action %s failed", action)
            result = ActionResult.failure(f"{action} {target} failed: {type(exc).__name__}")
        if result.ok:
            data = {"target": target, "ids": dict(result.ids), **(details or {})}
            self.record(kind, source, result.message, data, incident_id=incident_id)
        self._audit(action, target, "ok" if result.ok else "failed", dict(result.ids))
        return result

    # ----------------------------------------------------------------- alerts

    def ack_comment(self, note: str) -> str:
        incident = self.current_incident()
        text = "ACK!"
        if note.strip():
            text += " " + note.strip()
        if incident:
            text += f" (incident {incident.id})"
        return text

    async def ack(self, group: AlertGroup, duration: timedelta, note: str = "") -> ActionResult:
        source = self.alerts
        if source is None:
            return ActionResult.failure("alerts are not configured")
        comment = self.ack_comment(note)

        async def call() -> ActionResult:
            silence = await source.ack(group, duration=duration, author=self.actor, comment=comment)
            return ActionResult.success(
                f"Acknowledged {group.name} until {silence.ends_at:%H:%M} UTC "
                f"(silence {silence.id})",
                silence_id=silence.id,
            )

        return await self._run(
            "ack",
            group.name,
            call,
            kind=EventKind.ACK,
            source="alertmanager",
            details={
                "matchers": group.common_labels,
                "duration_s": duration.total_seconds(),
                # which firings the ack answered: the shift report's time to acknowledge
                "group_key": group.key,
                "fingerprints": [a.fingerprint for a in group.alerts],
                "started_at": group.started_at.isoformat() if group.started_at else None,
            },
        )

    async def unack(self, group: AlertGroup) -> ActionResult:
        source = self.alerts
        if source is None:
            return ActionResult.failure("alerts are not configured")
        if group.ack is None:
            return ActionResult.failure(f"{group.name} is not acknowledged")
        silence_id = group.ack.id

        async def call() -> ActionResult:
            await source.unack(silence_id)
            return ActionResult.success(
                f"Removed the ack of {group.name} (silence {silence_id} expired)",
                silence_id=silence_id,
            )

        return await self._run(
            "unack",
            group.name,
            call,
            kind=EventKind.UNACK,
            source="alertmanager",
            details={"matchers": group.common_labels},
        )

    # ----------------------------------------------------------------- incident lifecycle

    async def declare(
        self,
        title: str,
        severity: Severity,
        commander: str = "",
        components: tuple[str, ...] = (),
        *,
        group: AlertGroup | None = None,
        team: str | None = None,
        service: str | None = None,
        customer_title: str = "",
    ) -> ActionResult:
        """Open an incident. With the declaring alert group, the incident owns its team and
        service (from the group's labels unless given) and counts its detection from the
        group's earliest startsAt."""
        if not self.allowed("declare"):
            self._audit("declare", title, "refused", {"reason": "read-only"})
            return ActionResult.failure("read-only mode: declare is disabled")
        title = title.strip()
        if not title:
            return ActionResult.failure("an incident needs a title")
        now = self.clock.now()
        try:
            incident = self.store.create_incident(
                Incident(
                    id=self.store.next_incident_id(now),
                    title=title,
                    severity=severity,
                    status=IncidentStatus.INVESTIGATING,
                    commander=commander.strip() or self.actor,
                    started_at=now,
                    components=components,
                    team=(group.team if team is None and group else team or "").strip(),
                    service=(group.service if service is None and group else service or "").strip(),
                    customer_title=customer_title.strip(),
                    alert_group=group.key if group else "",
                    detected_at=group.started_at if group else None,
                )
            )
        except StoreConflict as exc:  # another engineer declared it a moment before
            self._audit("declare", title, "conflict")
            return ActionResult.failure(f"not declared: {exc}")
        self._audit("declare", incident.id, "attempt")
        self.selected_id = incident.id  # what the engineer does next is about this one
        # what happened just before the declaration belongs to the incident
        adopted = self.store.adopt_shift_log(incident.id, now - SHIFT_LOG_ADOPTION_WINDOW)
        owner = f", team {incident.team}" if incident.team else ""
        self.record(
            EventKind.DECLARED,
            "cockpit",
            f"Declared {incident.id} {severity.value}: {title} "
            f"(commander {incident.commander}{owner})",
            {
                "adopted_events": adopted,
                "team": incident.team,
                "service": incident.service,
                "customer_title": incident.customer_title,
                "alert_group": incident.alert_group,
            },
            incident_id=incident.id,
        )
        self._audit("declare", incident.id, "ok", {"incident": incident.id})
        return ActionResult.success(f"Declared {incident.id}: {title}", incident=incident.id)

    async def note(self, text: str, ticket_key: str = "") -> ActionResult:
        """A timeline note; with ticket_key it also goes to that Jira ticket as a comment."""
        if not self.allowed("note"):
            self._audit("note", "timeline", "refused", {"reason": "read-only"})
            return ActionResult.failure("read-only mode: notes are disabled")
        text = text.strip()
        if not text:
            return ActionResult.failure("the note is empty")
        selected = self.selected_incident()
        details: dict[str, Any] = {}
        if ticket_key and self.outbox is not None and self.tracker is not None and selected:
            # stored before the note: the comment is never lost, its result joins the timeline
            body = self.comment_body(text, selected.id)
            self._audit("ticket_comment", ticket_key, "attempt")
            item = self.outbox.enqueue(
                TICKET_COMMENT,
                selected.id,
                ticket_comment_payload(selected.id, ticket_key, body),
                f"comment:{ticket_key}:{self.clock.now().isoformat()}",
                self.clock.now(),
            )
            self._audit("ticket_comment", ticket_key, "queued", {"outbox_id": str(item.id)})
            details = {"ticket": ticket_key, "outbox_id": item.id}
        event = self.record(
            EventKind.NOTE, "cockpit", text, details, incident_id=selected.id if selected else None
        )
        where = event.incident_id or "the shift log"
        self._audit("note", where, "ok")
        if details:
            return ActionResult.success(
                f"Note added to {where}; Jira comment on {ticket_key} queued (sending)",
                outbox_id=str(details["outbox_id"]),
            )
        return ActionResult.success(f"Note added to {where}")

    def runbook_steps_done(self, runbook: Runbook) -> dict[str, TimelineEvent]:
        """The runbook's steps already checked on the open incident (else the shift log)."""
        incident = self.current_incident()
        events = self.store.timeline(incident.id if incident else None, limit=10_000)
        return done_steps(events, runbook.key)

    async def runbook_step(self, runbook: Runbook, step: Step) -> ActionResult:
        """Check a runbook step off: one timeline event, never two for the same step."""
        if not self.allowed("runbook_step"):
            self._audit("runbook_step", runbook.key, "refused", {"reason": "read-only"})
            return ActionResult.failure("read-only mode: runbook steps are not recorded")
        done = self.runbook_steps_done(runbook).get(step.text)
        if done is not None:
            return ActionResult(
                True,
                f"already done at {done.at:%H:%M} by {done.actor}: {step.text}",
                details={"recorded": False, "at": done.at, "actor": done.actor},
            )
        event = self.record(
            EventKind.RUNBOOK_STEP,
            "cockpit",
            f"runbook step: {step.text}",
            step_event_details(runbook, step),
        )
        where = event.incident_id or "the shift log"
        self._audit("runbook_step", runbook.key, "ok", {"step": str(step.number)})
        return ActionResult(
            True,
            f"step {step.number}/{len(runbook.steps)} done, on {where}: {step.text}",
            details={"recorded": True, "event_id": event.id, "at": event.at, "actor": self.actor},
        )

    def comment_body(self, text: str, incident_id: str) -> str:
        return f"{text}\n\n— {self.identity.display} via the on-call cockpit ({incident_id})"

    # ----------------------------------------------------------------- tickets

    def tickets_of(self, incident_id: str) -> list[TicketRecord]:
        return self.tickets.tickets(incident_id) if self.tickets is not None else []

    def next_ticket_number(self, incident_id: str) -> int:
        """n of the label cockpit-<incident>-<n>: tickets queued for the incident so far + 1."""
        if self.outbox is None:
            return 1
        return 1 + sum(1 for i in self.outbox.items(incident_id) if i.kind == TICKET)

    async def file_ticket(self, draft: TicketDraft) -> ActionResult:
        """Store the ticket in the outbox; the sender files it once (see incident/outbox.py)."""
        if self.tracker is None or self.outbox is None:
            return ActionResult.failure("Jira is not configured: add a [jira] section")
        if self.store.get_incident(draft.incident_id) is None:
            return ActionResult.failure("a ticket needs an open incident (press i)")
        if not draft.summary.strip():
            return ActionResult.failure("the ticket needs a summary")
        if not draft.project.strip():
            return ActionResult.failure("the ticket needs a Jira project")
        return self._enqueue(
            "ticket",
            TICKET,
            draft.project,
            ticket_payload(draft),
            key=f"ticket:{draft.incident_id}:{draft.number}",
            incident_id=draft.incident_id,
            summary=f"Jira {draft.issue_type} for {draft.project} queued: {draft.summary}",
            event_kind=EventKind.TICKET,
        )

    async def _change(
        self,
        action: str,
        change: dict[str, Any],
        kind: EventKind,
        summary: str,
        details: dict[str, Any] | None = None,
        *,
        base: Incident | None = None,
    ) -> ActionResult:
        """Change a field of the selected incident and put the change on its timeline.

        base: the incident as the engineer saw it when they started the change; on the
        shared store a field someone else changed since then is refused, not overwritten."""
        if not self.allowed(action):
            self._audit(action, "incident", "refused", {"reason": "read-only"})
            return ActionResult.failure(f"read-only mode: {action} is disabled")
        incident = self.selected_incident()
        if incident is None:
            return ActionResult.failure("no incident is open")
        if base is not None and base.id == incident.id:
            incident = base
        self._audit(action, incident.id, "attempt")
        try:
            updated = self.store.update_incident(dataclasses.replace(incident, **change))
        except StoreConflict as exc:
            self._audit(action, incident.id, "conflict", {"by": exc.by})
            return ActionResult.failure(str(exc))
        self.record(kind, "cockpit", summary.format(id=updated.id), details, incident_id=updated.id)
        self._audit(action, incident.id, "ok")
        return ActionResult.success(summary.format(id=updated.id), incident=updated.id)

    async def set_status(
        self, status: IncidentStatus, base: Incident | None = None
    ) -> ActionResult:
        change: dict[str, Any] = {"status": status}
        if status is IncidentStatus.RESOLVED:
            change["resolved_at"] = self.clock.now()
            return await self._change(
                "set_status", change, EventKind.RESOLVED, "{id} resolved", base=base
            )
        change["resolved_at"] = None  # reopened, or never resolved
        return await self._change(
            "set_status", change, EventKind.STATUS, f"{{id}} status: {status.value}", base=base
        )

    async def set_owner(
        self, team: str, service: str, base: Incident | None = None
    ) -> ActionResult:
        """The incident's team and service (who gets paged by default, what customers are
        told is affected). An empty team is refused: every incident has an owner."""
        team, service = team.strip(), service.strip()
        if not team:
            return ActionResult.failure("the incident needs a team (the one that owns it)")
        what = f"team {team}" + (f", service {service}" if service else "")
        return await self._change(
            "set_owner",
            {"team": team, "service": service},
            EventKind.OWNER,
            f"{{id}} owner: {what}",
            {"team": team, "service": service},
            base=base,
        )

    async def set_customer_title(self, title: str, base: Incident | None = None) -> ActionResult:
        title = title.strip()
        if not title:
            return ActionResult.failure("the customer-facing title is empty")
        return await self._change(
            "customer_update",
            {"customer_title": title},
            EventKind.NOTE,
            f"{{id}} customer-facing title: {title}",
            base=base,
        )

    async def close_incident(self) -> ActionResult:
        """Take a resolved incident off the panel; its record stays (past incidents)."""
        incident = self.selected_incident()
        if incident is None:
            return ActionResult.failure("no incident to close")
        if incident.is_open:
            return ActionResult.failure(f"{incident.id} is not resolved: resolve it first (s)")
        result = await self._change(
            "close_incident", {"closed_at": self.clock.now()}, EventKind.CLOSED, "{id} closed"
        )
        if result.ok and self.selected_id == incident.id:
            self.selected_id = None
        return result

    async def set_severity(self, severity: Severity, base: Incident | None = None) -> ActionResult:
        return await self._change(
            "set_severity",
            {"severity": severity},
            EventKind.SEVERITY,
            f"{{id}} severity: {severity.value}",
            base=base,
        )

    async def set_commander(self, commander: str, base: Incident | None = None) -> ActionResult:
        commander = commander.strip()
        if not commander:
            return ActionResult.failure("the commander needs a name")
        return await self._change(
            "set_commander",
            {"commander": commander},
            EventKind.COMMANDER,
            f"{{id}} commander: {commander}",
            base=base,
        )

    def session(self, what: str) -> None:
        """start / active / end of a cockpit session in the audit log: the shift report's
        time in the cockpit per engineer counts from these lines and the actions."""
        self._audit("session", "cockpit", what)

    # ----------------------------------------------------------------- handover

    async def handover(self, text: str) -> ActionResult:
        """Save the outgoing engineer's handover (Markdown) on the timeline."""
        if not self.allowed("handover"):
            self._audit("handover", "shift", "refused", {"reason": "read-only"})
            return ActionResult.failure("read-only mode: handover is disabled")
        text = text.strip()
        if not text:
            return ActionResult.failure("the handover is empty")
        event = self.record(
            EventKind.HANDOVER,
            "cockpit",
            f"Handover by {self.actor}",
            {"markdown": text, "acknowledged_by": None},
            evidence=False,
        )
        self._audit("handover", "shift", "ok", {"event": str(event.id)})
        return ActionResult.success(f"Handover saved to the timeline (event {event.id})")

    def latest_handover(self, within: timedelta = timedelta(days=2)) -> TimelineEvent | None:
        """The newest saved handover (not an acknowledgement), if any."""
        now = self.clock.now()
        found = [
            e
            for e in self.store.events_between(now - within, now + timedelta(seconds=1))
            if e.kind is EventKind.HANDOVER and "markdown" in e.details
        ]
        return found[-1] if found else None

    def handover_acknowledged(self, handover: TimelineEvent) -> TimelineEvent | None:
        """The acknowledgement of this handover, if the incoming engineer gave one."""
        until = self.clock.now() + timedelta(seconds=1)
        for event in self.store.events_between(handover.at, until):
            if event.kind is EventKind.HANDOVER and event.details.get("acknowledges") == (
                handover.id
            ):
                return event
        return None

    async def acknowledge_handover(self, handover: TimelineEvent) -> ActionResult:
        """The incoming engineer has read the handover: stamped on the timeline."""
        if not self.allowed("handover"):
            return ActionResult.failure("read-only mode: handover is disabled")
        if self.handover_acknowledged(handover) is not None:
            return ActionResult.failure(f"handover {handover.id} is already acknowledged")
        self.record(
            EventKind.HANDOVER,
            "cockpit",
            f"Handover from {handover.actor} acknowledged by {self.actor}",
            {"acknowledges": handover.id},
            incident_id=handover.incident_id,
            evidence=False,
        )
        self._audit("handover_ack", str(handover.id), "ok")
        return ActionResult.success(f"Handover from {handover.actor} acknowledged")

    # ----------------------------------------------------------------- the shared store

    def store_health(self) -> str:
        """'' while the store is fine; else one line for the header (`store DOWN: ...`)."""
        status = getattr(self.store, "status", None)
        if status is None:
            return ""
        try:
            return str(status().header())
        except Exception as exc:  # the header must render whatever the store does
            return f"store: {type(exc).__name__}"

    def also_here(self, incident_id: str | None) -> list[tuple[str, float]]:
        """Who else has this incident open, (name, seconds since seen), on a shared store;
        telling the store this cockpit shows it too."""
        store: Any = self.store
        if not hasattr(store, "presence"):
            return []
        store.viewing = incident_id
        return [(who, age) for who, age in store.presence(incident_id) if who]

    # ----------------------------------------------------------------- the same thing twice

    def _recent(self, kind: EventKind, key: str, value: str) -> TimelineEvent | None:
        """The latest `kind` event whose details[key] is value, within REPEAT_WINDOW."""
        incident = self.current_incident()
        now = self.clock.now()
        for event in self.store.timeline(incident.id if incident else None, limit=200):
            if now - event.at > REPEAT_WINDOW:
                return None
            if event.kind is kind and str(event.details.get(key, "")) == value:
                return event
        return None

    def _who(self, event: TimelineEvent) -> str:
        return "you" if event.actor == self.actor else event.actor

    def _ago(self, event: TimelineEvent) -> str:
        return f"{max(int((self.clock.now() - event.at).total_seconds()), 0)} s ago"

    def restart_repeat(self, pod: PodHealth) -> str:
        """'bob rolled out payments-api 20 s ago' when this workload was just restarted."""
        event = self._recent(EventKind.RESTART, "workload", _workload(pod))
        if event is None:
            return ""
        if event.details.get("mode") == RestartMode.ROLLOUT.value:
            what = f"rolled out {_workload(pod).split('/', 1)[-1]}"
        else:
            what = f"restarted pod {event.details.get('pod', pod.key)}"
        return f"{self._who(event)} {what} {self._ago(event)}"

    def quarantine_repeat(self, queue: QueueDepth, message: QueueMessage) -> str:
        """'bob quarantined this message from orders 20 s ago' when it was just done."""
        target = f"{queue.key} message {message.identity}"
        event = self._recent(EventKind.QUARANTINE, "target", target)
        if event is None:
            return ""
        return f"{self._who(event)} quarantined this message from {queue.name} {self._ago(event)}"

    def latest_note(self, incident_id: str | None) -> str:
        for event in self.store.timeline(incident_id, limit=200):
            if event.kind is EventKind.NOTE:
                return event.summary
        return ""

    # ----------------------------------------------------------------- outbound

    def escalation_for(self, team: str, summary: str = "", reason: str = "") -> Escalation:
        """A page about the selected incident (each team is paged once per incident)."""
        incident = self.selected_incident()
        incident_id = incident.id if incident else "no-incident"
        return Escalation(
            incident_id=incident_id,
            team=team.strip(),
            severity=incident.severity.value if incident else "SEV3",
            summary=summary.strip() or (incident.title if incident else "Escalation"),
            latest_note=self.latest_note(incident.id if incident else None),
            escalated_by=self.identity.display,
            evidence=self.live.evidence(),
            reason=reason.strip(),
        )

    async def escalate(self, escalation: Escalation) -> ActionResult:
        pager = self.pager
        if pager is None:
            return ActionResult.failure("no pager is configured ([pager] or [alertmanager])")
        if not escalation.team:
            return ActionResult.failure("escalation needs a team")
        if self.outbox is not None:
            return self._enqueue(
                "escalate",
                "escalation",
                escalation.team,
                escalation_payload(escalation),
                key=f"escalation:{escalation.dedup_key}",
                incident_id=escalation.incident_id,
                summary=f"Escalation to {escalation.team} queued: {escalation.summary}",
                event_kind=EventKind.ESCALATION,
                details={"team": escalation.team, "reason": escalation.reason},
            )

        async def call() -> ActionResult:
            return await pager.escalate(escalation)

        return await self._run(
            "escalate",
            escalation.team,
            call,
            kind=EventKind.ESCALATION,
            source=pager.name,
            details={
                "team": escalation.team,
                "summary": escalation.summary,
                "reason": escalation.reason,
            },
            incident_id=(
                escalation.incident_id if self.store.get_incident(escalation.incident_id) else None
            ),
        )

    def customer_update_for(
        self,
        status: IncidentStatus,
        body: str,
        components: tuple[str, ...] = (),
        *,
        next_update_in: timedelta | None = None,
    ) -> CustomerUpdate | None:
        """The update customers will read, for the selected incident: its customer-facing
        title, and (unless resolved) when the next update comes, at the message's end."""
        incident = self.selected_incident()
        if incident is None:
            return None
        due = None
        if status is not IncidentStatus.RESOLVED and next_update_in is not None:
            due = self.clock.now() + next_update_in
        return CustomerUpdate(
            incident_id=incident.id,
            status=status,
            title=incident.public_title,
            body=with_next_update(body, due),
            components=components or incident.components,
            next_update_due=due,
        )

    async def customer_update(self, update: CustomerUpdate) -> ActionResult:
        page = self.statuspage
        if page is None:
            return ActionResult.failure("no status page is configured")
        incident = self.store.get_incident(update.incident_id)
        if incident is None:
            return ActionResult.failure("customer updates need an open incident (press i)")
        if not update.body:
            return ActionResult.failure("the update has no message")
        if not self.allowed("customer_update"):
            self._audit("customer_update", incident.id, "refused", {"reason": "read-only"})
            return ActionResult.failure("read-only mode: customer_update is disabled")
        now = self.clock.now()
        with contextlib.suppress(StoreConflict):  # the update goes out whoever touched the time
            self.store.update_incident(
                dataclasses.replace(
                    incident,
                    last_customer_update_at=now,
                    components=update.components or incident.components,
                    next_update_due=update.next_update_due,
                )
            )
        details: dict[str, Any] = {
            "status": update.status.value,
            "body": update.body,
            "title": update.title,
            "next_update_due": (
                update.next_update_due.isoformat() if update.next_update_due else None
            ),
            # what was promised before this one: the shift report's "late updates"
            "promised_by": (
                incident.next_update_due.isoformat() if incident.next_update_due else None
            ),
        }
        if self.outbox is not None:
            payload = customer_update_payload(update)
            return self._enqueue(
                "customer_update",
                "customer_update",
                incident.id,
                payload,
                key=f"update:{incident.id}:{now.isoformat()}",
                incident_id=incident.id,
                summary=f"Customer update ({update.status.value}) queued: {update.body}",
                event_kind=EventKind.CUSTOMER_UPDATE,
                details=details,
            )
        remote_id = None

        async def call() -> ActionResult:
            return await page.post_update(incident, update, remote_id=remote_id)

        return await self._run(
            "customer_update",
            incident.id,
            call,
            kind=EventKind.CUSTOMER_UPDATE,
            source=page.name,
            details=details,
            incident_id=incident.id,
        )

    def _enqueue(
        self,
        action: str,
        outbox_kind: str,
        target: str,
        payload: dict[str, Any],
        *,
        key: str,
        incident_id: str,
        summary: str,
        event_kind: EventKind,
        details: dict[str, Any] | None = None,
    ) -> ActionResult:
        """Store the outbound write first; the outbox sender sends it and reports back."""
        assert self.outbox is not None
        if not self.allowed(action):
            self._audit(action, target, "refused", {"reason": "read-only"})
            return ActionResult.failure(f"read-only mode: {action} is disabled")
        self._audit(action, target, "attempt")
        item = self.outbox.enqueue(outbox_kind, incident_id, payload, key, self.clock.now())
        self.record(
            event_kind,
            "cockpit",
            summary,
            {**(details or {}), "target": target, "outbox_id": item.id},
            incident_id=incident_id if self.store.get_incident(incident_id) else None,
        )
        self._audit(action, target, "queued", {"outbox_id": str(item.id)})
        return ActionResult.success(f"{summary} (sending)", outbox_id=str(item.id))

    def outbox_event(self, item: Any, result: ActionResult) -> TimelineEvent:
        """The timeline event of an outbox item's final outcome, built (not stored): the
        outbox commits it in the same transaction as the outcome (OutboxSender(timeline=))."""
        return self._outbox_event(item.kind, item.incident_id, _outbox_target(item), result)

    def _outbox_event(
        self, kind: str, incident_id: str, target: str, result: ActionResult
    ) -> TimelineEvent:
        event_kind = EventKind.ESCALATION if kind == "escalation" else EventKind.CUSTOMER_UPDATE
        what = "Escalation" if kind == "escalation" else "Customer update"
        if kind in (TICKET, TICKET_COMMENT):
            event_kind = EventKind.TICKET
            what = "Jira ticket" if kind == TICKET else "Jira comment"
        if result.ok and kind == TICKET:
            summary = f"Jira ticket {result.message}"  # "filed PAY-123 (...): URL"
        elif result.ok:
            summary = f"{what} sent: {result.message}"
        else:
            summary = f"{what} FAILED, not sent: {result.message}"
            event_kind = EventKind.ERROR
        known = self.store.get_incident(incident_id) is not None
        return TimelineEvent(
            at=self.clock.now(),
            kind=event_kind,
            source="outbox",
            actor=self.actor,
            summary=summary,
            details={
                "target": target,
                "ids": dict(result.ids),
                "evidence": self.live.evidence(),
            },
            incident_id=incident_id if known else None,
        )

    def outbox_result(
        self,
        kind: str,
        incident_id: str,
        target: str,
        result: ActionResult,
        event: TimelineEvent | None = None,
    ) -> None:
        """The outbox sender's report: the send (or its final failure) joins the timeline.
        `event` is the one the outbox already committed with the outcome; without it the
        event is written here (a sender built without timeline=)."""
        if event is None:
            built = self._outbox_event(kind, incident_id, target, result)
            event = self.store.add_event(built)
        for listener in self.listeners:
            listener(event)
        self._audit("send_" + kind, target, "ok" if result.ok else "failed", dict(result.ids))

    # ----------------------------------------------------------------- pods and queues

    async def restart(self, pod: PodHealth, mode: RestartMode) -> ActionResult:
        cluster = self.cluster
        if cluster is None:
            return ActionResult.failure("Kubernetes is not configured")

        async def call() -> ActionResult:
            return await cluster.restart(pod, mode)

        return await self._run(
            "restart",
            pod.key,
            call,
            kind=EventKind.RESTART,
            source="kubernetes",
            details={
                "pod": pod.key,
                "mode": mode.value,
                "owner": f"{pod.owner_kind}/{pod.owner_name}",
                "workload": _workload(pod),
            },
        )

    async def quarantine(self, queue: QueueDepth, message: QueueMessage) -> ActionResult:
        broker = self.broker
        if broker is None:
            return ActionResult.failure("RabbitMQ is not configured")

        async def call() -> ActionResult:
            return await broker.quarantine(queue, message, actor=self.actor)

        return await self._run(
            "quarantine",
            f"{queue.key} message {message.identity}",
            call,
            kind=EventKind.QUARANTINE,
            source="rabbitmq",
            details={"queue": queue.key, "message": message.identity},
        )

    def now(self) -> datetime:
        return self.clock.now()


def _outbox_target(item: Any) -> str:
    return str(item.payload.get("team") or item.incident_id)


def _workload(pod: PodHealth) -> str:
    """namespace/name of what owns the pod: the top of its owner chain (a Deployment for a
    ReplicaSet's pods), else the pod itself."""
    kind, name = pod.workload
    if not name and pod.owner_name:
        kind, name = pod.owner_kind, pod.owner_name
        if kind == "ReplicaSet" and "-" in name:
            name = name.rsplit("-", 1)[0]  # the Deployment's pod-template-hash suffix
    return f"{pod.namespace}/{name}" if name else pod.key
