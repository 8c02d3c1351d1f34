"""The example config stays valid, for every environment and every commented alternative."""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta

import pytest

from cockpit.config import parse_config
from cockpit.config_example import EXAMPLE_CONFIG


def test_both_environments_parse() -> None:
    data = tomllib.loads(EXAMPLE_CONFIG)
    assert set(data["env"]) == {"prod", "staging"}
    prod = parse_config(data, env="prod")
    staging = parse_config(data, env="staging")
    assert prod.is_prod and not staging.is_prod
    # environment sections override the shared defaults key by key
    assert prod.alertmanager is not None and staging.alertmanager is not None
    assert prod.alertmanager.ack_duration == timedelta(hours=2)
    assert staging.alertmanager.ack_duration == timedelta(minutes=30)
    assert prod.alertmanager.poll_interval == timedelta(seconds=10)  # shared default
    assert prod.rabbitmq is not None and staging.rabbitmq is not None
    assert prod.rabbitmq.password_secret != staging.rabbitmq.password_secret
    assert prod.rabbitmq.username == "cockpit" and staging.rabbitmq.username == "guest"
    assert len(prod.rabbitmq.thresholds) == 2
    assert prod.kubernetes is not None and prod.kubernetes.context == "prod-eu"
    assert prod.statuspage_configured and prod.statuspage.kind == "static"
    assert prod.pager is not None and prod.pager.kind == "alertmanager"
    # without --env the [environment] default applies, and it is not prod
    assert parse_config(data).env == "staging"


def _use_alternative(text: str, section: str) -> str:
    """Drop the active [section] block and uncomment the '# [section]' alternative."""
    active = re.compile(rf"^\[{re.escape(section)}\]\n(?:[^\n\[#][^\n]*\n|\n(?!#))*", re.M)
    text, removed = active.subn("", text, count=1)
    assert removed == 1, f"no active [{section}] block"
    alt = re.compile(rf"^# \[{re.escape(section)}\]\n(?:# [^\n]*\n)*", re.M)
    match = alt.search(text)
    assert match, f"no commented [{section}] alternative"
    block = "\n".join(line[2:] for line in match.group(0).splitlines()) + "\n"
    return text[: match.start()] + block + text[match.end() :]


@pytest.mark.parametrize("env", ["prod", "staging"])
def test_commented_alternatives_parse(env: str) -> None:
    statuspage_io = _use_alternative(EXAMPLE_CONFIG, "statuspage")
    config = parse_config(tomllib.loads(statuspage_io), env=env)
    assert config.statuspage.kind == "statuspage"
    assert config.statuspage.api_key_secret in config.secret_names()

    pagerduty = _use_alternative(EXAMPLE_CONFIG, "pager")
    config = parse_config(tomllib.loads(pagerduty), env=env)
    assert config.pager is not None and config.pager.kind == "pagerduty"
    assert set(config.pager.teams) == {"payments", "platform"}
    assert "pagerduty-payments" in config.secret_names()


def test_example_holds_no_secret_values() -> None:
    # the config names secrets; value-looking keys are rejected by the parser anyway
    assert not re.search(r"^\s*(password|api_key|token)\s*=", EXAMPLE_CONFIG, re.M)
