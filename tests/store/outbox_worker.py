"""A cockpit's outbox sender on the shared store, for the kill test: sends until nothing is
pending. Run: python -m tests.store.outbox_worker DSN JOURNAL (servers and keys in env)."""

from __future__ import annotations

import asyncio
import os
import sys
import time

from cockpit.backends.pagerduty import PagerDutyPager
from cockpit.backends.statuspage import StatuspageIO
from cockpit.clock import SystemClock
from cockpit.config import PagerConfig, StatusPageConfig
from cockpit.incident.outbox import OutboxSender
from cockpit.incident.postgres import PostgresStore
from cockpit.incident.postgres.outbox import SharedOutbox


def senders(store: PostgresStore, teams: list[str]) -> OutboxSender:
    clock = SystemClock()
    statuspage = StatuspageIO(
        StatusPageConfig(kind="statuspage", page_id="pg1", api_url=os.environ["SP_URL"]),
        api_key=os.environ["SP_KEY"],
        clock=clock,
    )
    pager = PagerDutyPager(
        PagerConfig(kind="pagerduty", events_url=os.environ["PD_URL"]),
        routing_keys={team: os.environ["PD_KEY"] for team in teams},
        identity=store.actor,
        clock=clock,
    )
    return OutboxSender(SharedOutbox(store), statuspage=statuspage, pager=pager, clock=clock)


async def drain(sender: OutboxSender, seconds: float = 60) -> int:
    """send_due until the shared outbox has nothing pending; returns how many this one sent."""
    sent = 0
    deadline = time.monotonic() + seconds
    while sender.outbox.pending() and time.monotonic() < deadline:
        for item, result in await sender.send_due():
            sent += item.state == "sent" and result.ok
        await asyncio.sleep(0.05)
    return sent


async def main(dsn: str, journal: str, lease: float) -> int:
    store = PostgresStore(dsn, actor="worker", journal_path=journal, lease=lease)
    store.wait_ready(10)
    sender = senders(store, [f"team{i}" for i in range(10)])
    print("started", flush=True)
    sent = await drain(sender)
    print(f"sent {sent}", flush=True)
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]))))
