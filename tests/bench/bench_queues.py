"""Listing 2,000 queues over the management API: with and without columns=, paged and not.

Run: .venv/bin/python -m tests.bench.bench_queues [--queues 2000] [--rounds 5]
Needs RabbitMQ with the management plugin on 127.0.0.1 (guest/guest). Prints a table:
wall time per listing, bytes on the wire, time to turn the JSON into QueueDepth rows, and
the broker's own CPU time (beam.smp, from /proc) per listing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from cockpit.backends.rabbitmq import QUEUE_COLUMNS, RabbitMQBroker, queue_depth
from cockpit.clock import SystemClock
from cockpit.config import RabbitMQConfig

MGMT = "http://127.0.0.1:15672"
AUTH = ("guest", "guest")


def beam_cpu_seconds() -> float | None:
    """utime + stime of the broker's Erlang VM, if it runs on this machine and we may read it."""
    ticks = os.sysconf("SC_CLK_TCK")
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() != "beam.smp":
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / ticks
        except OSError:
            continue
    return None


def setup(vhost: str, count: int) -> None:
    import pika

    with httpx.Client(base_url=MGMT, auth=AUTH, timeout=60) as mgmt:
        mgmt.put(f"/api/vhosts/{quote(vhost, safe='')}").raise_for_status()
        mgmt.put(
            f"/api/permissions/{quote(vhost, safe='')}/guest",
            json={"configure": ".*", "write": ".*", "read": ".*"},
        ).raise_for_status()
    conn = pika.BlockingConnection(
        pika.ConnectionParameters(
            "127.0.0.1", virtual_host=vhost, credentials=pika.PlainCredentials(*AUTH)
        )
    )
    channel = conn.channel()
    for i in range(count):
        name = f"bench.queue.{i:05d}"
        channel.queue_declare(name, durable=True)
        if i % 10 == 0:
            channel.basic_publish("", name, b"x" * 100)
    conn.close()


def wait_for_stats(vhost: str, count: int, timeout: float = 60) -> None:
    """Until every queue is listed with its message counts (stats lag ~5 s)."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=MGMT, auth=AUTH, timeout=60) as mgmt:
        while time.monotonic() < deadline:
            items = mgmt.get(
                f"/api/queues/{quote(vhost, safe='')}", params={"columns": "name,messages_ready"}
            ).json()
            if len(items) == count and all("messages_ready" in i for i in items):
                return
            time.sleep(1)
    raise SystemExit(f"the management API never listed {count} queues with stats")


async def fetch(
    http: httpx.AsyncClient, vhost: str, *, columns: bool, page_size: int | None
) -> tuple[float, int, list[dict[str, Any]]]:
    """One listing as raw HTTP: (seconds, bytes, items)."""
    path = f"{MGMT}/api/queues/{quote(vhost, safe='')}"
    base: dict[str, Any] = {"columns": QUEUE_COLUMNS} if columns else {}
    items: list[dict[str, Any]] = []
    size = 0
    started = time.perf_counter()
    if page_size is None:
        response = await http.get(path, params=base)
        size += len(response.content)
        items = response.json()
    else:
        page, pages = 1, 1
        while page <= pages:
            response = await http.get(path, params={**base, "page": page, "page_size": page_size})
            size += len(response.content)
            data = response.json()
            items.extend(data["items"])
            pages = data["page_count"]
            page += 1
    return time.perf_counter() - started, size, items


async def measure(vhost: str, count: int, rounds: int) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    variants = [
        ("columns=, pages of 500", True, 500),
        ("full objects, pages of 500", False, 500),
        ("columns=, one request", True, None),
        ("full objects, one request", False, None),
    ]
    async with httpx.AsyncClient(auth=AUTH, timeout=120) as http:
        for label, columns, page_size in variants:
            walls, parses, cpus = [], [], []
            size = 0
            for _ in range(rounds):
                cpu0 = beam_cpu_seconds()
                wall, size, items = await fetch(http, vhost, columns=columns, page_size=page_size)
                cpu1 = beam_cpu_seconds()
                started = time.perf_counter()
                depths = [queue_depth(i) for i in items]
                parses.append(time.perf_counter() - started)
                assert len(depths) == count, len(depths)
                walls.append(wall)
                if cpu0 is not None and cpu1 is not None:
                    cpus.append(cpu1 - cpu0)
            rows.append(
                (
                    label,
                    f"{statistics.median(walls) * 1000:.0f}",
                    f"{size / 1024:.0f}",
                    f"{statistics.median(parses) * 1000:.1f}",
                    f"{statistics.median(cpus) * 1000:.0f}" if cpus else "n/a",
                )
            )
        # end to end through the backend, as the queues panel polls it
        broker = RabbitMQBroker(
            RabbitMQConfig(MGMT, vhost=vhost, timeout=timedelta(seconds=120)),
            password=AUTH[1],
            clock=SystemClock(),
            quarantine_dir=Path("/nonexistent"),
        )
        try:
            for columns in (True, False):
                walls = []
                for _ in range(rounds):
                    started = time.perf_counter()
                    assert len(await broker.queues(columns=columns)) == count
                    walls.append(time.perf_counter() - started)
                rows.append(
                    (
                        f"RabbitMQBroker.queues(columns={columns})",
                        f"{statistics.median(walls) * 1000:.0f}",
                        "",
                        "(incl.)",
                        "",
                    )
                )
        finally:
            await broker.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queues", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    vhost = f"cockpit-bench-{uuid.uuid4().hex[:8]}"
    try:
        started = time.perf_counter()
        setup(vhost, args.queues)
        wait_for_stats(vhost, args.queues)
        print(
            f"{args.queues} queues in vhost {vhost} ready in {time.perf_counter() - started:.1f}s"
        )
        with httpx.Client(base_url=MGMT, auth=AUTH) as mgmt:
            overview = mgmt.get(
                "/api/overview", params={"columns": "rabbitmq_version,object_totals"}
            ).json()
        print(f"RabbitMQ {overview.get('rabbitmq_version')}, {overview.get('object_totals')}")
        rows = asyncio.run(measure(vhost, args.queues, args.rounds))
        header = (
            f"listing (median of {args.rounds})",
            "wall ms",
            "KiB",
            "rows ms",
            "beam CPU ms",
        )
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for r in [header, tuple("-" * w for w in widths), *rows]:
            print(
                "  ".join(
                    c.ljust(w) if i == 0 else c.rjust(w)
                    for i, (c, w) in enumerate(zip(r, widths, strict=True))
                )
            )
    finally:
        with httpx.Client(base_url=MGMT, auth=AUTH, timeout=120) as mgmt:
            mgmt.delete(f"/api/vhosts/{quote(vhost, safe='')}")
        print(f"deleted vhost {vhost}")


if __name__ == "__main__":
    main()
