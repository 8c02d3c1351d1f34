"""`cockpit doctor`: check every configured backend, the secrets and the terminal, in plain text.

Each check is a row CHECK / VERDICT / DETAIL. A required check that fails (a configured
backend unreachable or refusing our credentials, a secret that does not resolve) makes
the exit status 1; warnings (small terminal, no keyring backend while env vars cover
every secret) do not. Network checks run in parallel with short timeouts, so doctor
against closed or black-holed ports still answers within a few seconds.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import socket
import stat
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import httpx

from cockpit.config import Config, data_dir
from cockpit.secrets import (
    SecretResolver,
    describe_source,
    env_var_name,
    keyring_hint,
    keyring_status,
    redact,
    secret_uses,
)

OK, WARN, FAIL, SKIP = "ok", "WARN", "FAIL", "skip"
TIMEOUT = 2.5  # seconds, per request: doctor must answer fast even on dead hosts


@dataclass(frozen=True)
class Check:
    name: str
    verdict: str
    detail: str
    required: bool = True  # a FAIL here makes the exit status 1

    @property
    def failed(self) -> bool:
        return self.verdict == FAIL and self.required


def _http_error(exc: Exception) -> str:
    """One line for an httpx failure: no traceback, no body."""
    if isinstance(exc, httpx.ConnectTimeout | httpx.ReadTimeout | httpx.PoolTimeout):
        return f"unreachable: no answer within {TIMEOUT:g} s"
    if isinstance(exc, httpx.ConnectError):
        reason = str(exc) or "connection failed"
        if "refused" in reason.lower():
            reason = "connection refused"
        return f"unreachable: {reason}"
    if isinstance(exc, httpx.HTTPError):
        return f"unreachable: {type(exc).__name__}: {exc}"
    return f"failed: {type(exc).__name__}: {exc}"


# --- Alertmanager ----------------------------------------------------------------------------


def check_alertmanager_url(label: str, url: str) -> Check:
    try:
        with httpx.Client(timeout=TIMEOUT) as client:
            response = client.get(f"{url}/api/v2/status")
    except Exception as exc:
        return Check(label, FAIL, f"{url}: {_http_error(exc)}")
    if response.status_code in (401, 403):
        return Check(label, FAIL, f"{url}: HTTP {response.status_code} (a proxy refused access)")
    if response.status_code != 200:
        return Check(label, FAIL, f"{url}: HTTP {response.status_code} from /api/v2/status")
    try:
        body = response.json()
        version = body.get("versionInfo", {}).get("version", "?")
        cluster = body.get("cluster", {}) or {}
        status = cluster.get("status", "?")
        peers = len(cluster.get("peers") or [])
    except (ValueError, AttributeError):
        return Check(label, FAIL, f"{url}: /api/v2/status is not Alertmanager's JSON")
    detail = f"{url}: Alertmanager {version}, cluster {status}"
    if status == "ready":
        detail += f" ({peers} peer{'s' if peers != 1 else ''})"
    # settling: gossip not converged yet, acks may be briefly invisible on the other peers
    return Check(label, WARN if status == "settling" else OK, detail)


def _alertmanager_checks(config: Config) -> list[Callable[[], Check]]:
    if config.alertmanager is None:
        return [lambda: Check("alertmanager", SKIP, "not configured", required=False)]
    jobs: list[Callable[[], Check]] = []
    for cluster in config.alertmanager.clusters:
        label = f"alertmanager {cluster.name}".strip()
        for url in cluster.urls:
            jobs.append(functools.partial(check_alertmanager_url, label, url))
    return jobs


# --- RabbitMQ --------------------------------------------------------------------------------


def _rabbit_401(url: str, user: str, response: httpx.Response) -> str:
    try:
        reason = str(response.json().get("reason", ""))
    except (ValueError, AttributeError):
        reason = ""
    if "management" in reason.lower():  # "Not management user": logged in, wrong tags
        return f"{url}: user {user} may not use the management API (needs the monitoring tag)"
    return f"{url}: authentication refused for user {user}"


def _no_secret_note(config: Config) -> str:
    rmq = config.rabbitmq
    return "" if rmq is None or rmq.password_secret else " (no rabbitmq.password_secret set)"


def check_rabbitmq_management(config: Config, resolver: SecretResolver) -> list[Check]:
    rmq = config.rabbitmq
    assert rmq is not None
    url, user = rmq.management_url, rmq.username
    if rmq.password_secret:
        found = resolver.lookup(rmq.password_secret)
        if found is None:
            return [
                Check(
                    "rabbitmq management",
                    FAIL,
                    f"{url}: password secret {rmq.password_secret!r} does not resolve "
                    f"(set {env_var_name(rmq.password_secret)} or "
                    f"`cockpit secrets set {rmq.password_secret}`)",
                )
            ]
        password = found.value
    else:
        password = ""  # as the cockpit itself will log in (cockpit.runtime)
    checks: list[Check] = []
    try:
        with httpx.Client(timeout=TIMEOUT, auth=(user, password)) as client:
            response = client.get(f"{url}/api/overview")
            if response.status_code == 401:
                detail = _rabbit_401(url, user, response) + _no_secret_note(config)
                return [Check("rabbitmq management", FAIL, detail)]
            if response.status_code != 200:
                return [
                    Check(
                        "rabbitmq management",
                        FAIL,
                        f"{url}: HTTP {response.status_code} from /api/overview",
                    )
                ]
            overview = response.json()
            detail = (
                f"{url}: RabbitMQ {overview.get('rabbitmq_version', '?')}, "
                f"cluster {overview.get('cluster_name', '?')}, user {user} authenticated"
            )
            checks.append(Check("rabbitmq management", OK, detail))
            alarms = client.get(f"{url}/api/health/checks/alarms")
            if alarms.status_code == 200:
                checks.append(Check("rabbitmq alarms", OK, "no memory or disk alarm"))
            elif alarms.status_code == 503:
                active = alarms.json().get("alarms") or []
                what = ", ".join(
                    f"{a.get('resource', '?')} on {a.get('node', '?')}" for a in active
                )
                checks.append(
                    Check(
                        "rabbitmq alarms",
                        WARN,
                        f"active: {what or 'see the management UI'} (publishers are blocked)",
                        required=False,
                    )
                )
            else:
                checks.append(
                    Check(
                        "rabbitmq alarms",
                        WARN,
                        f"HTTP {alarms.status_code} from /api/health/checks/alarms",
                        required=False,
                    )
                )
            if rmq.vhost:
                # GET /api/vhosts/NAME is admin-only; the list shows what this user may see
                listed = client.get(f"{url}/api/vhosts", params={"columns": "name"})
                names = (
                    {v.get("name") for v in listed.json()} if listed.status_code == 200 else set()
                )
                if rmq.vhost in names:
                    checks.append(Check("rabbitmq vhost", OK, f"{rmq.vhost!r} exists"))
                else:
                    checks.append(
                        Check(
                            "rabbitmq vhost",
                            FAIL,
                            f"{rmq.vhost!r}: no such vhost, or user {user} has no permission there",
                        )
                    )
    except (ValueError, AttributeError):
        checks.append(Check("rabbitmq management", FAIL, f"{url}: not the management API's JSON"))
    except Exception as exc:
        checks.append(Check("rabbitmq management", FAIL, f"{url}: {_http_error(exc)}"))
    return checks


def amqp_endpoint(config: Config) -> tuple[str, int, bool]:
    """(host, port, explicit) of the AMQP listener; derived from management_url when unset."""
    rmq = config.rabbitmq
    assert rmq is not None
    if rmq.amqp_url:
        parts = urlsplit(rmq.amqp_url)
        default = 5671 if parts.scheme == "amqps" else 5672
        return parts.hostname or "localhost", parts.port or default, True
    return urlsplit(rmq.management_url).hostname or "localhost", 5672, False


def check_amqp_port(config: Config) -> Check:
    try:
        host, port, explicit = amqp_endpoint(config)
    except ValueError as exc:
        return Check("rabbitmq amqp", FAIL, f"bad amqp_url: {exc}")
    where = f"{host}:{port}" + ("" if explicit else " (derived: set rabbitmq.amqp_url)")
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT):
            pass
    except TimeoutError:
        return Check("rabbitmq amqp", FAIL, f"{where}: no answer within {TIMEOUT:g} s", explicit)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return Check("rabbitmq amqp", FAIL if explicit else WARN, f"{where}: {reason}", explicit)
    return Check("rabbitmq amqp", OK, f"{where}: TCP port open")


def _rabbitmq_checks(config: Config, resolver: SecretResolver) -> list[Callable[[], Any]]:
    if config.rabbitmq is None:
        return [lambda: Check("rabbitmq", SKIP, "not configured", required=False)]
    return [lambda: check_rabbitmq_management(config, resolver), lambda: check_amqp_port(config)]


# --- Kubernetes ------------------------------------------------------------------------------


class _HTTPStatus(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


def check_kubernetes(config: Config) -> Check:
    kube = config.kubernetes
    if kube is None:
        return Check("kubernetes", SKIP, "not configured", required=False)
    try:
        from kubernetes import client as k8s_client  # lazy: ~0.4 s and ~35 MB
        from kubernetes import config as k8s_config
    except ImportError:
        return Check("kubernetes", FAIL, "the kubernetes client library is not installed")
    if kube.kubeconfig and not Path(kube.kubeconfig).exists():
        return Check("kubernetes", FAIL, f"kubeconfig {kube.kubeconfig} does not exist")
    cfg = k8s_client.Configuration()
    source = kube.kubeconfig or os.environ.get("KUBECONFIG", "") or "~/.kube/config"
    try:
        if (
            not kube.kubeconfig
            and not os.environ.get("KUBECONFIG")
            and not Path("~/.kube/config").expanduser().exists()
            and os.environ.get("KUBERNETES_SERVICE_HOST")
        ):
            k8s_config.load_incluster_config(client_configuration=cfg)
            source = "in-cluster service account"
        else:
            k8s_config.load_kube_config(
                config_file=kube.kubeconfig or None,
                context=kube.context or None,
                client_configuration=cfg,
                persist_config=False,
            )
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Check("kubernetes", FAIL, f"cannot load kubeconfig {source}: {reason}")
    cfg.retries = 0  # one attempt: urllib3 would otherwise retry 3 times per timeout
    context = kube.context or "current context"
    try:
        with k8s_client.ApiClient(cfg) as api:
            # GET /version as kubectl does (VersionApi asks for /version/, which not every
            # server or emulator answers)
            request = api.param_serialize("GET", "/version", auth_settings=["BearerToken"])
            response: Any = api.call_api(*request, _request_timeout=TIMEOUT)
            response.read()
            if response.status != 200:
                raise _HTTPStatus(response.status)
            version = json.loads(response.data).get("gitVersion", "?")
    except Exception as exc:
        status = getattr(exc, "status", None)
        if status == 401:
            reason = "authentication refused (401): credentials expired?"
        elif status == 403:
            reason = "forbidden (403) on GET /version"
        elif status:
            reason = f"HTTP {status} from /version"
        else:
            reason = f"unreachable: {type(exc).__name__}"
        return Check("kubernetes", FAIL, f"{cfg.host} ({context}): {reason}")
    namespaces = ", ".join(kube.namespaces) or "all namespaces"
    return Check("kubernetes", OK, f"{cfg.host} ({context}): {version}, watching {namespaces}")


# --- status page and pager ---------------------------------------------------------------------


def static_page_directory(config: Config) -> Path:
    return Path(config.statuspage.directory or data_dir() / "statuspage")


def check_statuspage(config: Config, resolver: SecretResolver) -> Check:
    sp = config.statuspage
    if not config.statuspage_configured:
        return Check("status page", SKIP, "not configured", required=False)
    if sp.kind == "static":
        directory = static_page_directory(config)
        probe = directory
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent  # it will be created: the nearest existing parent must be writable
        if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
            return Check("status page", FAIL, f"static: {directory} is not writable")
        created = "" if directory.exists() else " (will be created)"
        return Check("status page", OK, f"static: {directory} writable{created}")
    found = resolver.lookup(sp.api_key_secret)
    if found is None:
        return Check(
            "status page",
            FAIL,
            f"statuspage.io page {sp.page_id}: api key secret {sp.api_key_secret!r} does not "
            "resolve",
        )
    return Check(
        "status page", OK, f"statuspage.io page {sp.page_id}: api key from {describe_source(found)}"
    )


def check_pager(config: Config, resolver: SecretResolver) -> Check:
    pager = config.pager
    if pager is None:
        return Check("pager", SKIP, "not configured", required=False)
    if pager.kind == "alertmanager":
        return Check("pager", OK, "pages through Alertmanager (see the alertmanager rows)")
    missing = [team for team, secret in pager.teams.items() if resolver.lookup(secret) is None]
    if missing:
        return Check(
            "pager", FAIL, f"pagerduty: routing key missing for team(s) {', '.join(missing)}"
        )
    return Check("pager", OK, f"pagerduty: routing keys for {', '.join(pager.teams)} resolve")


# --- Jira ----------------------------------------------------------------------------------------


def check_jira(config: Config, resolver: SecretResolver) -> list[Check]:
    """GET /myself (the token works), then each project: it exists and has the issue type."""
    jira = config.jira
    if jira is None:
        return [Check("jira", SKIP, "not configured", required=False)]
    found = resolver.lookup(jira.api_token_secret)
    if found is None:
        return [
            Check(
                "jira",
                FAIL,
                f"{jira.url}: token secret {jira.api_token_secret!r} does not resolve "
                f"(set {env_var_name(jira.api_token_secret)} or "
                f"`cockpit secrets set {jira.api_token_secret}`)",
            )
        ]
    import asyncio
    import dataclasses
    from datetime import timedelta

    quick = dataclasses.replace(jira, timeout=timedelta(seconds=TIMEOUT))
    return asyncio.run(_jira_checks(quick, found.value))


async def _jira_checks(jira: Any, token: str) -> list[Check]:
    from cockpit.backends.base import BackendError, NotFound
    from cockpit.backends.jira import JiraTracker

    tracker = JiraTracker(jira, token=token)
    api = "Cloud REST v3" if jira.api_version == 3 else "Data Center REST v2"
    try:
        try:
            me = await tracker.myself()
        except BackendError as exc:
            return [Check("jira", FAIL, str(exc))]
        who = str(me.get("displayName") or "?")
        email = me.get("emailAddress")
        checks = [
            Check(
                "jira",
                OK,
                f"{jira.url} ({api}): signed in as {who}" + (f" <{email}>" if email else ""),
            )
        ]
        projects = dict.fromkeys([p for p in (jira.project, *jira.teams.values()) if p])
        for key in projects:
            teams = [t for t, k in jira.teams.items() if k == key]
            used_by = f" (teams {', '.join(teams)})" if teams else " (default)"
            try:
                types = await tracker.project_issue_types(key)
            except NotFound:
                who_may = jira.email or "the token's user"
                checks.append(
                    Check(
                        f"jira project {key}",
                        FAIL,
                        f"no such project{used_by}, or {who_may} may not browse it",
                    )
                )
                continue
            except BackendError as exc:
                checks.append(Check(f"jira project {key}", FAIL, str(exc)))
                continue
            if jira.issue_type in types:
                detail = f"exists{used_by}; issue type {jira.issue_type!r} is in it"
                checks.append(Check(f"jira project {key}", OK, detail))
            else:
                has = ", ".join(types) or "none"
                checks.append(
                    Check(
                        f"jira project {key}",
                        FAIL,
                        f"no issue type {jira.issue_type!r}{used_by}: it has {has} "
                        "(set jira.issue_type)",
                    )
                )
        return checks
    finally:
        await tracker.close()


# --- secrets, keyring, config file, terminal ----------------------------------------------------


def check_secrets(config: Config, resolver: SecretResolver) -> list[Check]:
    checks = []
    for name in dict.fromkeys(n for n, _ in secret_uses(config)):
        found = resolver.lookup(name)
        if found is None:
            checks.append(Check(f"secret {name}", FAIL, resolver.explain(name)))
        else:
            checks.append(Check(f"secret {name}", OK, f"from {describe_source(found)}"))
    return checks


def check_keyring(timeout: float) -> Check:
    usable, detail = keyring_status(timeout)
    return Check("keyring", OK if usable else WARN, detail, required=False)


def config_permission_warning(config: Config) -> str | None:
    """A warning when the config file naming secrets is open to group/others, else None."""
    if config.path is None:
        return None
    try:
        mode = stat.S_IMODE(os.stat(config.path).st_mode)
    except OSError:
        return None
    if mode & 0o022:
        # whoever can edit it can point a password at their own server
        return (
            f"{config.path} is writable by group/others (mode {mode:04o}): chmod 600 {config.path}"
        )
    if mode & 0o044 and config.secret_names():
        return (
            f"{config.path} names secrets and is readable by group/others (mode {mode:04o}): "
            f"chmod 600 {config.path}"
        )
    return None


def colour_depth(env: Mapping[str, str]) -> str:
    term = env.get("TERM", "")
    if env.get("COLORTERM", "").lower() in ("truecolor", "24bit"):
        return "24-bit (truecolor)"
    if term.endswith("256color") or "256" in term:
        return "256 colours"
    if term in ("", "dumb"):
        return "none"
    return "16 or 8 colours"


def check_terminal(env: Mapping[str, str], out: IO[str]) -> list[Check]:
    size = shutil.get_terminal_size((0, 0))
    is_tty = hasattr(out, "isatty") and out.isatty()
    checks = []
    if size.columns == 0 or size.lines == 0:
        checks.append(Check("terminal size", WARN, "unknown (not a terminal)", required=False))
    elif size.columns < 80 or size.lines < 24:
        checks.append(
            Check(
                "terminal size",
                WARN,
                f"{size.columns}x{size.lines}: the cockpit needs at least 80x24",
                required=False,
            )
        )
    else:
        note = "" if is_tty else " (output is not a terminal)"
        checks.append(Check("terminal size", OK, f"{size.columns}x{size.lines}{note}"))
    term = env.get("TERM", "")
    depth = colour_depth(env)
    if term in ("", "dumb"):
        checks.append(
            Check(
                "terminal",
                WARN,
                f"TERM={term or '(unset)'}: a full-screen UI needs a real terminal",
                required=False,
            )
        )
    else:
        colorterm = env.get("COLORTERM", "")
        extra = f", COLORTERM={colorterm}" if colorterm else ""
        checks.append(Check("terminal", OK, f"TERM={term}{extra}: {depth}"))
    if "NO_COLOR" in env:
        checks.append(Check("NO_COLOR", OK, "set: the cockpit uses no colour", required=False))
    else:
        checks.append(Check("NO_COLOR", OK, "not set", required=False))
    return checks


# --- the report ------------------------------------------------------------------------------


# --- the incident store -------------------------------------------------------------------


def check_store(config: Config, resolver: SecretResolver) -> list[Check]:
    """SQLite: the file's folder is writable. PostgreSQL: reachable, migrated, LISTEN works."""
    store = config.store
    if store.kind != "postgresql":
        folder = Path(config.store_path).parent
        if config.store_path == ":memory:" or os.access(folder, os.W_OK) or not folder.exists():
            return [Check("store", OK, f"sqlite {config.store_path}", required=False)]
        return [Check("store", FAIL, f"sqlite {config.store_path}: {folder} is not writable")]
    from cockpit.incident.postgres.connection import Target
    from cockpit.incident.postgres.diagnose import diagnose_now

    password = ""
    if store.password_secret:
        found = resolver.lookup(store.password_secret)
        if found is None:
            return [Check("store", FAIL, f"secret {store.password_secret} does not resolve")]
        password = str(found.value)
    target = Target(store.dsn, password, connect_timeout=TIMEOUT)
    found_ = diagnose_now(target)
    where = f"postgresql {target.describe()}"
    if not found_.reachable:
        return [Check("store", FAIL, found_.problem)]
    checks = [Check("store", OK, f"{where} ({found_.server})")]
    if found_.problem:
        checks.append(Check("store schema", FAIL, found_.problem))
        return checks
    if found_.version == found_.latest:
        checks.append(Check("store schema", OK, f"migrated (version {found_.version})"))
    elif found_.version < found_.latest:
        checks.append(
            Check(
                "store schema",
                WARN,
                f"version {found_.version} of {found_.latest}: the cockpit migrates it when it "
                "starts (the database user needs CREATE on it)",
                required=False,
            )
        )
    else:
        checks.append(
            Check(
                "store schema",
                WARN,
                f"version {found_.version} is newer than this cockpit ({found_.latest}): "
                "upgrade the cockpit",
                required=False,
            )
        )
    if found_.listen_ms is None:
        checks.append(
            Check("store live", FAIL, "LISTEN/NOTIFY: no notification came back within 2 s")
        )
    else:
        checks.append(
            Check("store live", OK, f"LISTEN/NOTIFY round trip {found_.listen_ms:.1f} ms")
        )
    return checks


