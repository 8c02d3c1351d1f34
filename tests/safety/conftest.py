"""Fixtures for secrets, audit and doctor: in-process keyring backends, a live Alertmanager,
a throwaway RabbitMQ user with a random password."""

from __future__ import annotations

import secrets as pysecrets
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import PasswordDeleteError

from cockpit import secrets

RABBIT = "http://127.0.0.1:15672"


class MemoryKeyring(KeyringBackend):
    """A real keyring backend that keeps its entries in a dict."""

    priority = -1  # type: ignore[assignment]  # never picked by keyring's own discovery

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.entries:
            raise PasswordDeleteError("not found")
        del self.entries[(service, username)]


class HangingKeyring(KeyringBackend):
    """A keyring that never answers (a locked wallet waiting for a D-Bus prompt)."""

    priority = -1  # type: ignore[assignment]  # never picked by keyring's own discovery

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.calls = 0

    def get_password(self, service: str, username: str) -> str | None:
        self.calls += 1
        self.release.wait(60)
        return "too-late-value"

    def set_password(self, service: str, username: str, password: str) -> None:
        self.release.wait(60)

    def delete_password(self, service: str, username: str) -> None:
        self.release.wait(60)


class BrokenKeyring(KeyringBackend):
    priority = -1  # type: ignore[assignment]  # never picked by keyring's own discovery

    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown")

    def delete_password(self, service: str, username: str) -> None:
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown")


@pytest.fixture(autouse=True)
def _isolate() -> Iterator[None]:
    """Each test starts with no keyring backend (whatever the host has) and no known secrets."""
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    secrets.forget_secrets()
    yield
    keyring.set_keyring(previous)
    secrets.forget_secrets()


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def fail_keyring() -> fail.Keyring:
    backend = fail.Keyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def hanging_keyring() -> Iterator[HangingKeyring]:
    backend = HangingKeyring()
    keyring.set_keyring(backend)
    yield backend
    backend.release.set()  # let the abandoned worker thread finish


@pytest.fixture
def broken_keyring() -> BrokenKeyring:
    backend = BrokenKeyring()
    keyring.set_keyring(backend)
    return backend


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def alertmanager_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Alertmanager on a free loopback port, clustering off; stopped afterwards."""
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if binary is None:
        pytest.fail("prometheus-alertmanager is not installed (tests/run.sh installs it)")
    base = tmp_path_factory.mktemp("alertmanager")
    config = base / "alertmanager.yml"
    config.write_text("route:\n  receiver: default\nreceivers:\n  - name: default\n")
    port = free_port()
    log = (base / "alertmanager.log").open("w")
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.path={base / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"alertmanager exited: {(base / 'alertmanager.log').read_text()}")
            try:
                if httpx.get(f"{url}/api/v2/status", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("alertmanager did not start within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


@pytest.fixture
def rabbit_user() -> Iterator[dict[str, Any]]:
    """A RabbitMQ user with a random password (monitoring tag, rights on '/'), deleted after."""
    name = f"cockpit-safety-{pysecrets.token_hex(4)}"
    password = "pw-" + pysecrets.token_urlsafe(18)
    admin = httpx.Client(base_url=f"{RABBIT}/api", auth=("guest", "guest"), timeout=10)
    response = admin.put(f"/users/{name}", json={"password": password, "tags": "monitoring"})
    assert response.status_code in (201, 204), response.text
    response = admin.put(
        f"/permissions/%2F/{name}", json={"configure": ".*", "write": ".*", "read": ".*"}
    )
    assert response.status_code in (201, 204), response.text
    try:
        yield {"name": name, "password": password}
    finally:
        admin.delete(f"/users/{name}")
        admin.close()


def write_config(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path
