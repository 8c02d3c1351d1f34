"""A local server following PagerDuty Events API v2's documented contract (POST /v2/enqueue).

- JSON Content-Type required; routing_key, event_action and, for triggers, payload.summary,
  payload.source and payload.severity (critical/error/warning/info) required: 400 otherwise.
- An unknown routing key is refused with 400 (invalid event), as PagerDuty does.
- 202 {"status": "success", "message": "Event processed", "dedup_key": ...}.
- Alerts are deduplicated on (routing_key, dedup_key): a repeated trigger is one alert.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.incident.fakehttp import FakeServer, Recorded, Reply

SEVERITIES = {"critical", "error", "warning", "info"}
ACTIONS = {"trigger", "acknowledge", "resolve"}


class FakePagerDuty(FakeServer):
    def __init__(self, routing_keys: set[str] | None = None) -> None:
        super().__init__()
        self.routing_keys = routing_keys if routing_keys is not None else {"R" * 32}
        self.alerts: dict[tuple[str, str], dict[str, Any]] = {}  # one per dedup key

    def triggers(self) -> list[dict[str, Any]]:
        return [
            r.body
            for r in self.requests
            if r.status == 202 and isinstance(r.body, dict) and r.body["event_action"] == "trigger"
        ]

    def handle(self, request: Recorded) -> Reply:
        if request.method != "POST" or request.path != "/v2/enqueue":
            return Reply(404, {"status": "not found"})
        if "application/json" not in request.headers.get("content-type", ""):
            return Reply(400, {"status": "invalid event", "message": "expected JSON"})
        event = request.body
        errors = self._errors(event)
        if errors:
            return Reply(
                400,
                {"status": "invalid event", "message": "Event object is invalid", "errors": errors},
            )
        assert isinstance(event, dict)
        dedup = str(event.get("dedup_key") or uuid.uuid4().hex)
        key = (event["routing_key"], dedup)
        if event["event_action"] == "trigger":
            alert = self.alerts.setdefault(key, {"triggers": 0, "event": event})
            alert["triggers"] += 1
        return Reply(202, {"status": "success", "message": "Event processed", "dedup_key": dedup})

    def _errors(self, event: Any) -> list[str]:
        if not isinstance(event, dict):
            return ["body must be a JSON object"]
        errors = []
        if event.get("routing_key") not in self.routing_keys:
            errors.append("'routing_key' is invalid")
        if event.get("event_action") not in ACTIONS:
            errors.append("'event_action' is missing or invalid")
        if event.get("event_action") == "trigger":
            payload = event.get("payload")
            if not isinstance(payload, dict):
                errors.append("'payload' is missing")
            else:
                for name in ("summary", "source", "severity"):
                    if not payload.get(name):
                        errors.append(f"'payload.{name}' is missing")
                if payload.get("severity") and payload["severity"] not in SEVERITIES:
                    errors.append("'payload.severity' is invalid")
        return errors