def check_runbooks(config: Config) -> Check:
    """[runbooks]: the directory exists, and every [runbooks.alerts] file is there."""
    rb = config.runbooks
    if not rb.directory and not rb.alerts:
        return Check("runbooks", SKIP, "no [runbooks] directory: runbook_url only", False)
    directory = Path(rb.directory).expanduser() if rb.directory else None
    if directory is not None and not directory.is_dir():
        return Check("runbooks", WARN, f"directory {directory} does not exist", False)
    missing = []
    for name, target in sorted(rb.alerts.items()):
        if re.match(r"^(https?|file)://", target):
            continue
        path = Path(target).expanduser()
        if not path.is_absolute():
            path = (directory or Path(".")) / path
        if not path.is_file():
            missing.append(f"{name} -> {path}")
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        return Check("runbooks", WARN, "missing: " + ", ".join(missing[:3]) + more, False)
    found = len(list(directory.glob("*.md"))) if directory is not None else 0
    where = f"{found} in {directory}" if directory is not None else "no directory"
    return Check("runbooks", OK, f"{where}, {len(rb.alerts)} mapped by [runbooks.alerts]", False)


def run_checks(
    config: Config,
    resolver: SecretResolver,
    *,
    env: Mapping[str, str],
    out: IO[str],
    keyring_timeout: float = 3.0,
) -> list[Check]:
    # network checks in parallel: the slowest dead host, not their sum, sets the wait
    jobs: list[Callable[[], Any]] = [
        *_alertmanager_checks(config),
        *_rabbitmq_checks(config, resolver),
        lambda: check_kubernetes(config),
        lambda: check_statuspage(config, resolver),
        lambda: check_pager(config, resolver),
        lambda: check_jira(config, resolver),
        lambda: check_store(config, resolver),
        lambda: check_runbooks(config),
    ]
    checks: list[Check] = []
    with ThreadPoolExecutor(max_workers=min(8, len(jobs))) as pool:
        for result in pool.map(_guarded, jobs):
            checks.extend(result if isinstance(result, list) else [result])
    if resolver.keyring_problem is not None:  # already timed out once: do not wait again
        checks.append(
            Check("keyring", WARN, f"{resolver.keyring_problem}: {keyring_hint()}", False)
        )
    else:
        checks.append(check_keyring(keyring_timeout))
    checks.extend(check_secrets(config, resolver))
    warning = config_permission_warning(config)
    if warning:
        checks.append(Check("config file", WARN, warning, required=False))
    elif config.path is not None:
        checks.append(Check("config file", OK, f"{config.path} (env {config.env})"))
    checks.extend(check_terminal(env, out))
    return checks


