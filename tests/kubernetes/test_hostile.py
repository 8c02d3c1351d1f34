"""Issue 10 on Kubernetes: an API server that accepts and never answers, or a watch that goes
silent past the end its server promised, is reported (STALE), never taken for "pods ok"."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from cockpit.backends import http as bounded
from cockpit.backends.base import BackendError, BadResponse, Unreachable
from cockpit.backends.kubernetes import KubernetesCluster
from cockpit.clock import FrozenClock
from cockpit.config import KubernetesConfig
from cockpit.domain import PodEventType
from tests.hostile import TALLY
from tests.kubernetes.conftest import raw_pod, write_kubeconfig


@contextmanager
def api_server(watch: str, list_body: bytes | None = None) -> Iterator[str]:
    """Lists answer a PodList; a watch either never answers ("silent") or sends its headers
    and then nothing ("quiet")."""
    stop = threading.Event()
    body = (
        list_body
        or json.dumps(
            {"kind": "PodList", "metadata": {"resourceVersion": "7"}, "items": [raw_pod("web-1")]}
        ).encode()
    )

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if "watch=" in self.path or "follow=" in self.path:
                if watch == "quiet":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    self.wfile.flush()
                stop.wait(30)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def make_cluster(tmp_path: Path, url: str, clock: FrozenClock, watch_timeout: float) -> Any:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", url)
    config = KubernetesConfig(
        kubeconfig=str(kubeconfig), namespaces=("shop",), timeout=timedelta(seconds=1)
    )
    return KubernetesCluster(config, clock=clock, watch_timeout=watch_timeout)


async def first_error(cluster: KubernetesCluster) -> tuple[BackendError, float]:
    stream = cluster.watch()
    sync = await anext(stream)
    assert sync.type is PodEventType.SYNC and len(sync.pods) == 1
    start = time.monotonic()
    with pytest.raises(BackendError) as err:  # not TimeoutError: the old code waited for ever
        await asyncio.wait_for(anext(stream), 10)
    return err.value, time.monotonic() - start


@pytest.mark.parametrize(
    ("mode", "expected", "within"),
    [("silent", "cluster unreachable", 4.0), ("quiet", "silent for 2s", 5.0)],
)
async def test_a_watch_that_never_answers_is_reported_within_its_deadline(
    tmp_path: Path, clock: FrozenClock, mode: str, expected: str, within: float
) -> None:
    with api_server(mode) as url:
        cluster = make_cluster(tmp_path, url, clock, watch_timeout=1.0)
        try:
            error, took = await first_error(cluster)
        finally:
            await cluster.close()
    assert isinstance(error, Unreachable)
    assert expected in str(error) and "\n" not in str(error)
    assert took < within, f"{mode}: reported after {took:.1f}s"
    TALLY["faults survived"] += 1


async def test_a_pod_list_past_the_size_limit_is_refused(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(bounded._defaults, "max_bytes", 64 * 1024)
    items = [raw_pod(f"web-{i}") for i in range(200)]
    big = json.dumps({"kind": "PodList", "metadata": {}, "items": items}).encode()
    with api_server("silent", list_body=big) as url:
        cluster = make_cluster(tmp_path, url, clock, watch_timeout=1.0)
        try:
            with pytest.raises(BadResponse, match=r"limits\.max_response_mb"):
                await cluster.pods()
        finally:
            await cluster.close()


async def test_a_deep_pod_list_is_a_bad_response(tmp_path: Path, clock: FrozenClock) -> None:
    deep = b'{"items": [{"metadata": ' + b"[" * 50_000 + b"]" * 50_000 + b"}]}"
    with api_server("silent", list_body=deep) as url:
        cluster = make_cluster(tmp_path, url, clock, watch_timeout=1.0)
        try:
            with pytest.raises(BadResponse):
                await cluster.pods()
        finally:
            await cluster.close()


async def test_a_log_follow_that_never_answers_is_reported(
    tmp_path: Path, clock: FrozenClock
) -> None:
    with api_server("silent") as url:
        cluster = make_cluster(tmp_path, url, clock, watch_timeout=1.0)
        pod = (await cluster.pods())[0]
        start = time.monotonic()
        try:
            with pytest.raises(Unreachable):
                await asyncio.wait_for(anext(cluster.follow_logs(pod, "app")), 10)
        finally:
            await cluster.close()
    assert time.monotonic() - start < 4.0  # the timeout (1 s), not FOLLOW_IDLE (300 s)
    TALLY["faults survived"] += 1
