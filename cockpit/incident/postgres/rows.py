"""Domain objects <-> JSON (journal ops) and <-> PostgreSQL rows."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cockpit.domain import (
    AlertRecord,
    EventKind,
    Incident,
    IncidentStatus,
    Severity,
    TimelineEvent,
    frozen_map,
)

# the incident fields an engineer changes, each checked against the version they saw
INCIDENT_FIELDS = (
    "title",
    "severity",
    "status",
    "commander",
    "started_at",
    "resolved_at",
    "components",
    "last_customer_update_at",
    "team",
    "service",
    "customer_title",
    "next_update_due",
    "alert_group",
    "detected_at",
    "closed_at",
)
TIME_FIELDS = (
    "started_at",
    "resolved_at",
    "last_customer_update_at",
    "next_update_due",
    "detected_at",
    "closed_at",
)


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def when(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromisoformat(str(value)).astimezone(UTC)


def field_json(name: str, value: Any) -> Any:
    """One incident field as JSON: enums by value, times in ISO, tuples as lists."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Severity | IncidentStatus):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    return value


def field_value(name: str, value: Any) -> Any:
    if name == "severity":
        return Severity(value)
    if name == "status":
        return IncidentStatus(value)
    if name in TIME_FIELDS:
        return when(value)
    if name == "components":
        return tuple(value or ())
    return value


def incident_json(incident: Incident) -> dict[str, Any]:
    data = {name: field_json(name, getattr(incident, name)) for name in INCIDENT_FIELDS}
    data["id"] = incident.id
    data["version"] = incident.version
    return data


def incident_from_json(data: Mapping[str, Any]) -> Incident:
    values = {name: field_value(name, data.get(name)) for name in INCIDENT_FIELDS}
    return Incident(id=str(data["id"]), version=int(data.get("version") or 0), **values)


def incident_from_row(row: Mapping[str, Any]) -> Incident:
    components = row["components"]
    if isinstance(components, str):
        components = json.loads(components)
    return Incident(
        id=row["id"],
        title=row["title"],
        severity=Severity(row["severity"]),
        status=IncidentStatus(row["status"]),
        commander=row["commander"],
        started_at=when(row["started_at"]) or datetime.now(UTC),
        resolved_at=when(row["resolved_at"]),
        components=tuple(components or ()),
        last_customer_update_at=when(row["last_customer_update_at"]),
        team=row.get("team") or "",
        service=row.get("service") or "",
        customer_title=row.get("customer_title") or "",
        next_update_due=when(row.get("next_update_due")),
        alert_group=row.get("alert_group") or "",
        detected_at=when(row.get("detected_at")),
        closed_at=when(row.get("closed_at")),
        version=int(row["version"]),
    )


def event_json(event: TimelineEvent) -> dict[str, Any]:
    return {
        "uid": event.uid,
        "at": iso(event.at),
        "kind": event.kind.value,
        "source": event.source,
        "actor": event.actor,
        "summary": event.summary,
        "details": json.loads(json.dumps(dict(event.details), default=str)),
        "incident_id": event.incident_id,
        "pinned": event.pinned,
    }


def event_from_json(data: Mapping[str, Any], event_id: int | None) -> TimelineEvent:
    return TimelineEvent(
        at=when(data["at"]) or datetime.now(UTC),
        kind=EventKind(data["kind"]),
        source=str(data["source"]),
        actor=str(data["actor"]),
        summary=str(data["summary"]),
        details=dict(data.get("details") or {}),
        incident_id=data.get("incident_id"),
        id=event_id,
        pinned=bool(data.get("pinned")),
        uid=str(data["uid"]),
    )


def event_from_row(row: Mapping[str, Any]) -> TimelineEvent:
    details = row["details"]
    if isinstance(details, str):
        details = json.loads(details)
    return TimelineEvent(
        at=when(row["at"]) or datetime.now(UTC),
        kind=EventKind(row["kind"]),
        source=row["source"],
        actor=row["actor"],
        summary=row["summary"],
        details=details or {},
        incident_id=row["incident_id"],
        id=int(row["id"]),
        pinned=bool(row["pinned"]),
        uid=row["uid"],
    )


def outbox_from_row(row: Mapping[str, Any]) -> Any:
    from cockpit.incident.outbox import OutboxItem

    payload = row["payload"]
    if isinstance(payload, str):
        payload = json.loads(payload)
    ids = row["result_ids"]
    if isinstance(ids, str):
        ids = json.loads(ids)
    return OutboxItem(
        id=int(row["id"]),
        kind=row["kind"],
        incident_id=row["incident_id"],
        idempotency_key=row["idempotency_key"],
        payload=payload,
        state=row["state"],
        attempts=int(row["attempts"]),
        last_error=row["last_error"] or "",
        next_attempt_at=when(row["next_attempt_at"]) or datetime.now(UTC),
        created_at=when(row["created_at"]) or datetime.now(UTC),
        sent_at=when(row["sent_at"]),
        result_ids=frozen_map(ids or {}),
    )


def alert_from_row(row: Mapping[str, Any]) -> AlertRecord:
    labels = row["labels"]
    if isinstance(labels, str):
        labels = json.loads(labels)
    return AlertRecord(
        fingerprint=row["fingerprint"],
        name=row["name"],
        labels=frozen_map(labels or {}),
        starts_at=when(row["starts_at"]) or datetime.now(UTC),
        first_seen=when(row["first_seen"]) or datetime.now(UTC),
        last_seen=when(row["last_seen"]) or datetime.now(UTC),
        resolved_at=when(row["resolved_at"]),
        group_key=row["group_key"],
        cluster=row["cluster"],
        severity=row["severity"],
        team=row["team"],
        id=int(row["id"]),
    )
