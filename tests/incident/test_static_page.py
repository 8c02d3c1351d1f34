"""The static status page: what a customer sees in index.html and in the Atom feed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

from cockpit.backends.base import StatusPage
from cockpit.backends.statuspage import StaticStatusPage
from cockpit.clock import FrozenClock
from cockpit.config import StatusPageConfig
from cockpit.domain import CustomerUpdate, Incident, IncidentStatus
from cockpit.incident.outbox import CUSTOMER_UPDATE, Outbox, OutboxSender, customer_update_payload
from cockpit.incident.store import SQLiteStore

ATOM = "{http://www.w3.org/2005/Atom}"
EVIL = "<script>alert('x')</script> & <b>bold</b>"


class Page(HTMLParser):
    """The visible text of a page, element by element, and every tag that was parsed."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.texts: list[str] = []
        self.by_id: dict[str, str] = {}
        self._open_ids: list[tuple[str, str]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        ident = dict(attrs).get("id")
        if ident:
            self._open_ids.append((tag, ident))
            self.by_id[ident] = ""

    def handle_endtag(self, tag: str) -> None:
        if self._open_ids and self._open_ids[-1][0] == tag:
            self._open_ids.pop()

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.texts.append(data.strip())
            for _, ident in self._open_ids:
                self.by_id[ident] += data


def static(tmp_path: Path, clock: FrozenClock) -> StaticStatusPage:
    config = StatusPageConfig(title="Acme status", components=("api", "checkout"))
    return StaticStatusPage(config, directory=tmp_path / "page", clock=clock)


def cu(body: str, status: IncidentStatus) -> CustomerUpdate:
    return CustomerUpdate("INC-2026-0001", status, "Checkout <errors>", body, ("checkout",))


async def test_customer_sees_status_updates_newest_first_and_escaped_markup(
    tmp_path: Path, clock: FrozenClock, incident: Incident
) -> None:
    page = static(tmp_path, clock)
    assert isinstance(page, StatusPage) and page.name == "statuspage"
    result = await page.post_update(
        incident, cu(EVIL, IncidentStatus.INVESTIGATING), remote_id=None
    )
    assert result.ok and result.ids["remote_id"] == incident.id
    clock.advance(600)
    await page.post_update(
        incident, cu("Fix rolled out.", IncidentStatus.MONITORING), remote_id=incident.id
    )

    html_text = page.index_path.read_text()
    parsed = Page(html_text)
    assert "script" not in parsed.tags  # the markup is shown, never run
    assert EVIL in " ".join(parsed.texts)
    assert parsed.by_id["status"] == "Major outage"
    assert "checkout: Major outage" in parsed.by_id["components"]
    assert "api: Operational" in parsed.by_id["components"]
    incident_text = parsed.by_id[incident.id]
    assert "Checkout <errors> (Monitoring)" in incident_text
    assert "Affected: checkout" in incident_text
    # newest update first, with UTC times
    assert incident_text.index("Fix rolled out.") < incident_text.index(EVIL)
    assert "2026-11-25 03:10 UTC" in incident_text and "2026-11-25 03:00 UTC" in incident_text

    feed = ET.parse(page.feed_path).getroot()
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{required}") is not None
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        "Monitoring: Checkout <errors>",
        "Investigating: Checkout <errors>",
    ]
    assert [e.findtext(f"{ATOM}content") for e in entries] == ["Fix rolled out.", EVIL]
    assert entries[0].findtext(f"{ATOM}updated") == "2026-11-25T03:10:00Z"
    assert len({e.findtext(f"{ATOM}id") for e in entries}) == 2

    data = json.loads(page.json_path.read_text())
    assert [u["body"] for u in data["incidents"][0]["updates"]] == [EVIL, "Fix rolled out."]
    assert sorted(p.name for p in page.directory.iterdir()) == [
        "feed.atom",
        "incidents.json",
        "index.html",
    ]  # no temp files left behind


async def test_resolved_incident_turns_the_banner_green(
    tmp_path: Path, clock: FrozenClock, incident: Incident
) -> None:
    page = static(tmp_path, clock)
    await page.post_update(incident, cu("Looking.", IncidentStatus.INVESTIGATING), remote_id=None)
    await page.post_update(
        incident, cu("All good.", IncidentStatus.RESOLVED), remote_id=incident.id
    )
    parsed = Page(page.index_path.read_text())
    assert parsed.by_id["status"] == "All systems operational"
    assert "checkout: Operational" in parsed.by_id["components"]
    assert "Checkout <errors> (Resolved)" in parsed.by_id[incident.id]


async def test_static_page_through_the_outbox_posts_each_update_once(
    tmp_path: Path, clock: FrozenClock, incident: Incident, store: SQLiteStore
) -> None:
    page = static(tmp_path, clock)
    outbox = Outbox(store)
    sender = OutboxSender(outbox, statuspage=page, pager=None, clock=clock)
    item = outbox.enqueue(
        CUSTOMER_UPDATE,
        incident.id,
        customer_update_payload(cu("First words.", IncidentStatus.INVESTIGATING)),
        "u1",
        clock.now(),
    )
    await sender.send_due()
    outbox.mark_sending(outbox.get(item.id) or item)  # as if it crashed right after posting
    await sender.send_due()
    data = json.loads(page.json_path.read_text())
    assert [u["body"] for u in data["incidents"][0]["updates"]] == ["First words."]
    assert outbox.remote_id(incident.id) == incident.id
