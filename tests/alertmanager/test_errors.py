"""Broken servers give one clear line, never a traceback or a raw body."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cockpit.backends.alertmanager import AlertmanagerSource
from cockpit.backends.base import AuthError, BackendError, BadResponse, NotFound, Unreachable
from cockpit.clock import SystemClock
from cockpit.domain import AlertGroup
from tests.alertmanager.conftest import config_for
from tests.alertmanager.helpers import bad_server

LONG = ("x" * 500 + "\nTraceback (most recent call last):\n  secret stuff").encode()


async def failure(url: str, timeout: float = 2.0) -> BackendError:
    src = AlertmanagerSource(config_for(("", (url,)), timeout=timeout), clock=SystemClock())
    try:
        with pytest.raises(BackendError) as err:
            await src.groups()
        health = await src.health()
        assert not health.ok and health.detail.startswith(f"alertmanager {url}: ")
        return err.value
    finally:
        await src.close()


def assert_one_line(exc: BackendError) -> str:
    text = str(exc)
    assert "\n" not in text and "Traceback" not in text and len(text) < 250, text
    return text


@pytest.mark.parametrize(
    ("status", "body", "ctype", "kind", "expected"),
    [
        (
            500,
            b'"boom"',
            "application/json",
            BadResponse,
            "HTTP 500 Internal Server Error from /api/v2/alerts/groups: boom",
        ),
        (503, LONG, "text/plain", BadResponse, "HTTP 503 Service Unavailable from /api/v2/"),
        (
            502,
            b"<html><body><h1>Bad gateway</h1></body></html>",
            "text/html",
            BadResponse,
            "HTTP 502 Bad Gateway from /api/v2/",
        ),
        (401, b"Unauthorized", "text/plain", AuthError, "HTTP 401 Unauthorized"),
        (404, b"404 page not found", "text/plain", NotFound, "HTTP 404 Not Found"),
        (200, b"{not json", "application/json", BadResponse, "malformed JSON from /api/v2/"),
        (
            200,
            b'{"groups": []}',
            "application/json",
            BadResponse,
            "unexpected answer: groups is not a list",
        ),
    ],
)
async def test_bad_answers_become_one_clear_line(
    status: int, body: bytes, ctype: str, kind: type[BackendError], expected: str
) -> None:
    with bad_server(status, body, ctype) as url:
        exc = await failure(url)
    assert type(exc) is kind
    text = assert_one_line(exc)
    assert text.startswith(f"alertmanager {url}: ")
    assert expected in text
    assert "<html>" not in text and "secret" not in text


async def test_alert_with_a_wrong_shape_names_the_field() -> None:
    body = b'[{"labels": {"alertname": "X"}, "receiver": {"name": "r"}, "alerts": [{"labels": 3}]}]'
    with bad_server(200, body) as url:
        exc = await failure(url)
    assert isinstance(exc, BadResponse)
    assert "unexpected answer: groups[0].alerts[0].labels is not an object" in str(exc)


async def test_a_server_that_never_answers_times_out() -> None:
    with bad_server(200, b"[]", delay=3) as url:
        exc = await failure(url, timeout=0.5)
    assert isinstance(exc, Unreachable)
    assert str(exc) == f"alertmanager {url}: no answer within 0.5s"


async def test_ack_on_a_broken_server_raises_cleanly() -> None:
    with bad_server(500, b'"internal"') as url:
        src = AlertmanagerSource(config_for(("", (url,))), clock=SystemClock())
        group = AlertGroup(key="k", labels={"alertname": "X"}, alerts=())
        try:
            with pytest.raises(BadResponse, match=r"HTTP 500 .* from /api/v2/silences: internal$"):
                await src.ack(group, duration=timedelta(minutes=5), author="a", comment="c")
        finally:
            await src.close()
