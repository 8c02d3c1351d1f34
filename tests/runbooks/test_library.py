"""Finding, fetching and parsing runbooks (cockpit.runbooks), with real files and a real
HTTP server on loopback; checking a step off through the action layer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from cockpit.actions import Actions
from cockpit.clock import FrozenClock
from cockpit.config import Identity, RunbooksConfig
from cockpit.domain import Alert, AlertGroup, EventKind, IncidentStatus, Severity, frozen_map
from cockpit.incident.store import SQLiteStore
from cockpit.live import LiveState
from cockpit.runbooks import RunbookLibrary, build_runbook, parse_steps, sanitize
from tests.runbooks.server import Page, RunbookServer

VENDOR = b"""# KYC vendor timeouts

The identity service calls the KYC vendor; when it is slow, sign-ups queue.

- [ ] Check the vendor's status page
- [ ] Look at identity-api's error rate (`f` on the alert)
* [x] Switch to the fallback vendor: `kubectl -n identity set env deploy/identity-api KYC=backup`
1. [ ] Post a customer update

```sh
- [ ] not a step: inside a code block
```

- no box, not a step
"""


def group(name: str = "KycVendorTimeouts", url: str = "") -> AlertGroup:
    annotations = {"summary": "vendor slow"} | ({"runbook_url": url} if url else {})
    alert = Alert(
        fingerprint="f1",
        labels=frozen_map({"alertname": name, "namespace": "identity"}),
        annotations=frozen_map(annotations),
    )
    return AlertGroup(key=name, labels=frozen_map({"alertname": name}), alerts=(alert,))


@pytest.fixture
def server() -> Iterator[RunbookServer]:
    with RunbookServer() as running:
        yield running


def library(directory: Path | None = None, **options: object) -> RunbookLibrary:
    config = RunbooksConfig(directory=str(directory) if directory else "", **options)  # type: ignore[arg-type]
    return RunbookLibrary(config)


def test_steps_are_task_items_outside_code() -> None:
    steps = parse_steps(sanitize(VENDOR.decode()))
    assert [s.text for s in steps] == [
        "Check the vendor's status page",
        "Look at identity-api's error rate (`f` on the alert)",
        "Switch to the fallback vendor: `kubectl -n identity set env deploy/identity-api "
        "KYC=backup`",
        "Post a customer update",
    ]
    assert [s.number for s in steps] == [1, 2, 3, 4]


async def test_from_the_directory_by_alertname(tmp_path: Path) -> None:
    (tmp_path / "KycVendorTimeouts.md").write_bytes(VENDOR)
    result = await library(tmp_path).load(group())
    assert result.error == ""
    assert result.runbook is not None
    assert result.runbook.source == str(tmp_path / "KycVendorTimeouts.md")
    assert result.runbook.key == "KycVendorTimeouts.md"
    assert len(result.runbook.steps) == 4
    rendered = result.runbook.render({"Check the vendor's status page"})
    assert "- ☑ Check the vendor's status page" in rendered
    assert "- ☐ Look at identity-api's error rate" in rendered
    assert "- [ ] not a step: inside a code block" in rendered


async def test_the_mapping_wins_and_is_relative_to_the_directory(tmp_path: Path) -> None:
    (tmp_path / "identity").mkdir()
    (tmp_path / "identity" / "vendor.md").write_bytes(b"# mapped\n- [ ] one\n")
    (tmp_path / "KycVendorTimeouts.md").write_bytes(b"# by name\n")
    lib = library(tmp_path, alerts={"KycVendorTimeouts": "identity/vendor.md"})
    result = await lib.load(group())
    assert result.runbook is not None and result.runbook.markdown.startswith("# mapped")
    assert result.runbook.key == "identity/vendor.md"
    # a mapping to a missing file says so, and which setting pointed there
    broken = library(tmp_path, alerts={"KycVendorTimeouts": "identity/gone.md"})
    missing = await broken.load(group(url="https://wiki.example/kyc"))
    assert missing.runbook is None
    assert missing.error == (
        f"runbook {tmp_path / 'identity' / 'gone.md'} not found (from [runbooks.alerts])"
    )
    assert missing.url == "https://wiki.example/kyc"  # offered to copy


async def test_an_alertname_cannot_leave_the_directory(tmp_path: Path) -> None:
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "secret.md").write_bytes(b"- [ ] leaked\n")
    result = await library(tmp_path / "runbooks").load(group("../secret"))
    assert result.runbook is None
    assert result.error.startswith("no runbook for ../secret")


async def test_from_runbook_url_served_over_http(server: RunbookServer) -> None:
    server.pages["/identity/vendor.md"] = Page(VENDOR)
    url = server.url + "/identity/vendor.md"
    result = await library().load(group(url=url))
    assert result.error == ""
    assert result.runbook is not None
    assert result.runbook.source == url and result.runbook.key == url
    assert len(result.runbook.steps) == 4
    (path, headers), *_ = server.requests
    assert path == "/identity/vendor.md"
    assert "authorization" not in headers and "cookie" not in headers
    assert headers["accept"].startswith("text/markdown")


async def test_plain_text_and_a_redirect_are_fine(server: RunbookServer) -> None:
    server.pages["/raw"] = Page(b"- [ ] restart it\n", "text/plain")
    server.pages["/short"] = Page(b"", "", 302, location="/raw")
    result = await library().load(group(url=server.url + "/short"))
    assert result.runbook is not None
    assert [s.text for s in result.runbook.steps] == ["restart it"]


@pytest.mark.parametrize(
    ("page", "error"),
    [
        (
            Page(b"<html><body>wiki</body></html>", "text/html"),
            "runbook_url is an HTML page (text/html), not Markdown: open it in a browser: ",
        ),
        (
            Page(b"<!DOCTYPE html><html>sneaky</html>", "text/plain"),
            "runbook_url is an HTML page, not Markdown: ",
        ),
        (Page(b'{"a": 1}', "application/json"), "runbook_url is application/json, not Markdown"),
        (Page(b"gone", "text/plain", 404), "runbook_url answered 404 Not Found: "),
        (Page(b"oops", "text/plain", 503), "runbook_url answered 503 Service Unavailable: "),
    ],
    ids=["html", "html-sniffed", "json", "404", "503"],
)
async def test_what_cannot_be_shown_says_why(server: RunbookServer, page: Page, error: str) -> None:
    server.pages["/rb"] = page
    url = server.url + "/rb"
    result = await library().load(group(url=url))
    assert result.runbook is None
    assert result.error.startswith(error)
    assert "\n" not in result.error
    assert result.url == url


async def test_missing_everywhere(tmp_path: Path) -> None:
    result = await library(tmp_path).load(group())
    assert result.runbook is None and result.url == ""
    assert result.error == (
        f"no runbook for KycVendorTimeouts: no KycVendorTimeouts.md in {tmp_path} "
        "and no runbook_url annotation"
    )


async def test_unreachable_and_slow_servers(server: RunbookServer) -> None:
    refused = await library().load(group(url="http://127.0.0.1:9/rb.md"))
    assert refused.error == "cannot fetch runbook_url from 127.0.0.1: connection refused"
    server.pages["/slow.md"] = Page(b"", hang=True)
    slow = await library(timeout=timedelta(seconds=0.5)).load(group(url=server.url + "/slow.md"))
    assert slow.error == "runbook_url timed out after 0.5s (127.0.0.1)"
    server.pages["/trickle.md"] = Page(b"", trickle=True)
    started = time.monotonic()
    trickle = await library(timeout=timedelta(seconds=1)).load(
        group(url=server.url + "/trickle.md")
    )
    assert trickle.error == "runbook_url timed out after 1s (127.0.0.1)"
    assert time.monotonic() - started < 3


async def test_a_huge_runbook_is_cut_with_a_note(server: RunbookServer, tmp_path: Path) -> None:
    server.pages["/huge.md"] = Page(b"", "text/markdown", endless=True)
    result = await library(max_bytes=4096).load(group(url=server.url + "/huge.md"))
    assert result.runbook is not None
    assert result.runbook.cut_note == "cut at 4 KiB: the runbook is more than 4 KiB"
    assert result.runbook.markdown.endswith(
        "*cut at 4 KiB: the runbook is more than 4 KiB; the rest is not shown.*\n"
    )
    assert len(result.runbook.markdown) < 4096 + 200
    assert len(result.runbook.steps) < 4096 // 11 + 1
    # from a file, the note gives the whole size; a cut inside a code block is closed
    body = b"# big\n```\n" + b"x = 1\n" * 100_000
    (tmp_path / "Big.md").write_bytes(body)
    big = await library(tmp_path, max_bytes=8192).load(group("Big"))
    assert big.runbook is not None
    assert big.runbook.cut_note == "cut at 8 KiB: the runbook is 586 KiB"
    assert "\n```\n\n---\n\n*cut at 8 KiB" in big.runbook.markdown


async def test_file_urls_only_for_text_files(tmp_path: Path) -> None:
    (tmp_path / "rb.md").write_bytes(b"- [ ] from a file url\n")
    (tmp_path / "shadow").write_bytes(b"root:x:0:0\n")
    ok = await library().load(group(url=(tmp_path / "rb.md").as_uri()))
    assert ok.runbook is not None and ok.runbook.steps[0].text == "from a file url"
    refused = await library().load(group(url=(tmp_path / "shadow").as_uri()))
    assert refused.runbook is None
    assert refused.error.startswith(f"runbook_url {(tmp_path / 'shadow').as_uri()} is not a")
    other = await library().load(group(url="ftp://example.com/rb.md"))
    assert other.error == "runbook_url ftp://example.com/rb.md is not an http(s) or file:// URL"


async def test_offline_libraries_never_fetch(server: RunbookServer) -> None:
    server.pages["/rb.md"] = Page(b"- [ ] x\n")
    offline = RunbookLibrary(RunbooksConfig(fetch_urls=False))
    result = await offline.load(group(url=server.url + "/rb.md"))
    assert result.error.startswith("fetching runbook URLs is off ([runbooks] fetch_urls)")
    assert server.requests == []


def test_hostile_content_is_inert() -> None:
    text = (
        "# \x1b]8;;http://evil\x07title\x1b[31m\n"
        "- [ ] \u202eevil\u202c step\x00\r\n"
        "<script>alert(1)</script>\n"
    )
    runbook = build_runbook("X", "src", "key", text.encode(), 65536)
    assert "\x1b" not in runbook.markdown and "\x07" not in runbook.markdown
    assert "\u202e" not in runbook.markdown and "\r" not in runbook.markdown
    assert "\\x1b]8;;http://evil" in runbook.markdown  # shown, inert
    assert runbook.steps[0].text == "<U+202E>evil<U+202C> step\\x00"
    # HTML stays text for the renderer to show literally (the screen turns HTML off)
    assert "<script>alert(1)</script>" in runbook.markdown


async def test_checking_a_step_writes_one_timeline_event() -> None:
    clock = FrozenClock()
    store = SQLiteStore(":memory:")
    actions = Actions(store=store, identity=Identity("alice"), clock=clock, live=LiveState())
    runbook = build_runbook("KycVendorTimeouts", "src", "identity/vendor.md", VENDOR, 65536)
    first, second = runbook.steps[:2]
    # on the shift log while no incident is open
    result = await actions.runbook_step(runbook, first)
    assert result.ok and result.details["recorded"] is True
    again = await actions.runbook_step(runbook, first)
    assert again.ok and again.details["recorded"] is False
    assert again.message.startswith("already done at ")
    events = [e for e in store.timeline(None) if e.kind is EventKind.RUNBOOK_STEP]
    assert [e.summary for e in events] == ["runbook step: Check the vendor's status page"]
    assert events[0].details["runbook"] == "identity/vendor.md"
    assert events[0].actor == "alice"
    # an incident starts: steps done there are its own
    await actions.declare("KYC vendor down", Severity.SEV2)
    assert set(actions.runbook_steps_done(runbook)) == {first.text}  # adopted with the log
    await actions.runbook_step(runbook, second)
    assert set(actions.runbook_steps_done(runbook)) == {first.text, second.text}
    await actions.set_status(IncidentStatus.RESOLVED)
    assert actions.runbook_steps_done(runbook) == {}  # the next shift starts fresh
    # read-only: nothing recorded
    actions.read_only = True
    refused = await actions.runbook_step(runbook, second)
    assert not refused.ok and "read-only" in refused.message


def test_doctor_checks_the_runbook_settings(tmp_path: Path) -> None:
    from cockpit.config import parse_config
    from cockpit.doctor import OK, SKIP, WARN, check_runbooks

    def check(runbooks: dict[str, object]) -> tuple[str, str]:
        found = check_runbooks(parse_config({"runbooks": runbooks} if runbooks else {}))
        assert not found.required  # a runbook problem never fails the doctor
        return found.verdict, found.detail

    assert check({})[0] == SKIP
    assert check({"directory": str(tmp_path / "nope")}) == (
        WARN,
        f"directory {tmp_path / 'nope'} does not exist",
    )
    (tmp_path / "A.md").write_text("- [ ] x\n")
    assert check({"directory": str(tmp_path), "alerts": {"B": "b.md"}}) == (
        WARN,
        f"missing: B -> {tmp_path / 'b.md'}",
    )
    assert check({"directory": str(tmp_path), "alerts": {"B": "A.md"}}) == (
        OK,
        f"1 in {tmp_path}, 1 mapped by [runbooks.alerts]",
    )
