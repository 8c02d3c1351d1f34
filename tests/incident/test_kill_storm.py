"""Issue 10: 50 SIGKILLs at random moments of a burst of sends and timeline writes.

The worker (tests/incident/crash_worker.py) writes notes and sends customer updates and
pages through the outbox, each outcome committed with its timeline event in one
transaction. It is killed 50 times at random moments, then runs to the end. Then:
- every event a run reported committed is in the store, once;
- every outbox item is sent, with exactly one outcome event (never zero, never two);
- Statuspage holds each update exactly once (an in-doubt update is looked up first);
- PagerDuty holds exactly one alert per page. A kill between PagerDuty receiving a page
  and the outcome's commit cannot be told from one before the request left: the page is
  sent again with the same dedup_key, which PagerDuty documents as the same alert. Those
  resends are counted and bounded by the kills that landed in that window.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from pathlib import Path

from cockpit.incident.outbox import SENT, Outbox
from cockpit.incident.store import SQLiteStore
from tests.hostile import TALLY
from tests.incident.fake_pagerduty import FakePagerDuty
from tests.incident.fake_statuspage import FakeStatuspage
from tests.incident.test_crash import worker

KILLS = 50
COUNT = 6  # the worker's burst: COUNT notes, COUNT updates, COUNT pages


def test_fifty_kills_lose_nothing_and_commit_each_outcome_once(
    tmp_path: Path, fake_sp: FakeStatuspage, fake_pd: FakePagerDuty, sp_key: str
) -> None:
    db = tmp_path / "cockpit.db"
    rng = random.Random(10)
    committed: list[int] = []
    for _ in range(KILLS):
        proc = worker(db, fake_sp, fake_pd, sp_key)
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "started"
            time.sleep(rng.uniform(0.0, 0.35))
            os.kill(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        committed += [int(line.split()[1]) for line in out.splitlines() if line.startswith("event")]
    last = worker(db, fake_sp, fake_pd, sp_key)
    out, err = last.communicate(timeout=120)
    assert last.returncode == 0, err[-2000:]
    committed += [int(line.split()[1]) for line in out.splitlines() if line.startswith("event")]

    store = SQLiteStore(db)
    try:
        events = store.timeline("INC-2026-0007", limit=100_000)
        items = Outbox(store).items("INC-2026-0007")
    finally:
        store.close()
    ids = Counter(e.id for e in events)
    outcomes = Counter(e.details.get("outbox_id") for e in events if e.source == "outbox")
    bodies = Counter(fake_sp.bodies())
    lost = len(set(committed) - set(ids)) + sum(1 for i in items if i.state != SENT)
    lost += sum(1 for i in items if outcomes[i.id] == 0)
    lost += sum(1 for n in range(COUNT) if bodies[f"update {n}"] == 0)
    duplicated = sum(n - 1 for n in outcomes.values() if n > 1)
    duplicated += sum(n - 1 for n in bodies.values() if n > 1)
    TALLY["items lost"] += lost
    TALLY["items duplicated"] += duplicated
    assert set(committed) <= set(ids), "a committed event was lost"
    assert all(n == 1 for n in ids.values())
    assert len(items) == 2 * COUNT and all(i.state == SENT for i in items), [
        (i.idempotency_key, i.state) for i in items
    ]
    assert {i.id: outcomes[i.id] for i in items} == {i.id: 1 for i in items}

    # Statuspage: each update exactly once, in order, on one incident
    assert fake_sp.bodies() == [f"update {i}" for i in range(COUNT)]
    assert len(fake_sp.incidents) == 1
    # PagerDuty: one alert per page; repeats only for pages in doubt at a kill
    assert sorted(k for _, k in fake_pd.alerts) == sorted(
        f"INC-2026-0007:team{i}" for i in range(COUNT)
    )
    resent = sum(alert["triggers"] - 1 for alert in fake_pd.alerts.values())
    assert resent <= KILLS
    TALLY["kills survived"] += KILLS
    TALLY["pages resent in doubt (same dedup_key)"] += resent
    print(f"\n{KILLS} kills: {len(items)} items sent once each, {resent} pages resent in doubt")
