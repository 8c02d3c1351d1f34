"""TOML config -> typed config. Every error names the file, the key and the problem.

Lookup: --config PATH, else $COCKPIT_CONFIG, else $XDG_CONFIG_HOME/cockpit/config.toml.
Each backend section present selects the real backend for it; an absent section
leaves its panel "not configured". Environments: `[env.NAME]` tables hold their own
backend sections; top-level sections are shared defaults that an environment's
sections override key by key. The config names secrets, never holds their values.
"""

from __future__ import annotations

import difflib
import getpass
import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

BACKEND_SECTIONS = ("alertmanager", "kubernetes", "rabbitmq", "statuspage", "pager", "jira")
KNOWN_SECTIONS = {
    *BACKEND_SECTIONS,
    "identity",
    "store",
    "ui",
    "incident",
    "limits",
    "runbooks",
    "report",
    "env",
    "environment",
}


class ConfigError(Exception):
    """A bad config: says which file, which key and what is wrong."""

    def __init__(self, path: Path | str | None, key: str, problem: str) -> None:
        self.path = str(path) if path else "<config>"
        self.key = key
        self.problem = problem
        super().__init__(f"{self.path}: {key}: {problem}" if key else f"{self.path}: {problem}")


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "cockpit"


def data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "cockpit"


