"""The static status page: the default, needing no account.

incidents.json is the page's own source of truth, read back on every post; index.html
(readable without JavaScript) and feed.atom (Atom 1.0, one entry per update) are
rendered from it. Every file is written atomically (temp file, fsync, os.replace), so
a reader or a crash never sees half a page. All text is HTML/XML-escaped.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import tempfile
import threading
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cockpit.backends.base import BackendError
from cockpit.clock import Clock
from cockpit.config import StatusPageConfig
from cockpit.domain import ActionResult, CustomerUpdate, Incident, IncidentStatus, Severity

ATOM = "http://www.w3.org/2005/Atom"

STATUS_WORDS = {
    IncidentStatus.INVESTIGATING.value: "Investigating",
    IncidentStatus.IDENTIFIED.value: "Identified",
    IncidentStatus.MONITORING.value: "Monitoring",
    IncidentStatus.RESOLVED.value: "Resolved",
}
IMPACT_WORDS = {
    Severity.SEV1.value: "Major outage",
    Severity.SEV2.value: "Partial outage",
    Severity.SEV3.value: "Degraded performance",
    Severity.SEV4.value: "Degraded performance",
}
OPERATIONAL = "All systems operational"


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _iso(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def atomic_write(path: Path, data: bytes) -> None:
    """Write data to path so that readers see the old file or the new one, never a mix."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


