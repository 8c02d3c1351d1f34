"""Secret resolution order, keyring failure modes, redaction and the log filter."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cockpit.secrets import (
    SecretError,
    SecretResolver,
    env_var_name,
    install_log_filter,
    keyring_status,
    redact,
    register_secret,
)

from .conftest import HangingKeyring, MemoryKeyring


def test_env_var_name_is_upper_case_with_underscores() -> None:
    assert env_var_name("rabbitmq-prod.eu") == "COCKPIT_SECRET_RABBITMQ_PROD_EU"
    assert env_var_name("pd key/2") == "COCKPIT_SECRET_PD_KEY_2"


def test_env_var_wins_over_keyring(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.entries[("cockpit", "rabbitmq-prod")] = "from-the-keyring"
    env = {"COCKPIT_SECRET_RABBITMQ_PROD": "from-the-env"}
    found = SecretResolver(env=env, prompt=False).resolve("rabbitmq-prod")
    assert (found.value, found.source) == ("from-the-env", "env")


def test_keyring_used_when_env_var_absent(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.entries[("cockpit", "rabbitmq-prod")] = "from-the-keyring"
    found = SecretResolver(env={}, prompt=False).resolve("rabbitmq-prod")
    assert (found.value, found.source) == ("from-the-keyring", "keyring")
    # another service's entry with the same name is not ours
    memory_keyring.entries[("other-app", "api")] = "not-ours"
    assert SecretResolver(env={}, prompt=False).lookup("api") is None


def test_prompt_is_last_and_only_when_allowed_on_a_tty(memory_keyring: MemoryKeyring) -> None:
    asked: list[str] = []

    def fake_getpass(prompt: str) -> str:
        asked.append(prompt)
        return "typed-secret"

    tty = SecretResolver(env={}, prompt=True, prompt_fn=fake_getpass, stdin_isatty=lambda: True)
    found = tty.resolve("pd-key")
    assert (found.value, found.source) == ("typed-secret", "prompt")
    assert len(asked) == 1 and "pd-key" in asked[0]

    # keyring has it: no prompt
    memory_keyring.entries[("cockpit", "other")] = "in-keyring"
    assert tty.resolve("other").source == "keyring"
    assert len(asked) == 1

    # prompt not allowed (the screen is running), or stdin is not a terminal: a clear error
    for resolver in (
        SecretResolver(env={}, prompt=False, prompt_fn=fake_getpass, stdin_isatty=lambda: True),
        SecretResolver(env={}, prompt=True, prompt_fn=fake_getpass, stdin_isatty=lambda: False),
    ):
        with pytest.raises(SecretError) as err:
            resolver.resolve("missing-one")
        assert "COCKPIT_SECRET_MISSING_ONE" in str(err.value)
        assert "cockpit secrets set missing-one" in str(err.value)
    assert len(asked) == 1


def test_no_keyring_backend_gives_the_hint(fail_keyring: object) -> None:
    resolver = SecretResolver(env={}, prompt=False)
    assert resolver.lookup("rabbitmq-prod") is None
    with pytest.raises(SecretError) as err:
        resolver.resolve("rabbitmq-prod")
    message = str(err.value)
    assert "no keyring backend on this host" in message
    assert "COCKPIT_SECRET_RABBITMQ_PROD" in message
    assert "keyrings.alt" in message
    assert "\n" not in message and "Traceback" not in message
    usable, detail = keyring_status()
    assert not usable and "no keyring backend" in detail
    # env vars still work on such a host
    assert SecretResolver(env={"COCKPIT_SECRET_X": "abcd"}, prompt=False).resolve("x").value


def test_broken_keyring_is_one_line(broken_keyring: object) -> None:
    with pytest.raises(SecretError) as err:
        SecretResolver(env={}, prompt=False).resolve("x")
    assert "the OS keyring failed" in str(err.value)
    assert "ServiceUnknown" in str(err.value)
    assert "\n" not in str(err.value)


def test_hanging_keyring_times_out_once_with_the_hint(hanging_keyring: HangingKeyring) -> None:
    resolver = SecretResolver(
        env={"COCKPIT_SECRET_C": "from-env"}, keyring_timeout=0.5, prompt=False
    )
    started = time.monotonic()
    with pytest.raises(SecretError) as err:
        resolver.resolve_all(["a", "b", "c"])
    elapsed = time.monotonic() - started
    # one timeout, not one per name
    assert elapsed < 1.5, elapsed
    assert hanging_keyring.calls == 1
    message = str(err.value)
    assert "did not answer within 0.5 s" in message
    assert "'a'" in message and "'b'" in message and "'c'" not in message
    assert resolver.lookup("c") is not None  # env vars still resolve


def test_process_with_hung_keyring_still_exits(tmp_path: Path) -> None:
    """The worker thread is a daemon: a hung keyring cannot keep the cockpit from exiting."""
    script = textwrap.dedent(
        """
        import threading, keyring
        from keyring.backend import KeyringBackend
        from cockpit.secrets import SecretResolver, SecretError

        class Hang(KeyringBackend):
            priority = 1
            def get_password(self, s, u): threading.Event().wait(600)
            def set_password(self, s, u, p): pass
            def delete_password(self, s, u): pass

        keyring.set_keyring(Hang())
        try:
            SecretResolver(env={}, keyring_timeout=0.5, prompt=False).resolve("x")
        except SecretError as exc:
            print("ERR", exc)
        """
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "did not answer within 0.5 s" in done.stdout
    assert time.monotonic() - started < 20


def test_resolved_repr_never_shows_the_value() -> None:
    found = SecretResolver(env={"COCKPIT_SECRET_K": "hunter2-long"}, prompt=False).resolve("k")
    assert "hunter2-long" not in repr(found)
    assert "hunter2-long" not in str(found)
    assert "hunter2-long" not in f"{found!r} {[found]}"


def test_redact_hides_resolved_values_but_not_short_ones() -> None:
    SecretResolver(env={"COCKPIT_SECRET_K": "s3cr3t-value"}, prompt=False).resolve("k")
    register_secret("abc")  # too short: would blank out ordinary words
    text = redact("login failed for s3cr3t-value (abc) s3cr3t-values")
    assert text == "login failed for ••• (abc) •••s"


def test_log_filter_redacts_message_args_and_tracebacks() -> None:
    value = "planted-" + os.urandom(6).hex()
    SecretResolver(env={"COCKPIT_SECRET_RMQ": value}, prompt=False).resolve("rmq")
    stream = io.StringIO()
    logger = logging.getLogger("cockpit.test.safety")
    logger.propagate = False
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.addHandler(handler)
    child = logging.getLogger("cockpit.test.safety.child")  # propagates to the handler
    try:
        install_log_filter(logger)
        logger.warning("connecting with password %s", value)
        child.error(f"url amqp://u:{value}@host/")
        try:
            raise RuntimeError(f"auth failed for {value}")
        except RuntimeError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert value not in output
    assert "connecting with password •••" in output
    assert "amqp://u:•••@host/" in output
    assert "RuntimeError: auth failed for •••" in output
