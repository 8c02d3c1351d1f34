"""A local server following Atlassian Statuspage API v1's documented contract for incidents.

- `Authorization: OAuth <key>` required (401 otherwise), JSON Content-Type on writes (415).
- POST /v1/pages/{page}/incidents needs incident.name and a valid status (422 otherwise),
  answers 201 with the incident and its incident_updates.
- PATCH /v1/pages/{page}/incidents/{id} adds an update when a body is given (404 if unknown).
- GET one incident, or the list filtered by ?q=.
- More than one request per second per key: 420 or 429 with Retry-After.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from tests.incident.fakehttp import FakeServer, Recorded, Reply

STATUSES = {"investigating", "identified", "monitoring", "resolved", "scheduled"}
COMPONENT_STATES = {
    "operational",
    "under_maintenance",
    "degraded_performance",
    "partial_outage",
    "major_outage",
}


class FakeStatuspage(FakeServer):
    def __init__(self, page_id: str = "pg1", keys: set[str] | None = None) -> None:
        super().__init__()
        self.page_id = page_id
        self.keys = keys if keys is not None else {"sp-key"}
        self.incidents: dict[str, dict[str, Any]] = {}
        self.last_by_key: dict[str, float] = {}
        self.rate_limit_status = 429
        self.hang_on_body = ""  # answer a write whose body contains this only after release
        self.hung = threading.Event()

    # every update body the page holds, in order, across incidents
    def bodies(self) -> list[str]:
        return [
            u["body"]
            for inc in sorted(self.incidents.values(), key=lambda i: i["created_seq"])
            for u in reversed(inc["incident_updates"])
        ]

    def handle(self, request: Recorded) -> Reply:
        auth = request.headers.get("authorization", "")
        key = auth[len("OAuth ") :] if auth.startswith("OAuth ") else ""
        if key not in self.keys:
            return Reply(401, {"error": "Could not authenticate"})
        last = self.last_by_key.get(key)
        if last is not None and request.at - last < 1.0:
            return Reply(self.rate_limit_status, {"error": "Rate limited"}, {"Retry-After": "1"})
        self.last_by_key[key] = request.at
        prefix = f"/v1/pages/{self.page_id}/incidents"
        if not request.path.startswith(prefix):
            return Reply(404, {"error": "page not found"})
        rest = request.path[len(prefix) :].strip("/")
        if request.method in ("POST", "PATCH"):
            if "application/json" not in request.headers.get("content-type", ""):
                return Reply(415, {"error": "Content-Type must be application/json"})
            if not isinstance(request.body, dict) or not isinstance(
                request.body.get("incident"), dict
            ):
                return Reply(400, {"error": "incident is missing"})
            fields: dict[str, Any] = request.body["incident"]
            problem = self._validate(fields, create=request.method == "POST")
            if problem:
                return Reply(422, {"error": problem})
        if request.method == "POST" and not rest:
            return Reply(201, self._create(request.body["incident"], request.at))
        if request.method == "GET" and not rest:
            q = (request.query.get("q") or [""])[0]
            found = [i for i in self.incidents.values() if q.lower() in i["name"].lower()]
            return Reply(200, [self._public(i) for i in found])
        incident = self.incidents.get(rest)
        if incident is None:
            return Reply(404, {"error": "incident not found"})
        if request.method == "GET":
            return Reply(200, self._public(incident))
        if request.method == "PATCH":
            self._apply(incident, request.body["incident"], request.at)
            return Reply(200, self._public(incident))
        return Reply(405, {"error": "method not allowed"})

    def after(self, request: Recorded) -> None:
        body = request.body if isinstance(request.body, dict) else {}
        text = str((body.get("incident") or {}).get("body", ""))
        if self.hang_on_body and self.hang_on_body in text and 200 <= request.status < 300:
            self.hung.set()
            self.release.wait(60)

    @staticmethod
    def _validate(fields: dict[str, Any], *, create: bool) -> str:
        if create and not fields.get("name"):
            return "name is required"
        status = fields.get("status")
        if (create or status is not None) and status not in STATUSES:
            return f"status {status!r} is not valid"
        components = fields.get("components") or {}
        if not isinstance(components, dict) or any(
            v not in COMPONENT_STATES for v in components.values()
        ):
            return "components must map ids to a component status"
        return ""

    def _create(self, fields: dict[str, Any], at: float) -> dict[str, Any]:
        incident_id = uuid.uuid4().hex[:12]
        incident = {
            "id": incident_id,
            "page_id": self.page_id,
            "name": fields["name"],
            "status": fields["status"],
            "impact": fields.get("impact_override", "none"),
            "components": {},
            "incident_updates": [],
            "created_seq": len(self.incidents),
        }
        self.incidents[incident_id] = incident
        self._apply(incident, fields, at)
        return self._public(incident)

    @staticmethod
    def _apply(incident: dict[str, Any], fields: dict[str, Any], at: float) -> None:
        for name in ("name", "status"):
            if fields.get(name):
                incident[name] = fields[name]
        incident["components"].update(fields.get("components") or {})
        if fields.get("body"):
            incident["incident_updates"].insert(
                0,
                {
                    "id": uuid.uuid4().hex[:12],
                    "status": incident["status"],
                    "body": fields["body"],
                    "deliver_notifications": bool(fields.get("deliver_notifications", True)),
                    "created_at": at,
                },
            )

    @staticmethod
    def _public(incident: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in incident.items() if k != "created_seq"}