class StaticStatusPage:
    """StatusPage as three files in a directory; remote_id is the incident id."""

    name = "statuspage"

    def __init__(self, config: StatusPageConfig, *, directory: Path, clock: Clock) -> None:
        self.config = config
        self.directory = Path(directory)
        self.clock = clock
        self._lock = threading.Lock()

    @property
    def index_path(self) -> Path:
        return self.directory / "index.html"

    @property
    def json_path(self) -> Path:
        return self.directory / "incidents.json"

    @property
    def feed_path(self) -> Path:
        return self.directory / "feed.atom"

    async def post_update(
        self, incident: Incident, update: CustomerUpdate, *, remote_id: str | None
    ) -> ActionResult:
        try:
            await asyncio.to_thread(self._post, incident, update)
        except OSError as exc:
            raise BackendError(
                f"status page: cannot write {self.directory}: {exc.strerror or exc}"
            ) from None
        word = STATUS_WORDS.get(update.status.value, update.status.value)
        return ActionResult.success(
            f"status page updated: {word} ({self.index_path})", remote_id=incident.id
        )

    async def find_update(
        self, incident: Incident, update: CustomerUpdate, *, remote_id: str | None
    ) -> str | None:
        data = await asyncio.to_thread(self.load)
        for record in data["incidents"]:
            if record["id"] == incident.id and any(
                u["body"] == update.body and u["status"] == update.status.value
                for u in record["updates"]
            ):
                return incident.id
        return None

    async def close(self) -> None:
        return None

    # ----------------------------------------------------------------- state

    def load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.json_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"title": self.config.title, "incidents": []}
        except ValueError:
            raise BackendError(f"status page: {self.json_path} is not valid JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("incidents"), list):
            raise BackendError(f"status page: {self.json_path} has no incidents list")
        return data

    def _post(self, incident: Incident, update: CustomerUpdate) -> None:
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            data = self.load()
            now = self.clock.now()
            record = next((r for r in data["incidents"] if r["id"] == incident.id), None)
            if record is None:
                record = {"id": incident.id, "started_at": incident.started_at.isoformat()}
                record["updates"] = []
                data["incidents"].append(record)
            components = list(update.components or incident.components)
            record.update(
                name=update.title or incident.title,
                status=update.status.value,
                severity=incident.severity.value,
                components=components,
                resolved_at=now.isoformat() if update.status is IncidentStatus.RESOLVED else None,
            )
            record["updates"].append(
                {
                    "n": len(record["updates"]) + 1,
                    "status": update.status.value,
                    "body": update.body,
                    "components": components,
                    "created_at": now.isoformat(),
                }
            )
            data["title"] = self.config.title
            data["updated_at"] = now.isoformat()
            atomic_write(self.json_path, json.dumps(data, indent=2, sort_keys=True).encode("utf-8"))
            atomic_write(
                self.index_path, render_html(data, now, self.config.components).encode("utf-8")
            )
            atomic_write(self.feed_path, render_atom(data))


def _component_states(data: dict[str, Any], configured: tuple[str, ...]) -> dict[str, str]:
    states = {c.partition("=")[0].strip(): "Operational" for c in configured}
    for record in sorted(data["incidents"], key=lambda r: r["started_at"]):
        for component in record.get("components", []):
            states.setdefault(component, "Operational")
            if record["status"] != IncidentStatus.RESOLVED.value:
                states[component] = IMPACT_WORDS.get(record["severity"], "Degraded performance")
    return states


def _newest_first(data: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(data["incidents"], key=lambda r: r["started_at"], reverse=True)


def render_html(data: dict[str, Any], now: datetime, components: tuple[str, ...] = ()) -> str:
    esc = html.escape
    title = str(data.get("title") or "Service status")
    records = _newest_first(data)
    open_records = [r for r in records if r["status"] != IncidentStatus.RESOLVED.value]
    if open_records:
        worst = min(open_records, key=lambda r: r["severity"])
        banner = IMPACT_WORDS.get(worst["severity"], "Degraded performance")
        banner_class = "outage"
    else:
        banner, banner_class = OPERATIONAL, "ok"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta http-equiv="refresh" content="60">',
        f"<title>{esc(title)}</title>",
        '<link rel="alternate" type="application/atom+xml" title="Updates" href="feed.atom">',
        "<style>body{font-family:sans-serif;max-width:46em;margin:auto;padding:1em}"
        ".ok{background:#2e7d32}.outage{background:#c62828}"
        ".banner{color:#fff;padding:.8em;font-size:1.3em}"
        "time{color:#555}.update{margin:.6em 0}</style>",
        "</head><body>",
        f"<h1>{esc(title)}</h1>",
        f'<p class="banner {banner_class}" id="status">{esc(banner)}</p>',
    ]
    states = _component_states(data, components)
    if states:
        out.append('<h2>Components</h2><ul id="components">')
        for name, state in sorted(states.items()):
            out.append(f"<li>{esc(name)}: {esc(state)}</li>")
        out.append("</ul>")
    out.append("<h2>Incidents</h2>")
    if not records:
        out.append("<p>No incidents reported.</p>")
    for record in records:
        status_word = STATUS_WORDS.get(record["status"], record["status"])
        out.append(f'<section class="incident" id="{esc(record["id"])}">')
        out.append(f"<h3>{esc(record['name'])} ({esc(status_word)})</h3>")
        if record.get("components"):
            affected = ", ".join(record["components"])
            out.append(f'<p class="affected">Affected: {esc(affected)}</p>')
        for update in sorted(record["updates"], key=lambda u: u["n"], reverse=True):
            word = STATUS_WORDS.get(update["status"], update["status"])
            when = _utc(datetime.fromisoformat(update["created_at"]))
            out.append(
                f'<div class="update"><strong>{esc(word)}</strong> '
                f'<time datetime="{esc(_iso(update["created_at"]))}">{esc(when)}</time>'
                f"<p>{esc(update['body'])}</p></div>"
            )
        out.append("</section>")
    out.append(f"<footer><p>Last updated {esc(_utc(now))}.</p></footer>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def render_atom(data: dict[str, Any]) -> bytes:
    ET.register_namespace("", ATOM)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    title = str(data.get("title") or "Service status")
    feed = ET.Element(f"{{{ATOM}}}feed")
    sub(feed, "id", "urn:cockpit:statuspage")
    sub(feed, "title", title)
    updated = data.get("updated_at") or datetime.now(UTC).isoformat()
    sub(feed, "updated", _iso(updated))
    author = sub(feed, "author")
    sub(author, "name", title)
    sub(feed, "link", rel="alternate", href="index.html")
    entries = [(r, u) for r in data["incidents"] for u in r["updates"]]
    entries.sort(key=lambda pair: pair[1]["created_at"], reverse=True)
    for record, update in entries:
        entry = sub(feed, "entry")
        sub(entry, "id", f"urn:cockpit:statuspage:{record['id']}:{update['n']}")
        word = STATUS_WORDS.get(update["status"], update["status"])
        sub(entry, "title", f"{word}: {record['name']}")
        sub(entry, "updated", _iso(update["created_at"]))
        sub(entry, "link", rel="alternate", href=f"index.html#{record['id']}")
        sub(entry, "content", update["body"], type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
