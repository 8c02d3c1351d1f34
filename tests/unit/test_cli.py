"""The command line as its ecosystem has it: options before or after the subcommand,
--help on every subcommand, the subcommands listed in `cockpit --help`."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.cli import main
from cockpit.config import ConfigError, parse_config

SUBCOMMANDS = ["config", "secrets", "doctor", "postmortem", "report", "handover", "themes"]


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f"[store]\npath = '{tmp_path / 'missing.sqlite3'}'\n")
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ["--config", "{path}", "postmortem"],
        ["postmortem", "--config", "{path}"],
        ["postmortem", "INC-1", "--config", "{path}"],
    ],
)
def test_config_option_before_or_after_the_subcommand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    path = _config(tmp_path)
    assert main([a.format(path=path) for a in argv]) == 2
    err = capsys.readouterr().err
    # the store named in THAT config file, so the file was read whichever the order
    assert f"no incident store at {tmp_path / 'missing.sqlite3'}" in err


def test_doctor_takes_config_before_the_subcommand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(tmp_path)
    before = main(["--config", str(path), "doctor"])
    out_before = capsys.readouterr()
    after = main(["doctor", "--config", str(path)])
    out_after = capsys.readouterr()
    assert before == after
    assert "unrecognized arguments" not in out_before.err
    assert "no config file" not in out_before.err + out_after.err
    assert str(path) in out_before.out and str(path) in out_after.out


@pytest.mark.parametrize(
    "argv", [[name, "--help"] for name in SUBCOMMANDS] + [["secrets", "get", "--help"]]
)
def test_every_subcommand_has_help_without_a_config(
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # no config file anywhere
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0
    out = capsys.readouterr()
    assert out.out.startswith(f"usage: cockpit {argv[0]}")
    assert "no config file" not in out.out + out.err


def test_main_help_lists_the_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert f"\n    {name} " in out


def test_unknown_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["doctr"])
    assert exit_.value.code == 2
    assert "invalid choice: 'doctr'" in capsys.readouterr().err


def test_a_duration_without_a_unit_is_an_error_naming_the_key() -> None:
    with pytest.raises(ConfigError) as error:
        parse_config({"alertmanager": {"url": "http://am:9093", "ack_duration": 5}}, Path("c.toml"))
    assert (
        str(error.value) == "c.toml: alertmanager.ack_duration: 5 what? write 5m (or ms, s, h, d)"
    )
    with pytest.raises(ConfigError, match="timeout: 10 what"):
        parse_config({"kubernetes": {"timeout": "10"}}, Path("c.toml"))
    config = parse_config({"alertmanager": {"url": "http://am:9093", "ack_duration": "90s"}})
    assert config.alertmanager is not None
    assert config.alertmanager.ack_duration.total_seconds() == 90


def test_an_unknown_key_suggests_the_closest_known_one() -> None:
    with pytest.raises(ConfigError, match="did you mean 'ack_duration'"):
        parse_config({"alertmanager": {"url": "http://am:9093", "ack_duraton": "5m"}})
    with pytest.raises(ConfigError, match="did you mean 'rabbitmq'"):
        parse_config({"rabitmq": {}})
    with pytest.raises(ConfigError) as error:
        parse_config({"ui": {"zzz": 1}})
    assert "did you mean" not in str(error.value)  # nothing close: just the known keys
    assert "known: bell, desktop_notify" in str(error.value)
