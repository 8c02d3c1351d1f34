"""The shared outbox: every cockpit of the rotation may send, each item goes out once.

A sender claims an item before calling the outside system: one UPDATE that takes it only
while it is `pending`, or `sending` under a lease that has expired (its cockpit died or
lost the database mid-send), skipping rows another sender holds locked (FOR UPDATE SKIP
LOCKED). The lease is measured on the database's clock, so cockpits with skewed clocks
agree. A result is written only by the claim's holder; an item taken over after a lease
expired is sent "in doubt": the status page is asked first whether the update is already
there, and a page repeats its dedup_key, so nothing reaches a customer or a pager twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cockpit.domain import TimelineEvent
from cockpit.incident.outbox import (
    CUSTOMER_UPDATE,
    FAILED,
    KINDS,
    PENDING,
    SENDING,
    SENT,
    OutboxItem,
)
from cockpit.incident.postgres.store import PostgresStore

CLAIM = """
UPDATE outbox SET state='sending', attempts=attempts+1, claimed_by=%(session)s,
    lease_until=now() + make_interval(secs => %(lease)s), seq=%(seq)s
WHERE id = (
    SELECT id FROM outbox WHERE id=%(id)s AND (
        state='pending'
        OR (state='sending' AND (lease_until IS NULL OR lease_until < now()))
    ) FOR UPDATE SKIP LOCKED
) RETURNING *
"""

SENT_SQL = """
UPDATE outbox SET state='sent', sent_at=%(now)s, last_error='', result_ids=%(ids)s::jsonb,
    lease_until=NULL, seq=%(seq)s
WHERE id=%(id)s AND state='sending' AND claimed_by=%(session)s RETURNING *
"""

FAILED_SQL = """
UPDATE outbox SET state=%(state)s, last_error=%(error)s,
    next_attempt_at=coalesce(%(retry_at)s, next_attempt_at), lease_until=NULL, seq=%(seq)s
WHERE id=%(id)s AND state='sending' AND claimed_by=%(session)s RETURNING *
"""


class SharedOutbox:
    """The Outbox API on the shared store, plus claim()."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store

    # ----------------------------------------------------------------- writes

    def enqueue(
        self,
        kind: str,
        incident_id: str,
        payload: Mapping[str, Any],
        idempotency_key: str,
        now: datetime,
    ) -> OutboxItem:
        if kind not in KINDS:
            raise ValueError(f"unknown outbox kind {kind!r} (expected one of {', '.join(KINDS)})")
        item: OutboxItem = self.store.outbox_enqueue(
            kind, incident_id, dict(payload), idempotency_key, now
        )
        return item

    def claim(self, item: OutboxItem) -> OutboxItem | None:
        """Take the item for sending; None when another cockpit holds it (or it is done)."""
        if item.id < 0:  # journalled while the store was down: not in the shared outbox yet
            return None
        claimed: OutboxItem | None = self.store.outbox_update(
            CLAIM, {"id": item.id, "session": self.store.session, "lease": self.store.lease}
        )
        return claimed

    def mark_sending(self, item: OutboxItem) -> OutboxItem:
        return self.claim(item) or self._must(item.id)

    def mark_sent(
        self,
        item: OutboxItem,
        now: datetime,
        ids: Mapping[str, str],
        event: TimelineEvent | None = None,
    ) -> OutboxItem:
        """Sent; `event` (the timeline's record of it) is committed in the same transaction,
        and only by the claim's holder."""
        params = {
            "id": item.id,
            "session": self.store.session,
            "now": now,
            "ids": json.dumps(dict(ids), sort_keys=True),
        }
        done: OutboxItem | None = self.store.outbox_update(SENT_SQL, params, event)
        return done or self._must(item.id)

    def mark_failed(
        self,
        item: OutboxItem,
        error: str,
        *,
        retry_at: datetime | None,
        event: TimelineEvent | None = None,
    ) -> OutboxItem:
        """retry_at None: failed for good (with `event` in the same transaction); else
        pending again from that time."""
        params = {
            "id": item.id,
            "session": self.store.session,
            "state": FAILED if retry_at is None else PENDING,
            "error": error,
            "retry_at": retry_at,
        }
        final = event if retry_at is None else None
        done: OutboxItem | None = self.store.outbox_update(FAILED_SQL, params, final)
        return done or self._must(item.id)

    def set_remote_id(self, incident_id: str, system: str, remote_id: str) -> None:
        self.store.set_remote_id(incident_id, system, remote_id)

    # ----------------------------------------------------------------- reads (the cache)

    def remote_id(self, incident_id: str, system: str = "statuspage") -> str | None:
        return self.store.remote_id(incident_id, system)

    def get(self, item_id: int) -> OutboxItem | None:
        return next((i for i in self.store.cache.outbox_items() if i.id == item_id), None)

    def pending(self) -> list[OutboxItem]:
        return [i for i in self.store.cache.outbox_items() if i.state in (PENDING, SENDING)]

    def items(self, incident_id: str) -> list[OutboxItem]:
        self.store.ensure_loaded(incident_id)
        return [i for i in self.store.cache.outbox_items() if i.incident_id == incident_id]

    def sent_count(self) -> int:
        return sum(1 for i in self.store.cache.outbox_items() if i.state == SENT)

    def _must(self, item_id: int) -> OutboxItem:
        item = self.get(item_id)
        if item is None:
            raise LookupError(f"outbox item {item_id} is not in the shared store")
        return item


__all__ = ["CUSTOMER_UPDATE", "SharedOutbox"]
