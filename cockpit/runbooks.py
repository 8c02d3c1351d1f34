"""An alert's runbook as a checklist: found, fetched, made inert, and its steps parsed.

Where `o` looks, in order (`[runbooks]` in the config):
  1. `[runbooks.alerts] KycVendorTimeouts = "identity/vendor.md"`: a file relative to
     `directory` (or absolute, or a URL);
  2. `<directory>/<alertname>.md`;
  3. the alert's `runbook_url` annotation, when it points at Markdown or plain text:
     http(s) (one GET with a timeout and a size limit, no credentials sent) or file://.
An HTML page (a wiki) is not shown: the screen says so and offers the URL to copy.

What comes back is data, never instructions: control characters and bidirectional
overrides are removed, a runbook longer than `max_bytes` is cut with a note, links
are never followed (the screen renders Markdown with HTML off and link opening off).
Task-list items (`- [ ] step`) outside code blocks are the steps that `x` checks off;
a checked step is a timeline event, so "done on this incident" is read back from there.

No UI imports: the runbook screen and the tests use the same functions.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

# the same one-line reasons (and credential-free URLs) as the Alertmanager backend's
from cockpit.backends.alertmanager import _shown as shown_url
from cockpit.backends.alertmanager import _transport_detail as transport_detail
from cockpit.backends.http import tls_context
from cockpit.config import RunbooksConfig
from cockpit.domain import AlertGroup, EventKind, TimelineEvent
from cockpit.text import clean

MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd", ".txt", ".text")
TEXT_TYPES = ("text/markdown", "text/x-markdown", "text/plain", "text/x-rst")
HTML_TYPES = ("text/html", "application/xhtml+xml")
URL_ANNOTATIONS = ("runbook_url", "runbook")

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_TASK = re.compile(r"^(\s*(?:[-*+]|\d{1,9}[.)])\s+)\[([ xX])\](\s+)(\S.*)$")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_:.-]+$")  # an alertname that can be a file name
STEP_MAX = 200
UNCHECKED, CHECKED = "☐", "☑"


@dataclass(frozen=True, slots=True)
class Step:
    number: int  # 1-based, in the order of the document
    text: str  # one line, what the timeline event says
    line: int  # 0-based line of the Markdown it sits on


@dataclass(frozen=True, slots=True)
class Runbook:
    alertname: str
    source: str  # what the engineer is shown: a path or a URL
    key: str  # what steps done are recorded against: path relative to directory, or URL
    markdown: str  # inert, possibly cut (with a note at the end)
    steps: tuple[Step, ...]
    cut_note: str = ""  # "cut at 64 KiB: the runbook is 1.2 MiB", "" when whole

    def render(self, done: Iterable[str] = ()) -> str:
        """The Markdown with each step's box shown as ☐ or ☑ (done on this incident):
        a literal `[x]` could be read as a link reference."""
        finished = set(done)
        lines = self.markdown.split("\n")
        for step in self.steps:
            match = _TASK.match(lines[step.line])
            if match:
                box = CHECKED if step.text in finished else UNCHECKED
                lines[step.line] = f"{match.group(1)}{box}{match.group(3)}{match.group(4)}"
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class RunbookResult:
    """A runbook, or one line saying why there is none and the URL to copy."""

    alertname: str
    runbook: Runbook | None = None
    error: str = ""
    url: str = ""  # the runbook_url (or path) the engineer can open elsewhere


class RunbookError(Exception):
    """One line for the screen."""


def sanitize(text: str) -> str:
    """Outside text made inert for the screen (the project's one cleaning point: escape
    sequences and bidi overrides become visible text), with one newline convention."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("\ufeff"):
        text = text[1:]  # a byte-order mark is not content
    # never cut here: build_runbook cuts by size, with a note
    return clean(text, limit=16 * len(text) + 16)


def parse_steps(markdown: str) -> tuple[Step, ...]:
    """Task-list items outside fenced code blocks, in document order."""
    steps: list[Step] = []
    fence = ""
    for number, line in enumerate(markdown.split("\n")):
        opened = _FENCE.match(line)
        if fence:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = ""
            continue
        if opened:
            fence = opened.group(1)
            continue
        match = _TASK.match(line)
        if match:
            text = " ".join(match.group(4).split())
            if len(text) > STEP_MAX:
                text = text[: STEP_MAX - 1] + "…"
            steps.append(Step(len(steps) + 1, text, number))
    return tuple(steps)


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KiB"
    return f"{n / 1024 / 1024:.1f} MiB"


