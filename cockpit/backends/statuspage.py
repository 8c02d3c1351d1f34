"""Customer updates: Atlassian Statuspage (API v1) or the static status page (the default).

StatuspageIO opens a public incident with POST /v1/pages/{page_id}/incidents and adds
each later update with PATCH .../incidents/{incident_id}. Statuspage allows one
request per second per API key, so requests are spaced client-side (shared by every
instance using the same key). On 420/429 it waits Retry-After once (when that is at
most RATE_LIMIT_LOCAL_WAIT seconds) and retries; a second refusal, or a longer
Retry-After, raises RateLimited(retry_after) so the outbox schedules the retry.

Component entries (config `components` and CustomerUpdate.components) are Statuspage
component ids; a config entry "API=8kbf7d35c070" lets updates name the component "API".
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from cockpit.backends.base import (
    AuthError,
    BackendError,
    BadResponse,
    Forbidden,
    NotFound,
    RateLimited,
    StatusPage,
    Unreachable,
)
from cockpit.backends.http import BoundedHTTP, retry_after, tls_context
from cockpit.backends.statuspage_static import StaticStatusPage
from cockpit.clock import Clock
from cockpit.config import StatusPageConfig
from cockpit.domain import (
    ActionResult,
    CustomerUpdate,
    Incident,
    IncidentStatus,
    Severity,
)

__all__ = ["Rejected", "StaticStatusPage", "StatuspageIO", "build_statuspage"]

MIN_INTERVAL = 1.1  # seconds between requests per key: the documented 1/s plus a margin
RATE_LIMIT_LOCAL_WAIT = 5.0
TIMEOUT = 10.0

IMPACT = {Severity.SEV1: "critical", Severity.SEV2: "major", Severity.SEV3: "minor"}


class Rejected(BackendError):
    """400/422: Statuspage refused the request as invalid; sending it again will not help."""

    retryable = False


class _KeyLimiter:
    """Spaces requests per API key (keyed by a hash, so the key itself is not kept here)."""

    _lock = threading.Lock()
    _next_free: dict[str, float] = {}

    @classmethod
    def reserve(cls, key_hash: str, interval: float, not_before: float = 0.0) -> float:
        """Book the next slot; returns how long to sleep before using it."""
        with cls._lock:
            now = time.monotonic()
            slot = max(now, cls._next_free.get(key_hash, 0.0), not_before)
            cls._next_free[key_hash] = slot + interval
            return slot - now


def component_status(incident: Incident, update: CustomerUpdate) -> str:
    if update.status is IncidentStatus.RESOLVED:
        return "operational"
    if update.status is IncidentStatus.MONITORING:
        return "degraded_performance"
    return "major_outage" if incident.severity is Severity.SEV1 else "partial_outage"


def _retry_after(response: httpx.Response) -> float:
    return retry_after(response.headers, 1.0)


class StatuspageIO:
    """StatusPage on Atlassian Statuspage's REST API v1."""

    name = "statuspage"

    def __init__(
        self,
        config: StatusPageConfig,
        *,
        api_key: str,
        clock: Clock,
        http: httpx.AsyncClient | None = None,
        min_interval: float = MIN_INTERVAL,
    ) -> None:
        if not config.page_id:
            raise ValueError("statuspage.page_id is required for kind = 'statuspage'")
        self.config = config
        self.clock = clock
        self._base = f"{config.api_url.rstrip('/')}/v1/pages/{config.page_id}"
        self._headers = {"Authorization": f"OAuth {api_key}", "Accept": "application/json"}
        self._key_hash = hashlib.sha256(api_key.encode()).hexdigest()
        self._interval = min_interval
        self._own_http = http is None
        self._http = BoundedHTTP(
            http or httpx.AsyncClient(verify=tls_context(), timeout=TIMEOUT),
            deadline=TIMEOUT,
            what="Statuspage",
        )
        self._ids: dict[str, str] = {}
        for entry in config.components:
            name, sep, cid = entry.partition("=")
            self._ids[name.strip()] = cid.strip() if sep else name.strip()

    def __repr__(self) -> str:
        return f"StatuspageIO(page_id={self.config.page_id!r}, api_url={self.config.api_url!r})"

    # ----------------------------------------------------------------- protocol

    async def post_update(
        self, incident: Incident, update: CustomerUpdate, *, remote_id: str | None
    ) -> ActionResult:
        body = self._incident_body(incident, update, create=remote_id is None)
        if remote_id is None:
            data = await self._request("POST", "/incidents", body)
        else:
            data = await self._request("PATCH", f"/incidents/{remote_id}", body)
        new_id = str(data.get("id") or remote_id or "") if isinstance(data, dict) else ""
        if not new_id:
            raise BadResponse("Statuspage: the response named no incident id")
        verb = "opened" if remote_id is None else "updated"
        return ActionResult.success(
            f"status page incident {verb} ({update.status.value})", remote_id=new_id
        )

    async def find_update(
        self, incident: Incident, update: CustomerUpdate, *, remote_id: str | None
    ) -> str | None:
        """The remote incident id when an update with this body is already there."""
        if remote_id is not None:
            data = await self._request("GET", f"/incidents/{remote_id}", None)
            candidates = [data] if isinstance(data, dict) else []
        else:
            # The create may have landed before its answer was lost: search by name.
            found = await self._request("GET", "/incidents", None, params={"q": update.title})
            candidates = (
                [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []
            )
            names = {update.title, incident.title}
            candidates = [
                c for c in candidates if isinstance(c.get("name"), str) and c["name"] in names
            ]
        for candidate in candidates:
            posted_updates = candidate.get("incident_updates")
            for posted in posted_updates if isinstance(posted_updates, list) else []:
                if isinstance(posted, dict) and posted.get("body") == update.body:
                    found = candidate.get("id")
                    if isinstance(found, str | int) and not isinstance(found, bool) and found:
                        return str(found)
                    return remote_id or None
        return None

    async def close(self) -> None:
        if self._own_http:
            await self._http.aclose()

    # ----------------------------------------------------------------- http

    def _incident_body(
        self, incident: Incident, update: CustomerUpdate, *, create: bool
    ) -> dict[str, Any]:
        ids = [self._ids.get(c, c) for c in (update.components or incident.components)]
        state = component_status(incident, update)
        fields: dict[str, Any] = {
            "name": update.title or incident.title,
            "status": update.status.value,
            "body": update.body,
            "deliver_notifications": update.notify,
            "component_ids": ids,
            "components": {cid: state for cid in ids},
        }
        if create:
            fields["impact_override"] = IMPACT.get(incident.severity, "none")
        return {"incident": fields}

    async def _request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        *,
        params: dict[str, str] | None = None,
    ) -> Any:
        not_before = 0.0
        for attempt in (1, 2):
            await asyncio.sleep(_KeyLimiter.reserve(self._key_hash, self._interval, not_before))
            try:
                response = await self._http.request(
                    method, self._base + path, json=body, params=params, headers=self._headers
                )
            except httpx.TimeoutException:
                raise Unreachable(f"Statuspage: no answer from {self.config.api_url}") from None
            except httpx.HTTPError as exc:
                raise Unreachable(
                    f"Statuspage: cannot reach {self.config.api_url} ({type(exc).__name__})"
                ) from None
            if response.status_code in (420, 429):
                wait = _retry_after(response)
                if attempt == 1 and wait <= RATE_LIMIT_LOCAL_WAIT:
                    not_before = time.monotonic() + wait
                    continue
                raise RateLimited(
                    f"Statuspage: {response.status_code} rate limited, retry after {wait:g}s",
                    wait,
                )
            return self._decode(response)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _decode(response: httpx.Response) -> Any:
        code = response.status_code
        status = f"{code} {response.reason_phrase}".strip()
        if code == 401:
            raise AuthError(f"Statuspage: {status}: the API key was refused")
        if code == 403:
            raise Forbidden(f"Statuspage: {status}: the API key may not write incidents")
        if code == 404:
            raise NotFound(f"Statuspage: {status}: no such page or incident")
        if code in (400, 422):
            raise Rejected(f"Statuspage: {status}: the request was refused as invalid")
        if code >= 500 or not 200 <= code < 300:
            raise BadResponse(f"Statuspage: {status}")
        try:
            return json.loads(response.content)
        except RecursionError:
            raise BadResponse(f"Statuspage: {status} with JSON nested too deep") from None
        except ValueError:
            raise BadResponse(f"Statuspage: {status} with a body that is not JSON") from None


def build_statuspage(
    config: StatusPageConfig,
    *,
    api_key: str | None,
    clock: Clock,
    data_dir: Path,
) -> StatusPage:
    """The configured status page: Statuspage when kind = 'statuspage', else the static one."""
    if config.kind == "statuspage":
        if not api_key:
            raise AuthError(f"Statuspage: no API key (secret {config.api_key_secret!r} is empty)")
        return StatuspageIO(config, api_key=api_key, clock=clock)
    directory = Path(config.directory) if config.directory else data_dir / "statuspage"
    return StaticStatusPage(config, directory=directory, clock=clock)
