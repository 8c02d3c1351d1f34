"""Paging a team through the PagerDuty Events API v2 (POST {events_url}/v2/enqueue).

Each team has its own routing key (an integration key, resolved from secrets by the
caller). The dedup_key is `<incident>:<team>`, so pressing escalate again for the same
incident and team updates the one PagerDuty alert instead of paging twice.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from cockpit.backends.base import BackendError, BadResponse, NotFound, RateLimited, Unreachable
from cockpit.backends.http import BoundedHTTP, retry_after, tls_context
from cockpit.clock import Clock
from cockpit.config import PagerConfig
from cockpit.domain import ActionResult, Escalation

TIMEOUT = 10.0
SEVERITY = {"SEV1": "critical", "SEV2": "error", "SEV3": "warning", "SEV4": "info"}
PD_SEVERITIES = {"critical", "error", "warning", "info"}


class InvalidEvent(BackendError):
    """400: PagerDuty refused the event; sending it again will not help."""

    retryable = False


class UnknownTeam(NotFound):
    """The team has no routing key in the config."""


def pd_severity(severity: str) -> str:
    if severity.upper() in SEVERITY:
        return SEVERITY[severity.upper()]
    lowered = severity.lower()
    if lowered in PD_SEVERITIES:
        return lowered
    return {"page": "critical", "none": "info"}.get(lowered, "error")


class PagerDutyPager:
    """Pager on PagerDuty's Events API v2."""

    name = "pager"

    def __init__(
        self,
        config: PagerConfig,
        *,
        routing_keys: dict[str, str],
        identity: str,
        clock: Clock,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.config = config
        self.identity = identity
        self.clock = clock
        self._keys = dict(routing_keys)
        self._url = config.events_url.rstrip("/") + "/v2/enqueue"
        self._own_http = http is None
        self._http = BoundedHTTP(
            http or httpx.AsyncClient(verify=tls_context(), timeout=TIMEOUT),
            deadline=TIMEOUT,
            what="PagerDuty",
        )

    def __repr__(self) -> str:
        return f"PagerDutyPager(events_url={self.config.events_url!r}, teams={self.teams!r})"

    @property
    def teams(self) -> list[str]:
        return sorted(self._keys)

    def event(self, escalation: Escalation) -> dict[str, Any]:
        """The Events API v2 trigger body (routing key included)."""
        key = self._keys.get(escalation.team)
        if not key:
            known = ", ".join(self.teams) or "none"
            raise UnknownTeam(
                f"PagerDuty: no routing key for team {escalation.team!r} (configured: {known})"
            )
        return {
            "routing_key": key,
            "event_action": "trigger",
            "dedup_key": escalation.dedup_key,
            "payload": {
                "summary": f"[{escalation.incident_id}] {escalation.summary}"[:1024],
                "source": "cockpit",
                "severity": pd_severity(escalation.severity),
                "timestamp": self.clock.now().isoformat(),
                "custom_details": {
                    "incident": escalation.incident_id,
                    "team": escalation.team,
                    "latest_note": escalation.latest_note,
                    "escalated_by": escalation.escalated_by or self.identity,
                    "evidence": dict(escalation.evidence),
                },
            },
        }

    async def escalate(self, escalation: Escalation) -> ActionResult:
        body = self.event(escalation)
        try:
            response = await self._http.post(self._url, json=body)
        except httpx.TimeoutException:
            raise Unreachable(f"PagerDuty: no answer from {self.config.events_url}") from None
        except httpx.HTTPError as exc:
            raise Unreachable(
                f"PagerDuty: cannot reach {self.config.events_url} ({type(exc).__name__})"
            ) from None
        code = response.status_code
        status = f"{code} {response.reason_phrase}".strip()
        if code == 202:
            dedup = escalation.dedup_key
            try:
                answer = json.loads(response.content)
                if isinstance(answer, dict) and isinstance(answer.get("dedup_key"), str):
                    dedup = answer["dedup_key"]
            except (ValueError, RecursionError):
                pass  # accepted is accepted: the dedup key we sent names it
            return ActionResult.success(f"paged {escalation.team} ({dedup})", dedup_key=dedup)
        if code == 400:
            raise InvalidEvent(f"PagerDuty: {status}: the event was refused as invalid")
        if code == 429:
            wait = retry_after(response.headers, 30.0)
            raise RateLimited(f"PagerDuty: {status}: too many events, retry in {wait:g}s", wait)
        if code >= 500:
            raise BadResponse(f"PagerDuty: {status}")
        raise BadResponse(f"PagerDuty: unexpected {status}")

    async def close(self) -> None:
        if self._own_http:
            await self._http.aclose()
