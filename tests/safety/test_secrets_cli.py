"""`cockpit secrets set|get|delete|list` against a real (in-memory) keyring backend."""

from __future__ import annotations

import io
import tomllib

from cockpit.config import Config, parse_config
from cockpit.secrets import secrets_main

from .conftest import MemoryKeyring

CONFIG = """
[alertmanager]
url = "http://127.0.0.1:9093"
[rabbitmq]
management_url = "http://127.0.0.1:15672"
password_secret = "rabbitmq-prod"
[pager]
kind = "pagerduty"
[pager.teams]
payments = "pd-payments"
platform = "pd-platform"
"""


def config() -> Config:
    return parse_config(tomllib.loads(CONFIG), env=None)


def run(
    argv: list[str], *, stdin: str = "", env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = secrets_main(argv, config(), env=env or {}, stdin=io.StringIO(stdin), out=out, err=err)
    return rc, out.getvalue(), err.getvalue()


def test_set_reads_the_value_from_stdin(memory_keyring: MemoryKeyring) -> None:
    rc, out, err = run(["set", "rabbitmq-prod"], stdin="piped-value-123\n")
    assert rc == 0, err
    assert memory_keyring.entries[("cockpit", "rabbitmq-prod")] == "piped-value-123"
    assert "stored rabbitmq-prod" in out
    assert "piped-value-123" not in out + err


def test_set_refuses_a_value_on_the_command_line(memory_keyring: MemoryKeyring) -> None:
    rc, out, err = run(["set", "rabbitmq-prod", "argv-value-999"])
    assert rc == 2
    assert "refusing to take a secret value from the command line" in err
    assert "argv-value-999" not in out + err
    assert memory_keyring.entries == {}


def test_set_empty_value_stores_nothing(memory_keyring: MemoryKeyring) -> None:
    rc, _, err = run(["set", "rabbitmq-prod"], stdin="\n")
    assert rc == 1 and "empty value" in err
    assert memory_keyring.entries == {}


def test_set_warns_about_names_the_config_does_not_use_and_env_precedence(
    memory_keyring: MemoryKeyring,
) -> None:
    rc, _, err = run(
        ["set", "typo-name"], stdin="value-abcd", env={"COCKPIT_SECRET_TYPO_NAME": "x-env-x"}
    )
    assert rc == 0
    assert "does not refer to 'typo-name'" in err
    assert "COCKPIT_SECRET_TYPO_NAME is set and takes precedence" in err


def test_set_without_keyring_backend_says_what_to_do(fail_keyring: object) -> None:
    rc, out, err = run(["set", "rabbitmq-prod"], stdin="value-abcd")
    assert rc == 1
    assert "no keyring backend on this host" in err
    assert "COCKPIT_SECRET_RABBITMQ_PROD" in err
    assert "Traceback" not in err and "value-abcd" not in out + err


def test_get_says_where_and_shows_the_value_only_with_show(
    memory_keyring: MemoryKeyring,
) -> None:
    memory_keyring.entries[("cockpit", "rabbitmq-prod")] = "kr-value-777"
    rc, out, err = run(["get", "rabbitmq-prod"])
    assert rc == 0
    assert "found in OS keyring" in out
    assert "kr-value-777" not in out + err
    rc, out, err = run(["get", "rabbitmq-prod", "--show"])
    assert rc == 0
    assert out.strip() == "kr-value-777"  # bare value on stdout, for $(...)
    assert "found in OS keyring" in err

    rc, out, _ = run(["get", "pd-payments"], env={"COCKPIT_SECRET_PD_PAYMENTS": "env-val-1"})
    assert rc == 0 and "env var COCKPIT_SECRET_PD_PAYMENTS" in out and "env-val-1" not in out

    rc, out, err = run(["get", "nowhere"])
    assert rc == 1 and "not found" in err and "cockpit secrets set nowhere" in err


def test_delete_removes_from_keyring(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.entries[("cockpit", "rabbitmq-prod")] = "kr-value-777"
    rc, out, _ = run(["delete", "rabbitmq-prod"])
    assert rc == 0 and "deleted rabbitmq-prod" in out
    assert memory_keyring.entries == {}
    rc, out, _ = run(["delete", "rabbitmq-prod"])
    assert rc == 1 and "was not in the OS keyring" in out


def test_list_shows_every_name_and_source_without_values(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.entries[("cockpit", "rabbitmq-prod")] = "kr-value-777"
    rc, out, err = run(["list"], env={"COCKPIT_SECRET_PD_PAYMENTS": "env-val-12"})
    assert rc == 0, err
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert "rabbitmq.password_secret" in lines["rabbitmq-prod"]
    assert lines["rabbitmq-prod"].endswith("OS keyring")
    assert lines["pd-payments"].endswith("env var COCKPIT_SECRET_PD_PAYMENTS")
    assert "pager.teams.platform" in lines["pd-platform"]
    assert lines["pd-platform"].endswith("MISSING")
    assert "kr-value-777" not in out + err and "env-val-12" not in out + err


def test_misuse_is_a_message_not_a_traceback() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert secrets_main(["frobnicate"], None, env={}, out=out, err=err) == 2
    assert "invalid choice" in err.getvalue()
    assert secrets_main(["list"], None, env={}, out=out, err=err) == 1
    assert "no config file" in err.getvalue()