def default_config_path() -> Path:
    env = os.environ.get("COCKPIT_CONFIG")
    return Path(env) if env else config_dir() / "config.toml"


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any, *, path: Path | str | None = None, key: str = "") -> timedelta:
    """'90s', '30m', '1h', '1.5h', '500ms', '2d'. A bare number is refused: `ack_duration = 5`
    could mean 5 seconds or 5 minutes, and guessing wrong silences an alert for the wrong time."""
    if isinstance(value, bool):
        raise ConfigError(path, key, f"expected a duration such as '30m', got {value!r}")
    number: str | None = None
    if isinstance(value, int | float):
        number = f"{value:g}"
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if match and match.group(2):
            return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
        if match:
            number = match.group(1)
    if number is not None:
        raise ConfigError(path, key, f"{number} what? write {number}m (or ms, s, h, d)")
    raise ConfigError(path, key, f"expected a duration such as '30m' or '1h', got {value!r}")


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name a typo most likely meant (`ack_duraton` -> `ack_duration`)."""
    found = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return found[0] if found else None


def unknown_problem(name: str, known: Iterable[str], what: str = "key") -> str:
    known = sorted(known)
    guess = closest(name, known)
    hint = f"did you mean {guess!r}? " if guess else ""
    return f"unknown {what}: {hint}(known: {', '.join(known)})"


@dataclass(frozen=True)
class Identity:
    name: str
    email: str = ""

    @property
    def display(self) -> str:
        return f"{self.name} <{self.email}>" if self.email else self.name


@dataclass(frozen=True)
class AlertmanagerCluster:
    name: str
    urls: tuple[str, ...]


@dataclass(frozen=True)
class AlertmanagerConfig:
    clusters: tuple[AlertmanagerCluster, ...]
    ack_duration: timedelta = timedelta(hours=1)
    poll_interval: timedelta = timedelta(seconds=10)
    timeout: timedelta = timedelta(seconds=5)


@dataclass(frozen=True)
class KubernetesConfig:
    kubeconfig: str = ""
    context: str = ""
    namespaces: tuple[str, ...] = ()  # empty: all namespaces
    timeout: timedelta = timedelta(seconds=10)
    log_lines: int = 200


@dataclass(frozen=True)
class QueueThreshold:
    pattern: str
    warn: int
    crit: int


@dataclass(frozen=True)
class RabbitMQConfig:
    management_url: str
    amqp_url: str = ""
    username: str = "guest"
    password_secret: str = ""
    vhost: str = ""  # empty: every vhost
    thresholds: tuple[QueueThreshold, ...] = ()
    poll_interval: timedelta = timedelta(seconds=5)
    timeout: timedelta = timedelta(seconds=5)
    peek_count: int = 10
    page_size: int = 500


@dataclass(frozen=True)
class StatusPageConfig:
    kind: str = "static"  # static | statuspage
    directory: str = ""  # static: where the page is written (default: under the data dir)
    page_id: str = ""
    api_key_secret: str = ""
    api_url: str = "https://api.statuspage.io"
    components: tuple[str, ...] = ()
    templates: dict[str, str] = field(default_factory=dict)
    title: str = "Service status"
    # [statuspage.services] service = "Customer words": what customers call a service
    services: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PagerConfig:
    kind: str = "alertmanager"  # alertmanager | pagerduty | none
    teams: dict[str, str] = field(default_factory=dict)  # team -> secret name (pagerduty)
    events_url: str = "https://events.pagerduty.com"


JIRA_PRIORITIES = {"SEV1": "Highest", "SEV2": "High", "SEV3": "Medium", "SEV4": "Low"}


@dataclass(frozen=True)
class JiraConfig:
    """Bug tickets for the developers: Jira Cloud REST v3 (Basic email:token) or
    Data Center REST v2 (a personal access token as Bearer)."""

    url: str
    api_token_secret: str
    project: str = ""  # default project key; [jira.teams] maps a team to its own
    email: str = ""  # Cloud: the account the API token belongs to
    teams: dict[str, str] = field(default_factory=dict)  # team -> project key
    issue_type: str = "Bug"
    labels: tuple[str, ...] = ()
    poll: timedelta = timedelta(minutes=2)
    api_version: int = 3  # 3: Jira Cloud; 2: Data Center / Server
    timeout: timedelta = timedelta(seconds=10)
    # severity -> Jira priority name; an empty table sends no priority at all
    priorities: dict[str, str] = field(default_factory=lambda: dict(JIRA_PRIORITIES))

    def project_for(self, team: str) -> str:
        return self.teams.get(team, "") or self.project


@dataclass(frozen=True)
class UIConfig:
    theme: str = ""
    mouse: bool = False
    bell: bool = True
    desktop_notify: bool = True
    # the clock in the header and the timeline's times: an IANA name, "" = this machine's
    timezone: str = ""


@dataclass(frozen=True)
class IncidentConfig:
    # how often customers must hear from us, per severity
    update_cadence: dict[str, timedelta] = field(
        default_factory=lambda: {"SEV1": timedelta(minutes=30), "SEV2": timedelta(minutes=30)}
    )


@dataclass(frozen=True)
class RunbooksConfig:
    """Where `o` finds an alert's runbook: `alerts` maps an alertname to a file (relative
    to `directory`), else `<directory>/<alertname>.md`, else the alert's runbook_url."""

    directory: str = ""
    alerts: dict[str, str] = field(default_factory=dict)
    fetch_urls: bool = True  # fetch an http(s) runbook_url (file:// is always read)
    timeout: timedelta = timedelta(seconds=5)
    max_bytes: int = 64 * 1024  # longer runbooks are cut, with a note saying so


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class ReportConfig:
    """[report]: when an interruption counts as working hours, evening, night or weekend,
    in the engineer's time zone (default: this machine's)."""

    timezone: str = ""  # an IANA name such as "Europe/Berlin"; "" = the local zone
    workday_start: int = 9  # hour working hours start
    workday_end: int = 18  # hour the evening starts
    night_start: int = 22  # hour the night starts (it ends at workday_start)
    weekend: tuple[str, ...] = ("sat", "sun")
    shift: timedelta = timedelta(hours=12)  # how long a shift is (handover, header figure)


@dataclass(frozen=True)
class StoreConfig:
    kind: str = "sqlite"  # sqlite | postgresql
    path: str = ""  # sqlite: the file
    dsn: str = ""  # postgresql://user@host:5432/db (no password here: password_secret)
    password_secret: str = ""  # the NAME of the secret holding the database password
    journal: str = ""  # postgresql: the local journal file (default in the data dir)
    lease: timedelta = timedelta(seconds=30)  # an outbox claim's lease


