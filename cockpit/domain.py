"""The cockpit's vocabulary: plain frozen dataclasses, no UI and no client imports.

Every backend turns what its outside system says into these types, and the UI
only ever renders these types. Times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

EMPTY: Mapping[str, str] = MappingProxyType({})


def utcnow() -> datetime:
    return datetime.now(UTC)


def frozen_map(values: Mapping[str, str] | None) -> Mapping[str, str]:
    """A read-only copy of a label or annotation mapping, safe to share between threads."""
    return MappingProxyType(dict(values or {}))


# --------------------------------------------------------------------------- alerts

SEVERITY_RANK = {"critical": 0, "page": 0, "error": 1, "warning": 2, "info": 3, "none": 4}


class AlertState(enum.StrEnum):
    ACTIVE = "active"  # firing and neither silenced nor inhibited
    SUPPRESSED = "suppressed"  # silenced or inhibited
    UNPROCESSED = "unprocessed"


@dataclass(frozen=True, slots=True)
class Alert:
    fingerprint: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    severity: str = "none"
    state: AlertState = AlertState.ACTIVE
    silenced_by: tuple[str, ...] = ()
    inhibited_by: tuple[str, ...] = ()
    starts_at: datetime | None = None
    generator_url: str = ""
    receivers: tuple[str, ...] = ()
    cluster: str = ""  # which Alertmanager cluster reported it, when there are several

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "?")

    @property
    def summary(self) -> str:
        return self.annotations.get("summary") or self.annotations.get("description") or ""

    @property
    def severity_rank(self) -> int:
        return SEVERITY_RANK.get(self.severity, 3)


@dataclass(frozen=True, slots=True)
class Silence:
    id: str
    matchers: tuple[tuple[str, str], ...]  # (name, value) pairs, all isEqual / not regex
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    state: str = "active"  # active / pending / expired

    @property
    def is_ack(self) -> bool:
        """Acks are silences whose comment starts with ACK!, the way karma marks them."""
        return self.comment.startswith("ACK!")

    def time_left(self, now: datetime) -> timedelta:
        return max(self.ends_at - now, timedelta(0))


@dataclass(frozen=True, slots=True)
class AlertGroup:
    """Alerts as Alertmanager groups them: the route's group_by labels and their alerts."""

    key: str  # stable identity of the group across refreshes
    labels: Mapping[str, str]  # the group_by labels
    alerts: tuple[Alert, ...]
    receiver: str = ""
    ack: Silence | None = None  # the active ack silence covering this group, if any
    cluster: str = ""

    @property
    def name(self) -> str:
        if "alertname" in self.labels:
            return self.labels["alertname"]
        names = {a.name for a in self.alerts}
        return ", ".join(sorted(names)) if names else "?"

    @property
    def severity(self) -> str:
        if not self.alerts:
            return "none"
        return min(self.alerts, key=lambda a: a.severity_rank).severity

    @property
    def severity_rank(self) -> int:
        return min((a.severity_rank for a in self.alerts), default=4)

    @property
    def firing(self) -> tuple[Alert, ...]:
        return tuple(a for a in self.alerts if a.state is AlertState.ACTIVE)

    @property
    def acked(self) -> bool:
        return self.ack is not None

    @property
    def common_labels(self) -> dict[str, str]:
        """Labels every alert of the group shares: what an ack silence matches on."""
        if not self.alerts:
            return dict(self.labels)
        common = dict(self.alerts[0].labels)
        for alert in self.alerts[1:]:
            common = {k: v for k, v in common.items() if alert.labels.get(k) == v}
        return common

    @property
    def started_at(self) -> datetime | None:
        starts = [a.starts_at for a in self.alerts if a.starts_at is not None]
        return min(starts) if starts else None

    @property
    def team(self) -> str:
        for alert in self.alerts:
            if alert.labels.get("team"):
                return alert.labels["team"]
        return self.labels.get("team", "")

    @property
    def service(self) -> str:
        """The service the group is about: its `service` label, else a label naming a workload."""
        labels = {**self.common_labels, **self.labels}
        for name in SERVICE_LABELS:
            if labels.get(name):
                return labels[name]
        return ""


