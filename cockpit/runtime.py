"""Everything the screen runs on, built from the config (or the simulated world).

The UI receives a Runtime and never builds a client itself. Real backends are
imported only when their section is configured, so start-up stays fast and a
missing optional client never breaks the demo.
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from cockpit.backends.base import AlertSource, Broker, Cluster, Pager, StatusPage, TicketTracker
from cockpit.clock import Clock, SystemClock
from cockpit.config import Config, RunbooksConfig, data_dir, demo_config
from cockpit.incident.store import IncidentStore, SQLiteStore
from cockpit.runbooks import RunbookLibrary

HINTS = {
    "alerts": "Alerts not configured: add [alertmanager] url = 'http://alertmanager:9093' "
    "to the config file (cockpit config example)",
    "pods": "Pods not configured: add a [kubernetes] section (kubeconfig, context, namespaces) "
    "to the config file",
    "queues": "Queues not configured: add [rabbitmq] management_url = 'http://rabbit:15672' "
    "and password_secret to the config file",
}


@dataclass
class Runtime:
    config: Config
    clock: Clock
    store: IncidentStore
    alerts: AlertSource | None = None
    cluster: Cluster | None = None
    broker: Broker | None = None
    statuspage: StatusPage | None = None
    pager: Pager | None = None
    tracker: TicketTracker | None = None  # Jira, with [jira]
    tickets_interval: timedelta = timedelta(minutes=2)
    outbox: Any = None  # cockpit.incident.outbox.Outbox
    audit: Any = None  # cockpit.audit.AuditLog
    read_only: bool = False
    demo: Any = None  # the DemoWorld, when running on it
    alerts_interval: timedelta = timedelta(seconds=10)
    queues_interval: timedelta = timedelta(seconds=5)
    outbox_interval: timedelta = timedelta(seconds=2)
    postmortem_dir: Path = field(default_factory=lambda: data_dir() / "postmortems")
    warnings: list[str] = field(default_factory=list)
    runbooks: RunbookLibrary = field(default_factory=lambda: RunbookLibrary(RunbooksConfig()))

    async def close(self) -> None:
        backends = (self.alerts, self.cluster, self.broker, self.statuspage, self.pager)
        for backend in (*backends, self.tracker):
            close = getattr(backend, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()
        self.store.close()


DEMO_STORE = "cockpit.db"


def demo_dir() -> Path:
    """Where `cockpit --demo` keeps its last session: store, post-mortems, audit log."""
    return data_dir() / "demo"


def build_demo_runtime(
    clock: Clock | None = None,
    *,
    seed: int = 7,
    read_only: bool = False,
    config: Config | None = None,
    world_options: dict[str, Any] | None = None,
    directory: Path | None = None,
) -> Runtime:
    """The simulated world behind every protocol. Without `directory`: an in-memory store
    and a scratch directory (tests). With it (`cockpit --demo`): a fresh store file there,
    so `cockpit --demo postmortem` / `report` read the last demo session, and post-mortems
    in directory/postmortems, a path that stays the same from one session to the next."""
    from cockpit.backends.demo import build_demo

    clock = clock or SystemClock()
    config = config or demo_config()
    demo = build_demo(clock, seed=seed, **(world_options or {}))
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        # the world starts again at t=0: so do its record and its audit log
        for stale in ("cockpit.db", "cockpit.db-wal", "cockpit.db-shm", "audit.jsonl"):
            (directory / stale).unlink(missing_ok=True)
        store = SQLiteStore(directory / DEMO_STORE)
        scratch = directory
    else:
        store = SQLiteStore(":memory:")
        scratch = Path(tempfile.mkdtemp(prefix="cockpit-demo-"))
    runtime = Runtime(
        config=config,
        clock=clock,
        store=store,
        alerts=demo.alerts,
        cluster=demo.cluster,
        broker=demo.broker,
        statuspage=demo.statuspage,
        pager=demo.pager,
        read_only=read_only,
        demo=demo,
        alerts_interval=timedelta(seconds=2),
        queues_interval=timedelta(seconds=2),
        outbox_interval=timedelta(seconds=1),
        postmortem_dir=scratch / "postmortems",
    )
    if config.jira is not None:
        from cockpit.backends.demo.jira import DemoJira

        runtime.tracker = DemoJira(clock)
        runtime.tickets_interval = config.jira.poll
    runtime.outbox = _outbox(store)
    runtime.audit = _audit(scratch / "audit.jsonl", config)
    runtime.runbooks = _demo_runbooks(scratch / "runbooks")
    return runtime


def _demo_runbooks(directory: Path) -> RunbookLibrary:
    """The demo's own runbooks, in its scratch directory; it fetches no URL."""
    from cockpit.backends.demo.runbooks import write_demo_runbooks

    config = RunbooksConfig(directory=str(write_demo_runbooks(directory)), fetch_urls=False)
    return RunbookLibrary(config, offline_reason="the demo fetches no runbook URL")


def _outbox(store: IncidentStore) -> Any:
    from cockpit.incident.outbox import open_outbox

    return open_outbox(store)


def _audit(path: Path, config: Config) -> Any:
    try:
        from cockpit.audit import AuditLog
        from cockpit.secrets import redact
    except ImportError:  # pragma: no cover
        return None
    return AuditLog(path, env=config.env, redact=redact)


