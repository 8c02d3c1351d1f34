"""`cockpit doctor` against the live RabbitMQ and a live Alertmanager, and against dead ports."""

from __future__ import annotations

import asyncio
import io
import os
import time
from pathlib import Path
from typing import Any

import pytest

from cockpit.config import load_config
from cockpit.doctor import config_permission_warning, doctor_main
from cockpit.secrets import SecretResolver

from .conftest import RABBIT, HangingKeyring, free_port, write_config

pytestmark = pytest.mark.server

TERM = {"TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}


def doctor(config_text: str, tmp_path: Path, env: dict[str, str]) -> tuple[int, str, float]:
    path = write_config(tmp_path / "config.toml", config_text)
    config = load_config(path)
    out = io.StringIO()
    started = time.monotonic()
    rc = doctor_main(
        config, resolver=SecretResolver(env=env, prompt=False), out=out, env={**TERM, **env}
    )
    return rc, out.getvalue(), time.monotonic() - started


def row(output: str, check: str) -> str:
    """The table row whose CHECK column is exactly `check`."""
    for line in output.splitlines():
        if line.startswith(check + "  "):
            return line
    raise AssertionError(f"no row {check!r} in:\n{output}")


def verdict(output: str, check: str) -> str:
    return row(output, check)[len(check) :].split()[0]


@pytest.fixture(autouse=True)
def _columns(monkeypatch: pytest.MonkeyPatch) -> None:
    # shutil.get_terminal_size reads COLUMNS/LINES from the process environment
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("LINES", "40")


def test_all_live_backends_pass(
    tmp_path: Path, alertmanager_url: str, rabbit_user: dict[str, Any], memory_keyring: object
) -> None:
    config = f"""
[alertmanager]
url = "{alertmanager_url}"
[rabbitmq]
management_url = "{RABBIT}"
amqp_url = "amqp://127.0.0.1:5672/"
username = "{rabbit_user["name"]}"
password_secret = "rmq-live"
vhost = "/"
[statuspage]
kind = "static"
directory = "{tmp_path / "status"}"
"""
    env = {"COCKPIT_SECRET_RMQ_LIVE": rabbit_user["password"]}
    rc, out, elapsed = doctor(config, tmp_path, env)
    assert rc == 0, out
    assert verdict(out, "alertmanager") == "ok"
    assert "Alertmanager 0." in row(out, "alertmanager")
    assert "cluster disabled" in row(out, "alertmanager")
    assert verdict(out, "rabbitmq management") == "ok"
    assert f"user {rabbit_user['name']} authenticated" in row(out, "rabbitmq management")
    assert "RabbitMQ 3." in row(out, "rabbitmq management")
    assert verdict(out, "rabbitmq alarms") == "ok"
    assert verdict(out, "rabbitmq vhost") == "ok"
    assert verdict(out, "rabbitmq amqp") == "ok"
    assert verdict(out, "secret rmq-live") == "ok"
    assert "env var COCKPIT_SECRET_RMQ_LIVE" in row(out, "secret rmq-live")
    assert verdict(out, "status page") == "ok"
    assert verdict(out, "pager") == "ok"
    assert verdict(out, "kubernetes") == "skip"
    assert verdict(out, "keyring") == "ok"
    assert "256 colours" in row(out, "terminal")
    # the password was used (authenticated) but never printed
    assert rabbit_user["password"] not in out
    assert elapsed < 10


def test_refused_password_and_missing_vhost_fail(
    tmp_path: Path, rabbit_user: dict[str, Any]
) -> None:
    config = f"""
[rabbitmq]
management_url = "{RABBIT}"
username = "{rabbit_user["name"]}"
password_secret = "rmq-wrong"
"""
    rc, out, _ = doctor(config, tmp_path, {"COCKPIT_SECRET_RMQ_WRONG": "not-the-password"})
    assert rc == 1
    assert verdict(out, "rabbitmq management") == "FAIL"
    assert f"authentication refused for user {rabbit_user['name']}" in out
    assert "not-the-password" not in out

    config_vhost = config.replace('password_secret = "rmq-wrong"', 'password_secret = "rmq-ok"')
    config_vhost += 'vhost = "no-such-vhost-here"\n'
    rc, out, _ = doctor(config_vhost, tmp_path, {"COCKPIT_SECRET_RMQ_OK": rabbit_user["password"]})
    assert rc == 1
    assert verdict(out, "rabbitmq management") == "ok"
    assert verdict(out, "rabbitmq vhost") == "FAIL"


def test_closed_ports_fail_fast(tmp_path: Path) -> None:
    am, mgmt, amqp = free_port(), free_port(), free_port()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        f"""
apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "https://127.0.0.1:{free_port()}"}}}}]
users: [{{name: u, user: {{token: abc}}}}]
contexts: [{{name: dead, context: {{cluster: c, user: u}}}}]
current-context: dead
"""
    )
    config = f"""
[alertmanager]
urls = ["http://127.0.0.1:{am}"]
[rabbitmq]
management_url = "http://127.0.0.1:{mgmt}"
amqp_url = "amqp://127.0.0.1:{amqp}/"
password_secret = "rmq"
[kubernetes]
kubeconfig = "{kubeconfig}"
context = "dead"
"""
    rc, out, elapsed = doctor(config, tmp_path, {"COCKPIT_SECRET_RMQ": "whatever-pw"})
    assert rc == 1
    assert elapsed < 8, elapsed
    assert verdict(out, "alertmanager") == "FAIL" and "unreachable" in row(out, "alertmanager")
    assert verdict(out, "rabbitmq management") == "FAIL"
    assert "unreachable" in row(out, "rabbitmq management")
    assert verdict(out, "rabbitmq amqp") == "FAIL"
    assert verdict(out, "kubernetes") == "FAIL" and "unreachable" in row(out, "kubernetes")
    assert "Traceback" not in out
    assert "whatever-pw" not in out