@dataclass(frozen=True)
class Config:
    path: Path | None
    env: str
    identity: Identity
    store_path: str
    alertmanager: AlertmanagerConfig | None = None
    kubernetes: KubernetesConfig | None = None
    rabbitmq: RabbitMQConfig | None = None
    statuspage: StatusPageConfig = field(default_factory=StatusPageConfig)
    statuspage_configured: bool = False
    pager: PagerConfig | None = None
    ui: UIConfig = field(default_factory=UIConfig)
    incident: IncidentConfig = field(default_factory=IncidentConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    runbooks: RunbooksConfig = field(default_factory=RunbooksConfig)
    max_response_mb: int = 50
    jira: JiraConfig | None = None
    environments: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    store: StoreConfig = field(default_factory=StoreConfig)

    @property
    def is_prod(self) -> bool:
        return self.env.lower() in {"prod", "production", "prd", "live"}

    def secret_names(self) -> list[str]:
        """Every secret name the config refers to (the values live elsewhere)."""
        names: list[str] = []
        if self.store.password_secret:
            names.append(self.store.password_secret)
        if self.rabbitmq and self.rabbitmq.password_secret:
            names.append(self.rabbitmq.password_secret)
        if self.statuspage.api_key_secret:
            names.append(self.statuspage.api_key_secret)
        if self.pager and self.pager.kind == "pagerduty":
            names.extend(self.pager.teams.values())
        if self.jira is not None and self.jira.api_token_secret:
            names.append(self.jira.api_token_secret)
        return names


def login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return os.environ.get("USER", "on-call")


def demo_config(env: str = "demo") -> Config:
    return Config(
        path=None,
        env=env,
        identity=Identity(login_name()),
        store_path=":memory:",
        statuspage=StatusPageConfig(
            title="Acme Shop status",
            components=("Checkout", "Orders", "Invoicing", "Search"),
            services=DEMO_SERVICES,
        ),
        statuspage_configured=True,
        # the simulated Jira of the demo (backends/demo/jira.py): no token, nothing contacted
        jira=JiraConfig(
            url="https://acme.atlassian.net",
            api_token_secret="",
            project="SHOP",
            email="oncall@acme.example",
            teams={"payments": "PAY", "checkout": "CHK", "orders": "ORD"},
            labels=("from-oncall",),
            poll=timedelta(seconds=20),
        ),
    )


# what Acme Shop's customers call the demo world's services
DEMO_SERVICES = {
    "checkout-api": "Checkout",
    "payments-api": "Checkout",
    "invoice-worker": "Invoicing",
    "orders-consumer": "Orders",
}


class _Reader:
    """Reads typed values out of one TOML table, naming `section.key` in every error."""

    def __init__(self, path: Path | None, section: str, table: Any) -> None:
        self.path, self.section = path, section
        if not isinstance(table, dict):
            raise ConfigError(path, section, f"expected a table [{section}], got {table!r}")
        self.table: dict[str, Any] = table

    def key(self, name: str) -> str:
        return f"{self.section}.{name}" if self.section else name

    def error(self, name: str, problem: str) -> ConfigError:
        return ConfigError(self.path, self.key(name), problem)

    def text(self, name: str, default: str = "") -> str:
        value = self.table.get(name, default)
        if not isinstance(value, str):
            raise self.error(name, f"expected a string, got {value!r}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self.table.get(name, default)
        if not isinstance(value, bool):
            raise self.error(name, f"expected true or false, got {value!r}")
        return value

    def number(self, name: str, default: int, minimum: int = 0) -> int:
        value = self.table.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(name, f"expected a whole number >= {minimum}, got {value!r}")
        return value

    def strs(self, name: str) -> tuple[str, ...]:
        value = self.table.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(name, f"expected a list of strings, got {value!r}")
        return tuple(value)

    def duration(self, name: str, default: timedelta) -> timedelta:
        if name not in self.table:
            return default
        return parse_duration(self.table[name], path=self.path, key=self.key(name))

    def url(self, name: str, required: bool = False) -> str:
        value = self.text(name)
        if required and not value:
            raise self.error(name, "is required (for example 'http://127.0.0.1:9093')")
        if value and not re.match(r"^https?://[^\s/]+", value):
            raise self.error(name, f"expected an http:// or https:// URL, got {value!r}")
        return value.rstrip("/")

    def str_map(self, name: str) -> dict[str, str]:
        value = self.table.get(name, {})
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise self.error(name, "expected a table of strings")
        return dict(value)

    def unknown(self, known: set[str]) -> None:
        for name in self.table:
            if name not in known:
                raise self.error(name, unknown_problem(name, known))


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_config(path: Path | str | None = None, env: str | None = None) -> Config:
    """Load and validate the config file; raises ConfigError or FileNotFoundError."""
    file = Path(path) if path else default_config_path()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ConfigError(file, "", f"cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(file, "", f"not valid TOML: {exc}") from None
    return parse_config(data, file, env)


def parse_config(data: dict[str, Any], path: Path | None = None, env: str | None = None) -> Config:
    for section in data:
        if section not in KNOWN_SECTIONS:
            raise ConfigError(path, section, unknown_problem(section, KNOWN_SECTIONS, "section"))
    envs_table = data.get("env", {})
    if not isinstance(envs_table, dict):
        raise ConfigError(path, "env", "expected tables such as [env.prod]")
    environments = tuple(envs_table)
    chosen = env or _Reader(path, "environment", data.get("environment", {})).text("default")
    if not chosen and len(environments) == 1:
        chosen = environments[0]
    effective = {k: v for k, v in data.items() if k not in {"env", "environment"}}
    if chosen:
        if chosen not in envs_table:
            known = ", ".join(environments) or "none defined"
            raise ConfigError(path, f"env.{chosen}", f"no such environment (known: {known})")
        env_data = envs_table[chosen]
        if not isinstance(env_data, dict):
            raise ConfigError(path, f"env.{chosen}", "expected a table")
        for section in env_data:
            if section not in KNOWN_SECTIONS - {"env", "environment"}:
                raise ConfigError(
                    path,
                    f"env.{chosen}.{section}",
                    unknown_problem(section, KNOWN_SECTIONS - {"env", "environment"}, "section"),
                )
        effective = _merge(effective, env_data)
    prefix = f"env.{chosen}." if chosen else ""

    env_data_keys = set(envs_table.get(chosen, {})) if chosen else set()

    def reader(section: str) -> _Reader:
        # name the key where it was written: env.prod.rabbitmq.vhost or rabbitmq.vhost
        name = prefix + section if section in env_data_keys else section
        return _Reader(path, name, effective.get(section, {}))

    ident = reader("identity")
    ident.unknown({"name", "email"})
    identity = Identity(ident.text("name") or login_name(), ident.text("email"))

    store = reader("store")
    store.unknown({"kind", "path", "dsn", "password_secret", "journal", "lease"})
    store_path = store.text("path") or str(data_dir() / f"{chosen or 'default'}.sqlite3")
    store_kind = store.text("kind", "sqlite")
    if store_kind not in ("sqlite", "postgresql"):
        raise store.error("kind", f"expected 'sqlite' or 'postgresql', got {store_kind!r}")
    dsn = store.text("dsn")
    if store_kind == "postgresql" and not re.match(r"^(postgres(ql)?://|\w+=)", dsn):
        raise store.error(
            "dsn", "is required (for example 'postgresql://cockpit@db.internal:5432/oncall')"
        )
    if re.match(r"^postgres(ql)?://[^/@:]*:[^/@]+@", dsn):
        raise store.error(
            "dsn", "holds a password: put it in a secret and name it in password_secret"
        )
    store_config = StoreConfig(
        kind=store_kind,
        path=store_path,
        dsn=dsn,
        password_secret=store.text("password_secret"),
        journal=os.path.expanduser(store.text("journal")),
        lease=store.duration("lease", timedelta(seconds=30)),
    )

    alertmanager = None
    if "alertmanager" in effective:
        alertmanager = _alertmanager(reader("alertmanager"))
    kubernetes = None
    if "kubernetes" in effective:
        kubernetes = _kubernetes(reader("kubernetes"))
    rabbitmq = None
    if "rabbitmq" in effective:
        rabbitmq = _rabbitmq(reader("rabbitmq"))
    statuspage = _statuspage(reader("statuspage"))
    pager = _pager(
        reader("pager"), has_alertmanager=alertmanager is not None, present="pager" in effective
    )
    limits = reader("limits")
    limits.unknown({"max_response_mb"})
    jira = _jira(reader("jira")) if "jira" in effective else None
    ui = reader("ui")
    ui.unknown({"theme", "mouse", "bell", "desktop_notify", "timezone"})
    incident = reader("incident")
    incident.unknown({"update_cadence"})
    cadence = IncidentConfig().update_cadence
    if "update_cadence" in incident.table:
        raw = incident.table["update_cadence"]
        if not isinstance(raw, dict):
            raise incident.error("update_cadence", "expected a table such as { SEV1 = '30m' }")
        cadence = {
            str(sev): parse_duration(v, path=path, key=incident.key(f"update_cadence.{sev}"))
            for sev, v in raw.items()
        }
    return Config(
        path=path,
        env=chosen or "default",
        identity=identity,
        store_path=store_path,
        alertmanager=alertmanager,
        kubernetes=kubernetes,
        rabbitmq=rabbitmq,
        statuspage=statuspage,
        statuspage_configured="statuspage" in effective,
        pager=pager,
        ui=UIConfig(
            theme=ui.text("theme"),
            mouse=ui.flag("mouse", False),
            bell=ui.flag("bell", True),
            desktop_notify=ui.flag("desktop_notify", True),
            timezone=_timezone(ui),
        ),
        incident=IncidentConfig(update_cadence=cadence),
        report=_report(reader("report")),
        runbooks=_runbooks(reader("runbooks")),
        # the largest response any server may send (cockpit/backends/http.py)
        max_response_mb=limits.number("max_response_mb", 50, minimum=1),
        jira=jira,
        environments=environments,
        raw=effective,
        store=store_config,
    )


def _runbooks(r: _Reader) -> RunbooksConfig:
    r.unknown({"directory", "alerts", "fetch_urls", "timeout", "max_bytes"})
    alerts = r.str_map("alerts")
    for name, target in alerts.items():
        if not target.strip():
            raise r.error(f"alerts.{name}", "expected a file such as 'identity/vendor.md'")
    return RunbooksConfig(
        directory=os.path.expanduser(r.text("directory")),
        alerts=alerts,
        fetch_urls=r.flag("fetch_urls", True),
        timeout=r.duration("timeout", timedelta(seconds=5)),
        max_bytes=r.number("max_bytes", 64 * 1024, minimum=1024),
    )


def _timezone(r: _Reader) -> str:
    timezone = r.text("timezone")
    if timezone:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise r.error(
                "timezone", f"unknown time zone {timezone!r} (e.g. 'Europe/Berlin')"
            ) from None
    return timezone


def _report(r: _Reader) -> ReportConfig:
    r.unknown({"timezone", "workday_start", "workday_end", "night_start", "weekend", "shift"})
    timezone = _timezone(r)
    hours = {}
    for name, default in (("workday_start", 9), ("workday_end", 18), ("night_start", 22)):
        hours[name] = r.number(name, default)
        if hours[name] > 24:
            raise r.error(name, f"expected an hour 0-24, got {hours[name]}")
    if not hours["workday_start"] <= hours["workday_end"] <= hours["night_start"]:
        raise r.error("workday_end", "expected workday_start <= workday_end <= night_start")
    weekend = tuple(d.lower()[:3] for d in r.strs("weekend")) if "weekend" in r.table else None
    for day in weekend or ():
        if day not in WEEKDAYS:
            raise r.error("weekend", f"expected day names such as 'sat', got {day!r}")
    return ReportConfig(
        timezone=timezone,
        weekend=weekend if weekend is not None else ReportConfig.weekend,
        shift=r.duration("shift", timedelta(hours=12)),
        **hours,
    )


def _alertmanager(r: _Reader) -> AlertmanagerConfig:
    r.unknown({"url", "urls", "clusters", "ack_duration", "poll_interval", "timeout"})
    clusters: list[AlertmanagerCluster] = []
    urls = ([r.url("url")] if r.text("url") else []) + [u.rstrip("/") for u in r.strs("urls")]
    for u in urls:
        if not re.match(r"^https?://", u):
            raise r.error("urls", f"expected http:// or https:// URLs, got {u!r}")
    if urls:
        clusters.append(AlertmanagerCluster("", tuple(urls)))
    raw_clusters = r.table.get("clusters", [])
    if not isinstance(raw_clusters, list):
        raise r.error("clusters", "expected [[alertmanager.clusters]] tables")
    for i, item in enumerate(raw_clusters):
        c = _Reader(r.path, f"{r.section}.clusters[{i}]", item)
        c.unknown({"name", "urls", "url"})
        c_urls = ([c.url("url")] if c.text("url") else []) + [u.rstrip("/") for u in c.strs("urls")]
        if not c_urls:
            raise c.error("urls", "is required")
        clusters.append(AlertmanagerCluster(c.text("name") or f"cluster{i + 1}", tuple(c_urls)))
    if not clusters:
        raise r.error("url", "is required (for example url = 'http://127.0.0.1:9093')")
    return AlertmanagerConfig(
        clusters=tuple(clusters),
        ack_duration=r.duration("ack_duration", timedelta(hours=1)),
        poll_interval=r.duration("poll_interval", timedelta(seconds=10)),
        timeout=r.duration("timeout", timedelta(seconds=5)),
    )


def _kubernetes(r: _Reader) -> KubernetesConfig:
    r.unknown({"kubeconfig", "context", "namespaces", "timeout", "log_lines"})
    return KubernetesConfig(
        kubeconfig=os.path.expanduser(r.text("kubeconfig")),
        context=r.text("context"),
        namespaces=r.strs("namespaces"),
        timeout=r.duration("timeout", timedelta(seconds=10)),
        log_lines=r.number("log_lines", 200, minimum=1),
    )


def _rabbitmq(r: _Reader) -> RabbitMQConfig:
    r.unknown(
        {
            "management_url",
            "amqp_url",
            "username",
            "password_secret",
            "password",
            "vhost",
            "thresholds",
            "poll_interval",
            "timeout",
            "peek_count",
            "page_size",
        }
    )
    if "password" in r.table:
        raise r.error(
            "password",
            "the config holds secret names, never values: use password_secret = 'NAME' "
            "and `cockpit secrets set NAME`",
        )
    thresholds = []
    raw = r.table.get("thresholds", [])
    if not isinstance(raw, list):
        raise r.error("thresholds", "expected [[rabbitmq.thresholds]] tables")
    for i, item in enumerate(raw):
        t = _Reader(r.path, f"{r.section}.thresholds[{i}]", item)
        t.unknown({"pattern", "warn", "crit"})
        pattern = t.text("pattern")
        if not pattern:
            raise t.error("pattern", "is required (a glob such as 'orders*')")
        warn, crit = t.number("warn", 1000), t.number("crit", 10000)
        if crit < warn:
            raise t.error("crit", f"must be >= warn ({warn}), got {crit}")
        thresholds.append(QueueThreshold(pattern, warn, crit))
    return RabbitMQConfig(
        management_url=r.url("management_url", required=True),
        amqp_url=r.text("amqp_url"),
        username=r.text("username", "guest"),
        password_secret=r.text("password_secret"),
        vhost=r.text("vhost"),
        thresholds=tuple(thresholds),
        poll_interval=r.duration("poll_interval", timedelta(seconds=5)),
        timeout=r.duration("timeout", timedelta(seconds=5)),
        peek_count=r.number("peek_count", 10, minimum=1),
        page_size=r.number("page_size", 500, minimum=1),
    )


def _statuspage(r: _Reader) -> StatusPageConfig:
    r.unknown(
        {
            "kind",
            "directory",
            "page_id",
            "api_key_secret",
            "api_key",
            "api_url",
            "components",
            "templates",
            "title",
            "services",
        }
    )
    if "api_key" in r.table:
        raise r.error("api_key", "the config holds secret names, never values: use api_key_secret")
    kind = r.text("kind", "static")
    if kind not in {"static", "statuspage"}:
        raise r.error("kind", f"expected 'static' or 'statuspage', got {kind!r}")
    config = StatusPageConfig(
        kind=kind,
        directory=os.path.expanduser(r.text("directory")),
        page_id=r.text("page_id"),
        api_key_secret=r.text("api_key_secret"),
        api_url=r.url("api_url") or "https://api.statuspage.io",
        components=r.strs("components"),
        templates=r.str_map("templates"),
        title=r.text("title", "Service status"),
        services=r.str_map("services"),
    )
    if kind == "statuspage":
        if not config.page_id:
            raise r.error("page_id", "is required when kind = 'statuspage'")
        if not config.api_key_secret:
            raise r.error("api_key_secret", "is required when kind = 'statuspage'")
    return config


def _pager(r: _Reader, *, has_alertmanager: bool, present: bool) -> PagerConfig | None:
    if not present:
        return PagerConfig(kind="alertmanager") if has_alertmanager else None
    r.unknown({"kind", "teams", "events_url"})
    kind = r.text("kind", "alertmanager" if has_alertmanager else "")
    if kind not in {"alertmanager", "pagerduty", "none"}:
        raise r.error("kind", f"expected 'alertmanager', 'pagerduty' or 'none', got {kind!r}")
    if kind == "alertmanager" and not has_alertmanager:
        raise r.error("kind", "'alertmanager' needs an [alertmanager] section")
    teams = r.str_map("teams")
    if kind == "pagerduty" and not teams:
        raise r.error("teams", "map each team to the secret holding its routing key")
    if kind == "none":
        return None
    return PagerConfig(
        kind=kind, teams=teams, events_url=r.url("events_url") or PagerConfig.events_url
    )


_PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,254}$")
_LABEL = re.compile(r"^\S{1,255}$")  # Jira labels: no spaces, at most 255 characters


def _jira(r: _Reader) -> JiraConfig:
    r.unknown(
        {
            "url",
            "email",
            "api_token_secret",
            "api_token",
            "token",
            "project",
            "teams",
            "issue_type",
            "labels",
            "poll",
            "api_version",
            "timeout",
            "priorities",
        }
    )
    for value_key in ("api_token", "token"):
        if value_key in r.table:
            raise r.error(
                value_key,
                "the config holds secret names, never values: use api_token_secret = 'NAME' "
                "and `cockpit secrets set NAME`",
            )
    url = r.url("url", required=True)
    version = r.table.get("api_version", 3)
    if version not in (2, 3) or isinstance(version, bool):
        raise r.error("api_version", f"expected 3 (Jira Cloud) or 2 (Data Center), got {version!r}")
    email = r.text("email")
    if version == 3 and not email:
        raise r.error(
            "email",
            "is required for Jira Cloud (Basic auth is email:token; api_version = 2 "
            "uses a personal access token instead)",
        )
    if email and "@" not in email:
        raise r.error("email", f"expected an email address, got {email!r}")
    secret = r.text("api_token_secret")
    if not secret:
        raise r.error("api_token_secret", "is required: the NAME of the secret holding the token")
    project = r.text("project")
    teams = r.str_map("teams")
    for key_name, key in [("project", project)] + [(f"teams.{t}", k) for t, k in teams.items()]:
        if key and not _PROJECT_KEY.match(key):
            raise r.error(key_name, f"expected a Jira project key such as 'PAY', got {key!r}")
    if not project and not teams:
        raise r.error("project", "is required (a project key such as 'PAY'), or map [jira.teams]")
    labels = r.strs("labels")
    for label in labels:
        if not _LABEL.match(label):
            raise r.error("labels", f"a Jira label has no spaces (1-255 characters): {label!r}")
    issue_type = r.text("issue_type", "Bug")
    if not issue_type.strip():
        raise r.error("issue_type", "must name an issue type such as 'Bug'")
    poll = r.duration("poll", timedelta(minutes=2))
    if poll < timedelta(seconds=10):
        raise r.error("poll", "at least '10s': every poll reads each open ticket")
    priorities = r.str_map("priorities") if "priorities" in r.table else dict(JIRA_PRIORITIES)
    return JiraConfig(
        url=url,
        api_token_secret=secret,
        project=project,
        email=email,
        teams=teams,
        issue_type=issue_type.strip(),
        labels=labels,
        poll=poll,
        api_version=int(version),
        timeout=r.duration("timeout", timedelta(seconds=10)),
        priorities=priorities,
    )