def register_url_passwords(value: Any) -> None:
    """A password written inside a configured URL (http://user:pw@host) is a secret: the
    log filter and the audit log redact it like one (the screen masks every URL's)."""
    from cockpit.secrets import register_secret
    from cockpit.text import url_password

    if isinstance(value, str):
        password = url_password(value)
        if password:
            register_secret(password)
            from urllib.parse import unquote

            register_secret(unquote(password))
    elif isinstance(value, dict):
        for item in value.values():
            register_url_passwords(item)
    elif isinstance(value, list | tuple):
        for item in value:
            register_url_passwords(item)


def open_store(config: Config, *, secret_value: Any = None, wait: float = 4.0) -> IncidentStore:
    """The store the config names: the SQLite file (default) or the shared PostgreSQL.

    PostgreSQL is imported only here, and the first connection is waited for at most
    `wait` seconds: an unreachable database starts the cockpit with `store DOWN` and the
    local journal, never a hang.
    """
    if config.store.kind != "postgresql":
        return SQLiteStore(config.store_path)
    from cockpit.incident.postgres import PostgresStore

    name = config.store.password_secret
    password = secret_value(name) if secret_value and name else ""
    store = PostgresStore(
        config.store.dsn,
        password=password,
        actor=config.identity.name,
        journal_path=config.store.journal or data_dir() / f"{config.env}-store-journal.sqlite3",
        lease=config.store.lease.total_seconds(),
    )
    store.wait_ready(wait)
    return store


def build_runtime(config: Config, *, read_only: bool = False, secrets: Any = None) -> Runtime:
    """Real backends for every configured section; `secrets` resolves secret names."""
    from cockpit.backends.http import MB, set_default_max_bytes

    set_default_max_bytes(config.max_response_mb * MB)
    register_url_passwords(config.raw)

    def secret(name: str) -> str:
        if not name:
            return ""
        if secrets is None:
            return ""
        return str(secrets.resolve(name).value)

    clock = SystemClock()
    store = open_store(config, secret_value=secret)
    runtime = Runtime(config=config, clock=clock, store=store, read_only=read_only)
    runtime.postmortem_dir = data_dir() / "postmortems"
    runtime.runbooks = RunbookLibrary(config.runbooks)

    if config.alertmanager is not None:
        from cockpit.backends.alertmanager import AlertmanagerPager, AlertmanagerSource

        alerts_source = AlertmanagerSource(config.alertmanager, clock=clock)
        runtime.alerts = alerts_source
        runtime.alerts_interval = config.alertmanager.poll_interval
    if config.kubernetes is not None:
        from cockpit.backends.kubernetes import KubernetesCluster

        runtime.cluster = KubernetesCluster(config.kubernetes, clock=clock)
    if config.rabbitmq is not None:
        from cockpit.backends.rabbitmq import RabbitMQBroker

        runtime.broker = RabbitMQBroker(
            config.rabbitmq,
            password=secret(config.rabbitmq.password_secret),
            clock=clock,
            quarantine_dir=data_dir() / "quarantine",
        )
        runtime.queues_interval = config.rabbitmq.poll_interval
    if config.statuspage.kind == "statuspage":
        from cockpit.backends.statuspage import StatuspageIO

        runtime.statuspage = StatuspageIO(
            config.statuspage, api_key=secret(config.statuspage.api_key_secret), clock=clock
        )
    else:
        from cockpit.backends.statuspage import StaticStatusPage

        directory = Path(config.statuspage.directory or data_dir() / "statuspage")
        runtime.statuspage = StaticStatusPage(config.statuspage, directory=directory, clock=clock)
    if config.pager is not None:
        if config.pager.kind == "pagerduty":
            from cockpit.backends.pagerduty import PagerDutyPager

            runtime.pager = PagerDutyPager(
                config.pager,
                routing_keys={team: secret(name) for team, name in config.pager.teams.items()},
                identity=config.identity.display,
                clock=clock,
            )
        elif config.pager.kind == "alertmanager" and config.alertmanager is not None:
            runtime.pager = AlertmanagerPager(alerts_source, clock=clock)
    if config.jira is not None:
        from cockpit.backends.jira import JiraTracker

        runtime.tracker = JiraTracker(config.jira, token=secret(config.jira.api_token_secret))
        runtime.tickets_interval = config.jira.poll
    runtime.outbox = _outbox(store)
    runtime.audit = _audit(data_dir() / "audit.jsonl", config)
    return runtime


# --------------------------------------------------------------------------- memory

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 256 * 1024  # bytes: a malloc this big or bigger is its own mapping


def _libc() -> Any:
    """glibc's malloc controls, or None (musl, macOS, Windows, no ctypes)."""
    import os

    try:
        libc_version = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, ValueError, OSError):  # not glibc, or no confstr (Windows)
        return None
    if not libc_version.startswith("glibc"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except (ImportError, OSError):
        return None


def tune_malloc() -> None:
    """Keep big freed buffers from staying resident (glibc only; a no-op elsewhere).

    glibc raises its mmap threshold to the size of each big block freed (up to 32 MB) and
    its trim threshold to twice that: after one 14 MB pod list was freed, every later
    response body under 14 MB came from the heap, and up to 28 MB free at the heap's top
    stayed resident. Fixed thresholds (setting them turns the raising off) give a big
    body back to the system when it is freed."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        libc.mallopt(M_TRIM_THRESHOLD, 2 * MMAP_THRESHOLD)


def release_free_memory() -> None:
    """Give the pages malloc holds free (in every arena, not only at a heap's top) back to
    the system: once, after the first load (glibc only; a no-op elsewhere)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