def test_missing_secrets_fail_and_warnings_do_not(
    tmp_path: Path, fail_keyring: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setenv("LINES", "20")
    config = """
[statuspage]
kind = "statuspage"
page_id = "p1"
api_key_secret = "sp-key"
"""
    rc, out, _ = doctor(config, tmp_path, {})
    assert rc == 1
    assert verdict(out, "secret sp-key") == "FAIL"
    assert "COCKPIT_SECRET_SP_KEY" in row(out, "secret sp-key")
    assert verdict(out, "status page") == "FAIL"
    assert verdict(out, "keyring") == "WARN" and "no keyring backend" in row(out, "keyring")

    # the same host with the key in the env: only warnings remain, exit 0
    rc, out, _ = doctor(config, tmp_path, {"COCKPIT_SECRET_SP_KEY": "sp-planted-key-123"})
    assert rc == 0, out
    assert verdict(out, "terminal size") == "WARN" and "80x24" in row(out, "terminal size")
    assert verdict(out, "keyring") == "WARN"
    assert "sp-planted-key-123" not in out


def test_pagerduty_team_without_routing_key_fails(tmp_path: Path, memory_keyring: object) -> None:
    config = """
[pager]
kind = "pagerduty"
[pager.teams]
payments = "pd-payments"
platform = "pd-platform"
"""
    rc, out, _ = doctor(config, tmp_path, {"COCKPIT_SECRET_PD_PAYMENTS": "routing-key-1"})
    assert rc == 1
    assert verdict(out, "pager") == "FAIL" and "platform" in row(out, "pager")
    assert verdict(out, "secret pd-payments") == "ok"
    assert verdict(out, "secret pd-platform") == "FAIL"


def test_hanging_keyring_does_not_hang_doctor(
    tmp_path: Path, hanging_keyring: HangingKeyring
) -> None:
    config = """
[statuspage]
kind = "statuspage"
page_id = "p1"
api_key_secret = "sp-key"
"""
    path = write_config(tmp_path / "config.toml", config)
    out = io.StringIO()
    started = time.monotonic()
    rc = doctor_main(
        load_config(path),
        resolver=SecretResolver(env={}, keyring_timeout=0.5, prompt=False),
        out=out,
        env=TERM,
    )
    assert time.monotonic() - started < 4
    assert rc == 1
    text = out.getvalue()
    assert "did not answer within 0.5 s" in row(text, "keyring")


def test_terminal_colour_depth_and_no_color(tmp_path: Path) -> None:
    path = write_config(tmp_path / "config.toml", "")
    config = load_config(path)
    cases = {
        "xterm-256color": "256 colours",
        "xterm": "16 or 8 colours",
    }
    for term, expected in cases.items():
        out = io.StringIO()
        assert doctor_main(config, out=out, env={"TERM": term}) == 0
        assert expected in row(out.getvalue(), "terminal")
        assert "not set" in row(out.getvalue(), "NO_COLOR")
    out = io.StringIO()
    rc = doctor_main(
        config, out=out, env={"TERM": "tmux", "COLORTERM": "truecolor", "NO_COLOR": "1"}
    )
    assert rc == 0
    assert "24-bit" in row(out.getvalue(), "terminal")
    assert "set" in row(out.getvalue(), "NO_COLOR")
    out = io.StringIO()
    assert doctor_main(config, out=out, env={"TERM": "dumb"}) == 0  # a warning only
    assert verdict(out.getvalue(), "terminal") == "WARN"


def test_permission_warning_for_a_readable_config_naming_secrets(tmp_path: Path) -> None:
    text = '[rabbitmq]\nmanagement_url = "http://127.0.0.1:1"\npassword_secret = "rmq"\n'
    path = write_config(tmp_path / "config.toml", text, 0o644)
    warning = config_permission_warning(load_config(path))
    assert warning is not None
    assert "readable by group/others (mode 0644)" in warning
    assert f"chmod 600 {path}" in warning

    path.chmod(0o600)
    assert config_permission_warning(load_config(path)) is None
    # no secrets named: readable is fine; writable by others never is
    plain = write_config(tmp_path / "plain.toml", "[ui]\nbell = false\n", 0o644)
    assert config_permission_warning(load_config(plain)) is None
    plain.chmod(0o666)
    assert "writable by group/others" in str(config_permission_warning(load_config(plain)))

    # doctor shows it as a warning; it does not fail on it
    path.chmod(0o644)
    out = io.StringIO()
    env = {"COCKPIT_SECRET_RMQ": "x"} | TERM
    doctor_main(load_config(path), out=out, env=env)
    assert verdict(out.getvalue(), "config file") == "WARN"


async def test_kubernetes_emulator_passes(tmp_path: Path) -> None:
    import kmock

    async with kmock.KubernetesEmulator() as emulator, kmock.Server(emulator):
        server = str(emulator.url).rstrip("/")
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(
            f"""
apiVersion: v1
kind: Config
clusters: [{{name: emu, cluster: {{server: "{server}"}}}}]
users: [{{name: u, user: {{token: abc}}}}]
contexts: [{{name: emu, context: {{cluster: emu, user: u}}}}]
current-context: emu
"""
        )
        config = f'[kubernetes]\nkubeconfig = "{kubeconfig}"\nnamespaces = ["payments"]\n'
        # doctor is synchronous: run it off the loop that serves the emulator
        rc, out, _ = await asyncio.to_thread(doctor, config, tmp_path, {})
    assert rc == 0, out
    assert verdict(out, "kubernetes") == "ok"
    assert "v1." in row(out, "kubernetes") and "watching payments" in row(out, "kubernetes")

    # a context the kubeconfig does not have is a clear failure
    bad = f'[kubernetes]\nkubeconfig = "{kubeconfig}"\ncontext = "nope"\n'
    rc, out, _ = doctor(bad, tmp_path, {})
    assert rc == 1 and verdict(out, "kubernetes") == "FAIL"
    assert "nope" in row(out, "kubernetes")


def test_rabbitmq_without_password_secret_says_so(tmp_path: Path) -> None:
    config = f'[rabbitmq]\nmanagement_url = "{RABBIT}"\n'
    rc, out, _ = doctor(config, tmp_path, {})
    assert rc == 1
    assert "authentication refused for user guest (no rabbitmq.password_secret set)" in out


def test_rabbitmq_user_without_management_access_is_named(tmp_path: Path) -> None:
    import httpx

    name, password = f"cockpit-safety-notag-{os.getpid()}", "pw-notag-" + os.urandom(6).hex()
    with httpx.Client(base_url=f"{RABBIT}/api", auth=("guest", "guest"), timeout=10) as admin:
        assert admin.put(f"/users/{name}", json={"password": password, "tags": ""}).is_success
        try:
            config = (
                f'[rabbitmq]\nmanagement_url = "{RABBIT}"\nusername = "{name}"\n'
                'password_secret = "notag"\n'
            )
            rc, out, _ = doctor(config, tmp_path, {"COCKPIT_SECRET_NOTAG": password})
        finally:
            admin.delete(f"/users/{name}")
    assert rc == 1
    assert f"user {name} may not use the management API" in row(out, "rabbitmq management")
    assert password not in out