def _guarded(job: Callable[[], Any]) -> Any:
    try:
        return job()
    except Exception as exc:  # a bug in one check must not hide the others
        return Check("doctor", FAIL, f"check crashed: {type(exc).__name__}: {exc}")


def format_table(checks: list[Check]) -> str:
    rows = [("CHECK", "VERDICT", "DETAIL")] + [(c.name, c.verdict, c.detail) for c in checks]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    lines = [f"{r[0]:<{w0}}  {r[1]:<{w1}}  {r[2]}".rstrip() for r in rows]
    return redact("\n".join(lines))


def doctor_main(
    config: Config,
    *,
    resolver: SecretResolver | None = None,
    out: IO[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Print the checks as a table; 1 when a required check fails, else 0."""
    # sys.stdout when called, not when imported (a test's capture replaces it meanwhile)
    out = sys.stdout if out is None else out
    env = os.environ if env is None else env
    resolver = resolver or SecretResolver(env=env, prompt=False)
    where = f", config {config.path}" if config.path else ""
    print(f"cockpit doctor: environment {config.env}{where}\n", file=out)
    checks = run_checks(
        config, resolver, env=env, out=out, keyring_timeout=resolver.keyring_timeout
    )
    print(format_table(checks), file=out)
    failed = [c for c in checks if c.failed]
    warned = [c for c in checks if c.verdict == WARN]
    if failed:
        print(
            f"\n{len(failed)} required check(s) failed: {', '.join(c.name for c in failed)}",
            file=out,
        )
        return 1
    print(f"\nall required checks passed ({len(warned)} warning(s))", file=out)
    return 0
