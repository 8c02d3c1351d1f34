"""kmock's KubernetesEmulator with what a real API server does for big lists and kmock does
not: `limit` / `continue` paging (the tests' fixture and the memory benchmark's world).

Per the API contract (apimachinery ListOptions, "Retrieving large results sets in chunks"):
a list with `?limit=N` answers at most N items and, when more remain, `metadata.continue`
(an opaque token) and `metadata.remainingItemCount`; the pages of one list are one
consistent snapshot, taken when its first page was served, all with that snapshot's
`metadata.resourceVersion`; a continue token the server no longer knows (etcd compacted
it, ~5 minutes) is refused with 410 Gone, reason Expired; a list without `limit` answers
everything. kmock's resourceVersion is '...' on every list: a snapshot gets a number.

Faults for the tests: `expire_continues()` forgets every open snapshot (the next page is
a 410); `expire_pages = {n, ...}` does so just before the n-th page request (1 = first);
`fail_page = n` answers the n-th page request with HTTP 500; `pages` records (namespace,
limit, continue) of every list served.
"""

from __future__ import annotations

import base64
import itertools
import json
from typing import Any

import kmock


def _status(code: int, reason: str, message: str) -> Any:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    return kmock.Response(
        status=code, payload=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )


class PagingEmulator(kmock.KubernetesEmulator):  # type: ignore[misc]
    """KubernetesEmulator whose lists honour `limit` and `continue` like an API server."""

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.snapshots: dict[str, tuple[str, list[Any]]] = {}  # id -> (resourceVersion, items)
        self.pages: list[tuple[str | None, int, str]] = []
        self.fail_page: int | None = None
        self.expire_pages: set[int] = set()
        self._versions = itertools.count(1000)

    def expire_continues(self) -> None:
        self.snapshots.clear()

    async def _serve_list(self, request: Any) -> Any:
        params = request.params
        limit = int(params.get("limit") or 0)
        token = params.get("continue") or ""
        self.pages.append((request.namespace, limit, token))
        if len(self.pages) in self.expire_pages:
            self.expire_continues()
        if self.fail_page is not None and len(self.pages) == self.fail_page:
            return _status(500, "InternalError", "etcdserver: request timed out")
        if token:
            try:
                snapshot, offset_text = base64.urlsafe_b64decode(token).decode().split(":")
                offset = int(offset_text)
            except ValueError:
                return _status(400, "BadRequest", "continue key is not valid")
            if snapshot not in self.snapshots:
                return _status(
                    410,
                    "Expired",
                    "The provided continue parameter is too old to display a consistent list "
                    "result. You can start a new list without the continue parameter.",
                )
            version, items = self.snapshots[snapshot]
        else:
            payload = await super()._serve_list(request)
            version, items, offset = str(next(self._versions)), list(payload["items"]), 0
            snapshot = version
        page = items[offset : offset + limit] if limit else items[offset:]
        meta: dict[str, Any] = {"resourceVersion": version}
        rest = len(items) - offset - len(page)
        if limit and rest > 0:
            self.snapshots[snapshot] = (version, items)
            meta["continue"] = base64.urlsafe_b64encode(
                f"{snapshot}:{offset + len(page)}".encode()
            ).decode()
            meta["remainingItemCount"] = rest
        body = {"kind": "PodList", "apiVersion": "v1", "metadata": meta, "items": page}
        return kmock.Response(
            payload=json.dumps(body).encode(), headers={"content-type": "application/json"}
        )
