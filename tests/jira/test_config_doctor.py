"""[jira] in the config (errors name file and key) and `cockpit doctor`'s Jira rows."""

from __future__ import annotations

import io
import re
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest

from cockpit.config import ConfigError, load_config, parse_config
from cockpit.config_example import EXAMPLE_CONFIG
from cockpit.doctor import check_jira, doctor_main
from cockpit.secrets import SecretResolver, secret_uses
from tests.jira.conftest import EMAIL, PAT, TOKEN
from tests.jira.server import FakeJira

GOOD = """
[jira]
url = "https://acme.atlassian.net/"
email = "oncall@acme.example"
api_token_secret = "jira"
project = "PAY"
issue_type = "Bug"
labels = ["from-oncall"]
poll = "2m"
teams = { payments = "PAY", platform = "PLAT" }
"""


def test_the_issue_example_parses(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(GOOD)
    config = load_config(path)
    jira = config.jira
    assert jira is not None
    assert jira.url == "https://acme.atlassian.net"
    assert (jira.email, jira.project, jira.issue_type) == (EMAIL, "PAY", "Bug")
    assert jira.labels == ("from-oncall",) and jira.poll == timedelta(minutes=2)
    assert jira.api_version == 3
    assert jira.project_for("platform") == "PLAT" and jira.project_for("web") == "PAY"
    assert jira.priorities["SEV1"] == "Highest"
    assert "jira" in config.secret_names()
    assert ("jira", "jira.api_token_secret") in secret_uses(config)
    assert parse_config({}).jira is None


def test_the_example_config_has_jira() -> None:
    config = parse_config(tomllib.loads(EXAMPLE_CONFIG), env="prod")
    assert config.jira is not None and config.jira.teams["platform"] == "PLAT"


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        (
            "[jira]\nemail = 'a@b.c'\napi_token_secret = 'j'\nproject = 'PAY'\n",
            "jira.url",
            "is required",
        ),
        (GOOD + "api_token = 'ATATT-value'\n", "jira.api_token", "secret names, never values"),
        (GOOD.replace('email = "oncall@acme.example"\n', ""), "jira.email", "email:token"),
        (GOOD.replace('"PAY"\nissue', '"pay-team"\nissue'), "jira.project", "project key"),
        (
            GOOD.replace('platform = "PLAT"', 'platform = "plat x"'),
            "jira.teams.platform",
            "project key",
        ),
        (GOOD.replace('["from-oncall"]', '["from oncall"]'), "jira.labels", "no spaces"),
        (GOOD.replace('"2m"', '"1s"'), "jira.poll", "at least"),
        (GOOD.replace('poll = "2m"', "api_version = 4"), "jira.api_version", "Data Center"),
        (GOOD.replace('api_token_secret = "jira"\n', ""), "jira.api_token_secret", "NAME"),
        (GOOD + "projects = ['PAY']\n", "jira.projects", "unknown key"),
    ],
)
def test_bad_jira_config_names_file_key_and_problem(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert error.value.key == key
    assert problem in error.value.problem
    assert str(path) in str(error.value)


def test_data_center_needs_no_email() -> None:
    config = parse_config(
        {
            "jira": {
                "url": "https://jira.acme.example",
                "api_token_secret": "pat",
                "project": "PAY",
                "api_version": 2,
            }
        }
    )
    assert config.jira is not None and config.jira.api_version == 2


def config_for(url: str, **jira: object) -> object:
    return parse_config(
        {
            "jira": {
                "url": url,
                "email": EMAIL,
                "api_token_secret": "jira",
                "project": "PAY",
                "teams": {"platform": "PLAT"},
                **jira,
            }
        }
    )


def resolver(token: str = TOKEN) -> SecretResolver:
    return SecretResolver(env={"COCKPIT_SECRET_JIRA": token}, prompt=False)


def test_doctor_checks_myself_each_project_and_the_issue_type(fake_jira: FakeJira) -> None:
    checks = check_jira(config_for(fake_jira.url), resolver())  # type: ignore[arg-type]
    rows = [(c.name, c.verdict, c.detail) for c in checks]
    assert rows == [
        ("jira", "ok", f"{fake_jira.url} (Cloud REST v3): signed in as On-call Bot <{EMAIL}>"),
        ("jira project PAY", "ok", "exists (default); issue type 'Bug' is in it"),
        ("jira project PLAT", "ok", "exists (teams platform); issue type 'Bug' is in it"),
    ]
    assert [r.path for r in fake_jira.requests] == [
        "/rest/api/3/myself",
        "/rest/api/3/project/PAY",
        "/rest/api/3/project/PLAT",
    ]


def test_doctor_fails_a_missing_project_and_a_missing_issue_type(fake_jira: FakeJira) -> None:
    checks = check_jira(
        config_for(fake_jira.url, project="OPS", teams={"web": "WEB"}),
        resolver(),  # type: ignore[arg-type]
    )
    rows = {c.name: (c.verdict, c.detail) for c in checks}
    assert rows["jira project OPS"] == (
        "FAIL",
        "no issue type 'Bug' (default): it has Task (set jira.issue_type)",
    )
    assert rows["jira project WEB"] == (
        "FAIL",
        f"no such project (teams web), or {EMAIL} may not browse it",
    )
    assert all(c.failed for c in checks[1:])


def test_doctor_names_a_refused_token_and_never_shows_it(fake_jira: FakeJira) -> None:
    (check,) = check_jira(config_for(fake_jira.url), resolver("not-the-token-xyz"))  # type: ignore[arg-type]
    assert check.verdict == "FAIL"
    assert check.detail.startswith("Jira: 401 Unauthorized: oncall@acme.example with the API token")
    assert "not-the-token-xyz" not in check.detail
    (missing,) = check_jira(
        config_for(fake_jira.url),
        SecretResolver(env={}, prompt=False, keyring_timeout=0.1),  # type: ignore[arg-type]
    )
    assert missing.verdict == "FAIL" and "COCKPIT_SECRET_JIRA" in missing.detail


def test_doctor_data_center_and_the_whole_report(fake_jira: FakeJira) -> None:
    config = parse_config(
        {
            "jira": {
                "url": fake_jira.url,
                "api_token_secret": "jira",
                "project": "PAY",
                "api_version": 2,
            }
        }
    )
    out = io.StringIO()
    rc = doctor_main(
        config,
        resolver=SecretResolver(
            env={"COCKPIT_SECRET_JIRA": PAT}, prompt=False, keyring_timeout=0.2
        ),
        out=out,
        env={"TERM": "xterm-256color", "COCKPIT_SECRET_JIRA": PAT},
    )
    text = out.getvalue()
    assert "(Data Center REST v2): signed in as On-call Bot" in text
    assert re.search(
        r"^jira project PAY +ok +exists \(default\); issue type 'Bug' is in it$", text, re.M
    )
    assert PAT not in text
    assert rc == 0, text