def build_runbook(
    alertname: str, source: str, key: str, data: bytes, limit: int, total: int | None = None
) -> Runbook:
    """Bytes -> an inert Runbook, cut at `limit` bytes (at a line end) with a note."""
    note = ""
    if len(data) > limit:
        cut = data.rfind(b"\n", 0, limit)
        data = data[: cut if cut > limit // 2 else limit]
        whole = f"{_size(total)}" if total else f"more than {_size(limit)}"
        note = f"cut at {_size(limit)}: the runbook is {whole}"
    text = sanitize(data.decode("utf-8", errors="replace"))
    if note:
        if sum(1 for line in text.split("\n") if _FENCE.match(line)) % 2:
            text += "\n```"  # the cut fell inside a code block: close it before the note
        text += f"\n\n---\n\n*{note}; the rest is not shown.*\n"
    return Runbook(alertname, source, key, text, parse_steps(text), note)


def _first_annotation(group: AlertGroup) -> str:
    for name in URL_ANNOTATIONS:
        for alert in group.alerts:
            value = (alert.annotations.get(name) or "").strip()
            if value:
                return value
    return ""


def _looks_like_html(data: bytes) -> bool:
    head = data[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<?xml"))


class RunbookLibrary:
    """Finds and loads runbooks; `fetch_urls=False` (the demo) never leaves the machine."""

    def __init__(self, config: RunbooksConfig, *, offline_reason: str = "") -> None:
        self.config = config
        # why http(s) URLs are not fetched, when they are not
        self.offline_reason = offline_reason or (
            "" if config.fetch_urls else "fetching runbook URLs is off ([runbooks] fetch_urls)"
        )

    @property
    def directory(self) -> Path | None:
        return Path(self.config.directory).expanduser() if self.config.directory else None

    async def load(self, group: AlertGroup) -> RunbookResult:
        """The group's runbook, or why there is none; never raises."""
        name = group.name
        url = shown_url(_first_annotation(group))  # user:password@ never reaches the screen
        try:
            runbook = await self._load(group, url)
        except RunbookError as exc:
            return RunbookResult(name, error=str(exc), url=url)
        if runbook is None:
            return RunbookResult(name, error=self._nothing(name), url=url)
        return RunbookResult(name, runbook=runbook, url=url or runbook.source)

    def _nothing(self, name: str) -> str:
        where = []
        if self.directory is not None:
            where.append(f"no {name}.md in {self.directory}")
        else:
            where.append("no [runbooks] directory")
        return f"no runbook for {name}: " + ", ".join(where) + " and no runbook_url annotation"

    async def _load(self, group: AlertGroup, url: str) -> Runbook | None:
        name = group.name
        mapped = self.config.alerts.get(name)
        directory = self.directory
        if mapped:
            if re.match(r"^(https?|file)://", mapped):
                return await self._from_url(name, mapped)
            path = Path(mapped).expanduser()
            if not path.is_absolute():
                if directory is None:
                    raise RunbookError(
                        f"[runbooks.alerts] {name} = {mapped!r} is relative, "
                        "but [runbooks] directory is not set"
                    )
                path = directory / path
            return await self._from_file(name, path, mapped, "[runbooks.alerts]")
        if directory is not None and _SAFE_NAME.match(name) and name not in (".", ".."):
            path = directory / f"{name}.md"
            if await asyncio.to_thread(path.is_file):
                return await self._from_file(name, path, path.name, "")
        if url:
            return await self._from_url(name, url)
        return None

    async def _from_file(self, name: str, path: Path, key: str, origin: str) -> Runbook:
        limit = self.config.max_bytes

        def read() -> tuple[bytes, int]:
            with path.open("rb") as handle:
                size = path.stat().st_size
                return handle.read(limit + 1), size

        where = f" (from {origin})" if origin else ""
        try:
            data, size = await asyncio.to_thread(read)
        except FileNotFoundError:
            raise RunbookError(f"runbook {path} not found{where}") from None
        except IsADirectoryError:
            raise RunbookError(f"runbook {path} is a directory{where}") from None
        except OSError as exc:
            raise RunbookError(f"cannot read runbook {path}: {exc.strerror}{where}") from None
        if _looks_like_html(data):
            raise RunbookError(f"runbook {path} is HTML, not Markdown or plain text")
        return build_runbook(name, str(path), key, data, limit, size)

    async def _from_url(self, name: str, url: str) -> Runbook:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "file":
            if parts.netloc not in ("", "localhost"):
                raise RunbookError(f"runbook_url {url} is on another host: copy it instead")
            path = Path(unquote(parts.path))
            if path.suffix.lower() not in MARKDOWN_SUFFIXES:
                # an annotation must not be able to show /etc/shadow on the screen
                raise RunbookError(
                    f"runbook_url {url} is not a Markdown or text file "
                    f"({', '.join(MARKDOWN_SUFFIXES)})"
                )
            return await self._from_file(name, path, url, "runbook_url")
        if scheme not in ("http", "https"):
            raise RunbookError(f"runbook_url {url} is not an http(s) or file:// URL")
        if self.offline_reason:
            raise RunbookError(f"{self.offline_reason}: runbook_url {url}")
        data, total = await self._fetch(url)
        return build_runbook(name, url, url, data, self.config.max_bytes, total)

    async def _fetch(self, url: str) -> tuple[bytes, int | None]:
        import httpx

        limit = self.config.max_bytes
        seconds = self.config.timeout.total_seconds()
        host = urlsplit(url).hostname or url
        headers = {
            "Accept": "text/markdown, text/plain;q=0.9, */*;q=0.1",
            "User-Agent": "cockpit-runbook/1",
        }
        try:
            # a whole-exchange deadline: httpx's timeout bounds each read, and a server
            # trickling a byte at a time would otherwise hold the screen's flow for ever
            async with (
                asyncio.timeout(seconds),
                httpx.AsyncClient(
                    verify=tls_context(),
                    timeout=seconds,
                    follow_redirects=True,
                    max_redirects=3,
                    headers=headers,
                ) as http,
                http.stream("GET", url) as response,
            ):
                if response.status_code >= 400:
                    reason = response.reason_phrase or "error"
                    raise RunbookError(
                        f"runbook_url answered {response.status_code} {reason}: {url}"
                    )
                ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if ctype in HTML_TYPES:
                    raise RunbookError(
                        f"runbook_url is an HTML page ({ctype}), not Markdown: "
                        f"open it in a browser: {url}"
                    )
                path = urlsplit(str(response.url)).path.lower()
                if ctype and ctype not in TEXT_TYPES and not path.endswith(MARKDOWN_SUFFIXES):
                    raise RunbookError(f"runbook_url is {ctype}, not Markdown or text: {url}")
                chunks: list[bytes] = []
                got = 0
                async for chunk in response.aiter_bytes():
                    chunks.append(chunk)
                    got += len(chunk)
                    if got > limit:
                        break  # enough to show: the rest is never downloaded
                length = response.headers.get("content-length", "")
        except (httpx.TimeoutException, TimeoutError):
            raise RunbookError(f"runbook_url timed out after {seconds:g}s ({host})") from None
        except httpx.TooManyRedirects:
            raise RunbookError(f"runbook_url redirects too often ({host})") from None
        except httpx.HTTPError as exc:
            reason = transport_detail(exc, seconds)
            raise RunbookError(f"cannot fetch runbook_url from {host}: {reason}") from None
        data = b"".join(chunks)
        if _looks_like_html(data):
            raise RunbookError(f"runbook_url is an HTML page, not Markdown: {url}")
        total = int(length) if length.isdigit() else (got if got <= limit else None)
        return data, total


# ----------------------------------------------------------------- steps done


def step_event_details(runbook: Runbook, step: Step) -> dict[str, str]:
    return {"runbook": runbook.key, "alert": runbook.alertname, "step": step.text}


def done_steps(events: Iterable[TimelineEvent], runbook_key: str) -> dict[str, TimelineEvent]:
    """Step text -> the timeline event that checked it (the first), for one runbook."""
    out: dict[str, TimelineEvent] = {}
    for event in sorted(events, key=lambda e: (e.at, e.id or 0)):
        if event.kind is not EventKind.RUNBOOK_STEP:
            continue
        details: Mapping[str, object] = event.details
        if details.get("runbook") == runbook_key and isinstance(details.get("step"), str):
            out.setdefault(str(details["step"]), event)
    return out
