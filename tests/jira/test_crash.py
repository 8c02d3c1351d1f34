"""SIGKILL between Jira filing the ticket and its answer: started again, nothing is filed twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from cockpit.incident.outbox import SENT, Outbox
from cockpit.incident.store import SQLiteStore
from cockpit.incident.tickets import TicketBook
from tests.jira.conftest import TOKEN
from tests.jira.server import FakeJira

ROOT = Path(__file__).resolve().parents[2]


def worker(store: Path, jira: FakeJira) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.jira.crash_worker", str(store)],
        cwd=ROOT,
        env={**os.environ, "JIRA_URL": jira.url, "JIRA_TOKEN": TOKEN},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigkill_after_the_create_landed_files_one_ticket(
    tmp_path: Path, fake_jira: FakeJira
) -> None:
    db = tmp_path / "cockpit.db"
    fake_jira.hang_on_summary = "Checkout"  # Jira has the ticket; the answer never leaves
    first = worker(db, fake_jira)
    try:
        assert fake_jira.hung.wait(60), "the worker never sent the create"
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == -signal.SIGKILL
    assert [i.key for i in fake_jira.created()] == ["PAY-1"]
    fake_jira.hang_on_summary = ""
    fake_jira.release.set()

    second = worker(db, fake_jira)
    out, err = second.communicate(timeout=90)
    assert second.returncode == 0, err[-2000:]
    assert out.splitlines()[-1] == "done"
    assert [i.key for i in fake_jira.created()] == ["PAY-1"]  # one ticket
    assert len(fake_jira.creates()) == 1  # one create request, ever
    searches = [r for r in fake_jira.requests if r.path == "/rest/api/3/search/jql"]
    assert len(searches) == 1
    assert searches[0].body["jql"] == 'labels = "cockpit-INC-2026-0001-1"'
    store = SQLiteStore(db)
    try:
        (item,) = Outbox(store).items("INC-2026-0001")
        assert item.state == SENT and item.result_ids["key"] == "PAY-1"
        assert [t.key for t in TicketBook(store).tickets("INC-2026-0001")] == ["PAY-1"]
    finally:
        store.close()
