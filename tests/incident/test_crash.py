"""SIGKILL in the middle of a burst: no committed event is lost and nothing is sent twice."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
from pathlib import Path

from cockpit.incident.outbox import SENT, Outbox
from cockpit.incident.store import SQLiteStore
from tests.incident.fake_pagerduty import FakePagerDuty
from tests.incident.fake_statuspage import FakeStatuspage

ROOT = Path(__file__).resolve().parents[2]
COUNT = 6


def worker(
    store: Path, sp: FakeStatuspage, pd: FakePagerDuty, sp_key: str
) -> subprocess.Popen[str]:
    env = {**os.environ, "SP_URL": sp.url, "SP_KEY": sp_key, "PD_URL": pd.url, "PD_KEY": "A" * 32}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.incident.crash_worker", str(store), str(COUNT)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigkill_mid_burst_loses_no_event_and_sends_nothing_twice(
    tmp_path: Path, fake_sp: FakeStatuspage, fake_pd: FakePagerDuty, sp_key: str
) -> None:
    db = tmp_path / "cockpit.db"
    # the worst moment: Statuspage has applied "update 3" but the answer never arrives
    fake_sp.hang_on_body = "update 3"
    first = worker(db, fake_sp, fake_pd, sp_key)
    try:
        assert fake_sp.hung.wait(60), "the worker never reached update 3"
        first.send_signal(signal.SIGKILL)
        out, _ = first.communicate(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == -signal.SIGKILL
    committed = [int(line.split()[1]) for line in out.splitlines() if line.startswith("event ")]
    assert len(committed) == 4  # events 0..3 were committed before the kill
    fake_sp.hang_on_body = ""
    fake_sp.release.set()
    first_run = len(fake_sp.requests)

    second = worker(db, fake_sp, fake_pd, sp_key)
    out, err = second.communicate(timeout=90)
    assert second.returncode == 0, err[-2000:]
    assert out.splitlines()[-1] == "done"

    store = SQLiteStore(db)
    try:
        ids = {e.id for e in store.timeline("INC-2026-0007", limit=10_000)}
        assert set(committed) <= ids
        items = Outbox(store).items("INC-2026-0007")
        assert len(items) == 2 * COUNT and all(i.state == SENT for i in items)
    finally:
        store.close()
    # each customer update reached the page exactly once, in order, on one incident
    assert fake_sp.bodies() == [f"update {i}" for i in range(COUNT)]
    assert len(fake_sp.incidents) == 1
    writes = [r for r in fake_sp.requests if r.method in ("POST", "PATCH") and r.status < 300]
    assert len(writes) == COUNT
    assert any(r.method == "GET" for r in fake_sp.requests)  # the in-doubt update was checked
    # each team was paged once: one PagerDuty alert per dedup key
    assert sorted(k for _, k in fake_pd.alerts) == sorted(
        f"INC-2026-0007:team{i}" for i in range(COUNT)
    )
    assert all(alert["triggers"] == 1 for alert in fake_pd.alerts.values())
    # within each process, requests from the key were never closer than a second apart (a
    # fresh process may meet a 429 from the dead one's last request, and then waits; on a
    # loaded machine the server's clock can see one more pair a hair under a second apart)
    for run in (fake_sp.requests[:first_run], fake_sp.requests[first_run:]):
        ok = [r.at for r in run if r.status != 429]
        assert all(b - a >= 1.0 for a, b in itertools.pairwise(ok))
    assert sum(r.status == 429 for r in fake_sp.requests) <= 2
