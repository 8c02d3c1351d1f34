"""Config validation: every mistake names the file, the key and the problem."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from cockpit.cli import main
from cockpit.config import ConfigError, load_config, parse_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("[alertmanager]\nurl = 42\n", "alertmanager.url", "expected a string"),
        (
            "[alertmanager]\nurl = 'http://am:9093'\nack_duration = 'soon'\n",
            "alertmanager.ack_duration",
            "duration",
        ),
        ("[alertmanager]\n", "alertmanager.url", "is required"),
        ("[rabbitmq]\nmanagement_url = 'ftp://x'\n", "rabbitmq.management_url", "http://"),
        (
            "[rabbitmq]\nmanagement_url = 'http://x'\npassword = 'hunter2'\n",
            "rabbitmq.password",
            "secret names",
        ),
        (
            "[rabbitmq]\nmanagement_url = 'http://x'\n"
            "[[rabbitmq.thresholds]]\npattern = 'o*'\nwarn = 10\ncrit = 5\n",
            "rabbitmq.thresholds[0].crit",
            "must be >= warn",
        ),
        ("[kubernetes]\nnamespace = 'x'\n", "kubernetes.namespace", "unknown key"),
        ("[statuspage]\nkind = 'statuspage'\n", "statuspage.page_id", "is required"),
        ("[pager]\nkind = 'alertmanager'\n", "pager.kind", "needs an [alertmanager]"),
        ("[alertmanagr]\nurl = 'http://x'\n", "alertmanagr", "unknown section"),
    ],
)
def test_bad_config_names_file_key_and_problem(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert error.value.key == key
    assert problem in error.value.problem
    assert str(path) in str(error.value)


def test_not_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[alertmanager\nurl=")
    with pytest.raises(ConfigError, match="not valid TOML") as error:
        load_config(path)
    assert str(path) in str(error.value)


def test_environment_overrides_shared_sections_and_names_its_keys(tmp_path: Path) -> None:
    text = """
[identity]
name = "alice"
[alertmanager]
url = "http://shared:9093"
ack_duration = "30m"
[env.prod.alertmanager]
url = "http://prod:9093"
[env.staging.rabbitmq]
management_url = "nope"
"""
    path = write(tmp_path, text)
    prod = load_config(path, env="prod")
    assert prod.env == "prod" and prod.is_prod
    assert prod.alertmanager is not None
    assert prod.alertmanager.clusters[0].urls == ("http://prod:9093",)
    assert prod.alertmanager.ack_duration == timedelta(minutes=30)
    assert prod.identity.name == "alice"
    with pytest.raises(ConfigError) as error:
        load_config(path, env="staging")
    assert error.value.key == "env.staging.rabbitmq.management_url"
    with pytest.raises(ConfigError, match="no such environment"):
        load_config(path, env="qa")


def test_defaults_when_sections_are_absent() -> None:
    config = parse_config({})
    assert config.alertmanager is None and config.kubernetes is None and config.rabbitmq is None
    assert config.pager is None
    assert config.statuspage.kind == "static"
    assert config.identity.name  # the login name


def test_cockpit_without_a_config_file_explains_and_suggests_the_demo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "no config file" in err
    assert "cockpit --demo" in err
    assert "cockpit config example" in err


def test_cockpit_with_a_bad_config_file_says_which_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "[alertmanager]\nurl = 'gopher://x'\n")
    assert main(["--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "alertmanager.url" in err and str(path) in err
    assert "Traceback" not in err