# labels that name what is broken, best first: `service`, then the workload kube-state-metrics
# and most alert rules put on an alert
SERVICE_LABELS = (
    "service",
    "app",
    "app_kubernetes_io_name",
    "deployment",
    "statefulset",
    "daemonset",
    "job_name",
    "cronjob",
    "workload",
    "container",
)


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One firing of one alert as the cockpit saw it: the history Alertmanager does not keep.

    A firing is identified by (cluster, fingerprint, starts_at): when an alert resolves and
    fires again, Alertmanager gives it a new startsAt and the history a new record (a flap).
    `first_seen` / `last_seen` are when this cockpit saw it in a poll; `resolved_at` is when
    it stopped being returned (None while it fires).
    """

    fingerprint: str
    name: str
    labels: Mapping[str, str]
    starts_at: datetime  # Alertmanager's startsAt; first_seen when it gave none
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None = None
    group_key: str = ""
    cluster: str = ""
    severity: str = "none"
    team: str = ""
    id: int | None = None  # assigned by the store

    @property
    def is_firing(self) -> bool:
        return self.resolved_at is None


# --------------------------------------------------------------------------- incidents


class Severity(enum.StrEnum):
    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"

    @classmethod
    def from_alert_severity(cls, severity: str) -> Severity:
        return {
            "critical": cls.SEV1,
            "page": cls.SEV1,
            "error": cls.SEV2,
            "warning": cls.SEV3,
        }.get(severity, cls.SEV4)


class IncidentStatus(enum.StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"

    def next(self) -> IncidentStatus:
        order = list(IncidentStatus)
        return order[min(order.index(self) + 1, len(order) - 1)]


@dataclass(frozen=True, slots=True)
class Incident:
    id: str  # INC-2026-0001
    title: str
    severity: Severity
    status: IncidentStatus
    commander: str
    started_at: datetime
    resolved_at: datetime | None = None
    components: tuple[str, ...] = ()
    last_customer_update_at: datetime | None = None
    # who owns it: from the declaring alert's labels (team, service or workload), editable
    team: str = ""
    service: str = ""
    # what customers read: never an alert name, a label value or a raw figure
    customer_title: str = ""
    # promised in the last customer update ("Next update by 03:40 UTC")
    next_update_due: datetime | None = None
    # the declaring alert group (AlertGroup.key) and its earliest startsAt: where the
    # post-mortem's detection and response times count from
    alert_group: str = ""
    detected_at: datetime | None = None
    # a resolved incident stays on the panel (and `u` works on it) until it is closed
    closed_at: datetime | None = None
    # the shared store's row version this copy was read at (0: a store without versions);
    # a change made from it is refused when another engineer changed the same field since
    version: int = 0

    @property
    def is_open(self) -> bool:
        return self.status is not IncidentStatus.RESOLVED

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def public_title(self) -> str:
        """The title on the status page: the customer-facing one, never the internal one
        unless nobody gave one (incidents recorded before there were two titles)."""
        return self.customer_title or self.title

    def update_overdue(self, now: datetime) -> bool:
        """A customer update was promised by now and the incident is not closed."""
        return (
            self.next_update_due is not None and not self.is_closed and now >= self.next_update_due
        )

    def duration(self, now: datetime) -> timedelta:
        return (self.resolved_at or now) - self.started_at


class EventKind(enum.StrEnum):
    DECLARED = "declared"
    NOTE = "note"
    STATUS = "status"
    SEVERITY = "severity"
    COMMANDER = "commander"
    ACK = "ack"
    UNACK = "unack"
    ESCALATION = "escalation"
    CUSTOMER_UPDATE = "customer_update"
    RESTART = "restart"
    QUARANTINE = "quarantine"
    RUNBOOK_STEP = "runbook_step"  # a runbook's checklist step checked off
    RESOLVED = "resolved"
    ALERT = "alert"  # something the world did on its own, e.g. an alert started firing
    ERROR = "error"
    OWNER = "owner"  # the incident's team / service changed
    CLOSED = "closed"  # a resolved incident taken off the panel
    HANDOVER = "handover"  # a shift handover saved, or acknowledged by the incoming engineer
    TICKET = "ticket"  # a bug ticket filed, its status changed, a developer commented


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    at: datetime
    kind: EventKind
    source: str  # cockpit, alertmanager, kubernetes, rabbitmq, statuspage, pager
    actor: str
    summary: str
    details: Mapping[str, Any] = field(default_factory=dict)
    incident_id: str | None = None  # None: the shift log
    id: int | None = None  # assigned by the store
    pinned: bool = False
    # made by the cockpit before the first write attempt: a retried or replayed write of the
    # same event is recognised by it and never stored twice (the shared store)
    uid: str = ""


# --------------------------------------------------------------------------- kubernetes


@dataclass(frozen=True, slots=True)
class PodHealth:
    namespace: str
    name: str
    ready: str  # "1/2" as kubectl prints READY
    status: str  # STATUS exactly as `kubectl get pods` prints it
    restarts: int
    last_restart: datetime | None
    created_at: datetime | None  # AGE is computed from this against the clock
    node: str = ""
    owner_kind: str = ""  # ReplicaSet, StatefulSet, DaemonSet, Job, "" for none
    owner_name: str = ""
    healthy: bool = True
    containers: tuple[str, ...] = ()
    uid: str = ""
    # the controllers above the pod, nearest first, as far as the pod itself tells:
    # (("ReplicaSet", "api-7d9f8c"), ("Deployment", "api")); what alerts are matched against
    owners: tuple[tuple[str, str], ...] = ()
    apps: tuple[str, ...] = ()  # its `app.kubernetes.io/name` and `app` label values
    # "namespace/name", made once: the watch, LiveState and the pods panel each key a dict
    # of 5,000 pods by it, and a property made them three strings per pod (~0.7 MB more)
    key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", f"{self.namespace}/{self.name}")

    @property
    def workload(self) -> tuple[str, str]:
        """(kind, name) of the top of its owner chain: ("Deployment", "api"), ("", "") for none."""
        return self.owners[-1] if self.owners else ("", "")

    def age(self, now: datetime) -> timedelta | None:
        return now - self.created_at if self.created_at else None


class PodEventType(enum.StrEnum):
    SYNC = "SYNC"  # a full list: replace everything (initial list, relist after 410 Gone)
    ADDED = "ADDED"
    MODIFIED = "MODIFIED"
    DELETED = "DELETED"


@dataclass(frozen=True, slots=True)
class PodEvent:
    type: PodEventType
    pods: tuple[PodHealth, ...]


@dataclass(frozen=True, slots=True)
class ContainerDetail:
    name: str
    image: str
    ready: bool
    restarts: int
    state: str  # running / waiting: CrashLoopBackOff / terminated: Error
    last_termination_reason: str = ""
    last_exit_code: int | None = None
    init: bool = False


@dataclass(frozen=True, slots=True)
class PodDetail:
    pod: PodHealth
    containers: tuple[ContainerDetail, ...]
    events: tuple[str, ...] = ()  # "2m ago  Warning  BackOff  Back-off restarting failed container"
    labels: Mapping[str, str] = field(default_factory=lambda: EMPTY)


class RestartMode(enum.StrEnum):
    DELETE_POD = "delete-pod"  # the controller recreates it
    ROLLOUT = "rollout-restart"  # patch restartedAt on the owning workload


@dataclass(frozen=True, slots=True)
class RestartPlan:
    """What restarting a pod can mean, worked out before the confirmation is shown."""

    pod: PodHealth
    modes: tuple[RestartMode, ...]
    workload_kind: str = ""  # Deployment / StatefulSet / DaemonSet
    workload_name: str = ""
    warning: str = ""  # e.g. "no controller: deleting it is permanent"
    refusal: str = ""  # e.g. a paused Deployment


# --------------------------------------------------------------------------- rabbitmq


@dataclass(frozen=True, slots=True)
class QueueDepth:
    vhost: str
    name: str
    ready: int
    unacked: int
    consumers: int
    publish_rate: float = 0.0
    deliver_rate: float = 0.0
    ack_rate: float = 0.0
    dead_letter_exchange: str = ""

    @property
    def key(self) -> str:
        return f"{self.vhost}/{self.name}"

    @property
    def total(self) -> int:
        return self.ready + self.unacked

    @property
    def stalled(self) -> bool:
        """Messages waiting and nobody consuming them."""
        return self.ready > 0 and self.consumers == 0


@dataclass(frozen=True, slots=True)
class QueueMessage:
    position: int  # 0 = head of the queue
    payload: bytes
    message_id: str = ""
    correlation_id: str = ""
    content_type: str = ""
    headers: Mapping[str, Any] = field(default_factory=dict)
    properties: Mapping[str, Any] = field(default_factory=dict)
    redelivered: bool = False
    routing_key: str = ""
    exchange: str = ""

    @property
    def identity(self) -> str:
        """What quarantine matches on: the message id, else a hash of body and properties."""
        if self.message_id:
            return self.message_id
        import hashlib
        import json

        digest = hashlib.sha256(self.payload)
        digest.update(json.dumps(dict(self.properties), sort_keys=True, default=str).encode())
        return "sha256:" + digest.hexdigest()[:16]


# --------------------------------------------------------------------------- outbound


@dataclass(frozen=True, slots=True)
class CustomerUpdate:
    incident_id: str
    status: IncidentStatus
    title: str
    body: str
    components: tuple[str, ...] = ()
    notify: bool = True
    next_update_due: datetime | None = None  # promised at the end of body


@dataclass(frozen=True, slots=True)
class Escalation:
    incident_id: str
    team: str
    severity: str  # SEV1..SEV4 or the alert's severity
    summary: str
    latest_note: str = ""
    escalated_by: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)
    # why developers were needed: bug, no runbook, no access, wrong team (optional)
    reason: str = ""

    @property
    def dedup_key(self) -> str:
        return f"{self.incident_id}:{self.team}"


@dataclass(frozen=True, slots=True)
class ActionResult:
    ok: bool
    message: str  # one line for the notification
    # ids the backend returned (silence id, remote incident id)
    ids: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    details: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def success(cls, message: str, **ids: str) -> ActionResult:
        return cls(True, message, frozen_map(ids))

    @classmethod
    def failure(cls, message: str, **ids: str) -> ActionResult:
        return cls(False, message, frozen_map(ids))


# --------------------------------------------------------------------------- source health


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """What the header says about one source: ok, how old its data is and why it is stale."""

    name: str
    ok: bool
    detail: str = ""  # version or error, one line, never a secret
    configured: bool = True


# --------------------------------------------------------------------------- tickets


@dataclass(frozen=True, slots=True)
class TicketDraft:
    """A bug ticket for the developers, as the engineer confirmed it."""

    incident_id: str
    number: int  # the n-th ticket of this incident: its label is cockpit-<incident>-<n>
    project: str
    issue_type: str
    summary: str
    description: str  # the engineer's text (light Markdown); the backend turns it into ADF
    priority: str = ""  # a Jira priority name; "" sends none
    labels: tuple[str, ...] = ()
    team: str = ""
    filed_by: str = ""

    @property
    def label(self) -> str:
        """Searched for after a crash, so a ticket is filed once."""
        return f"cockpit-{self.incident_id}-{self.number}"


@dataclass(frozen=True, slots=True)
class Ticket:
    key: str  # PAY-123
    id: str
    url: str  # where a browser shows it


@dataclass(frozen=True, slots=True)
class TicketComment:
    id: str
    author: str
    body: str  # plain text
    created: str = ""


@dataclass(frozen=True, slots=True)
class TicketState:
    """What a poll of the ticket says: status, assignee and every comment."""

    key: str
    status: str
    status_category: str = ""  # new / indeterminate / done
    assignee: str = ""
    comments: tuple[TicketComment, ...] = ()

    @property
    def done(self) -> bool:
        return self.status_category == "done"
