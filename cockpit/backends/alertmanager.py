"""Alertmanager (API v2 over httpx): the alert source, karma-style acks, and the default pager.

Members of one cluster are HA peers: reads go to every member and are merged (alerts
deduped by fingerprint, silences by id); silence writes go to the first member that
answers, because peers gossip silences. Separate clusters are tagged on every alert.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
import socket
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any, TypeVar

import httpx

from cockpit.backends.alertmanager_parse import (
    Matcher,
    RawSilence,
    ShapeError,
    ack_for,
    format_time,
    merge_groups,
    merge_silences,
    parse_groups,
    parse_groups_body,
    parse_silence,
    parse_silences,
)
from cockpit.backends.base import (
    AuthError,
    BackendError,
    BadResponse,
    Forbidden,
    NotFound,
    RateLimited,
    Unreachable,
)
from cockpit.backends.http import BoundedHTTP, DeadlineExceeded, retry_after, tls_context
from cockpit.clock import Clock, SystemClock
from cockpit.config import AlertmanagerCluster, AlertmanagerConfig
from cockpit.domain import ActionResult, AlertGroup, Escalation, Silence, SourceHealth

T = TypeVar("T")

ACK_PREFIX = "ACK!"
ESCALATION_ALERTNAME = "CockpitEscalation"
_REASON_MAX = 120


def _one_line(text: str, limit: int = _REASON_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shown(url: str) -> str:
    """The URL without user:password@, so a message never carries a secret."""
    return re.sub(r"//[^/@]*@", "//", url)


def _error(cls: type[BackendError], url: str, detail: str) -> BackendError:
    exc = cls(f"alertmanager {_shown(url)}: {detail}")
    exc.detail = detail  # type: ignore[attr-defined]  # kept to build cluster-wide messages
    return exc


def _transport_detail(exc: Exception, timeout: float) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"timed out connecting after {timeout:g}s"
    if isinstance(exc, DeadlineExceeded) and exc.slow_body:
        return f"no complete answer within {timeout:g}s (the body is too slow)"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {timeout:g}s"
    # httpx wraps the socket error ("All connection attempts failed"): find the real cause
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "host not found"
        if isinstance(cause, OSError) and cause.errno and cause.strerror:
            return _one_line(cause.strerror[0].lower() + cause.strerror[1:])
        cause = cause.__cause__ or cause.__context__
    text = str(exc) or type(exc).__name__
    low = text.lower()
    if "refused" in low:
        return "connection refused"
    if "name or service not known" in low or "nodename nor servname" in low:
        return "host not found"
    if "reset by peer" in low:
        return "connection reset"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the server closed the connection without an answer"
    return _one_line(re.sub(r"^\[Errno -?\d+\]\s*", "", text))


def _http_reason(resp: httpx.Response) -> str:
    """A short reason from an error body: Alertmanager sends a JSON string or {message}."""
    if "html" in resp.headers.get("content-type", ""):
        return ""  # a proxy's error page says nothing the status line does not
    try:
        text = resp.text
    except Exception:
        return ""
    try:
        body = json.loads(text)
    except ValueError:
        return _one_line(text)
    if isinstance(body, str):
        return _one_line(body)
    if isinstance(body, dict):
        for field in ("message", "error", "reason"):
            if isinstance(body.get(field), str):
                return _one_line(body[field])
    return _one_line(text)


def _status_error(resp: httpx.Response, url: str, path: str) -> BackendError:
    exc = _status_error_for(resp, url, path)
    exc.status = resp.status_code  # type: ignore[attr-defined]
    return exc


def _status_error_for(resp: httpx.Response, url: str, path: str) -> BackendError:
    code = resp.status_code
    reason = _http_reason(resp)
    detail = f"HTTP {code} {resp.reason_phrase} from {path}".rstrip()
    if reason:
        detail += f": {reason}"
    if code == 401:
        return _error(AuthError, url, detail)
    if code == 403:
        return _error(Forbidden, url, detail)
    # Alertmanager 0.25 answers 500 "silence not found" when deleting an unknown id
    if code == 404 or (code == 500 and reason.lower().strip('"') == "silence not found"):
        return _error(NotFound, url, detail)
    if code == 429:
        retry = retry_after(resp.headers, 5.0)
        detail += f", retry in {retry:g}s"
        exc = RateLimited(f"alertmanager {_shown(url)}: {detail}", retry)
        exc.detail = detail  # type: ignore[attr-defined]
        return exc
    return _error(BadResponse, url, detail)


def _combined(cluster: AlertmanagerCluster, errors: list[BackendError]) -> BackendError:
    """One error for a cluster where no member answered."""
    if len(errors) == 1:
        return errors[0]
    cls: type[BackendError] = Unreachable
    for exc in errors:
        if not isinstance(exc, Unreachable) and not isinstance(exc, RateLimited):
            cls = type(exc)
            break
    parts = "; ".join(
        f"{_shown(url)}: {getattr(exc, 'detail', str(exc))}"
        for url, exc in zip(cluster.urls, errors, strict=False)
    )
    label = f"cluster {cluster.name}" if cluster.name else "cluster"
    return cls(f"alertmanager {label}: no member answered ({parts})")


class AlertmanagerApi:
    """The HTTP layer both the source and the pager use: one shared client, clear errors."""

    def __init__(
        self, config: AlertmanagerConfig, *, http: httpx.AsyncClient | None = None
    ) -> None:
        if not config.clusters:
            raise ValueError("AlertmanagerConfig needs at least one cluster")
        self.config = config
        self.timeout = config.timeout.total_seconds()
        self._owns_http = http is None
        # the configured timeout bounds each read and, as a deadline, the whole request
        self.http = BoundedHTTP(
            http
            or httpx.AsyncClient(
                verify=tls_context(),
                timeout=httpx.Timeout(self.timeout),
                headers={"User-Agent": "cockpit", "Accept": "application/json"},
            ),
            deadline=self.timeout,
            what="alertmanager",
        )

    @property
    def clusters(self) -> tuple[AlertmanagerCluster, ...]:
        return self.config.clusters

    def cluster(self, name: str) -> AlertmanagerCluster:
        for cluster in self.clusters:
            if cluster.name == name:
                return cluster
        if not name and len(self.clusters) == 1:
            return self.clusters[0]
        known = ", ".join(c.name or "(unnamed)" for c in self.clusters)
        raise NotFound(f"alertmanager: no cluster named {name!r} (configured: {known})")

    async def request(
        self,
        url: str,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """One call to one member; returns parsed JSON (None for an empty body)."""
        return self.decode(await self.fetch(url, method, path, body=body, params=params), url, path)

    async def fetch(
        self,
        url: str,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> bytes:
        """One call to one member; its raw body (a poll can skip a body it has seen)."""
        try:
            resp = await self.http.request(method, url.rstrip("/") + path, json=body, params=params)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise _error(Unreachable, url, _transport_detail(exc, self.timeout)) from None
        except OSError as exc:  # e.g. a socket error httpx did not wrap
            raise _error(Unreachable, url, _one_line(exc.strerror or str(exc))) from None
        except BackendError as exc:  # a body past the size limit
            raise _error(type(exc), url, str(exc)) from None
        if resp.status_code >= 400:
            raise _status_error(resp, url, path)
        return resp.content

    def decode(self, content: bytes, url: str, path: str) -> Any:
        if not content.strip():
            return None
        try:
            return json.loads(content)
        except RecursionError:
            raise _error(BadResponse, url, f"JSON nested too deep from {path}") from None
        except (ValueError, UnicodeDecodeError):
            raise _error(BadResponse, url, f"malformed JSON from {path}") from None

    async def read_all(
        self, cluster: AlertmanagerCluster, fetch: Callable[[str], Awaitable[T]]
    ) -> list[T]:
        """fetch() on every member at once; the answers of those that answered."""
        results = await asyncio.gather(
            *(self._guard(fetch, url) for url in cluster.urls), return_exceptions=True
        )
        answers: list[T] = []
        errors: list[BackendError] = []
        for result in results:
            if isinstance(result, BackendError):
                errors.append(result)
            elif isinstance(result, BaseException):
                raise result
            else:
                answers.append(result)
        if not answers:
            raise _combined(cluster, errors)
        return answers

    async def first(
        self, cluster: AlertmanagerCluster, fetch: Callable[[str], Awaitable[T]]
    ) -> tuple[str, T]:
        """fetch() on members in order until one answers: (its url, its answer).

        A member that is down or failing (5xx) is skipped; a 4xx is the same everywhere and
        is raised at once."""
        errors: list[BackendError] = []
        for url in cluster.urls:
            try:
                return url, await self._guard(fetch, url)
            except (Unreachable, RateLimited) as exc:
                errors.append(exc)
            except BadResponse as exc:
                if getattr(exc, "status", 500) < 500:
                    raise  # a 4xx: the request itself is wrong, another member says the same
                errors.append(exc)
        raise _combined(cluster, errors)

    async def _guard(self, fetch: Callable[[str], Awaitable[T]], url: str) -> T:
        try:
            return await fetch(url)
        except ShapeError as exc:
            raise _error(BadResponse, url, f"unexpected answer: {_one_line(str(exc))}") from None

    async def close(self) -> None:
        if self._owns_http:
            await self.http.aclose()


class AlertmanagerSource:
    """AlertSource over one or more Alertmanager clusters."""

    name = "alerts"

    def __init__(
        self,
        config: AlertmanagerConfig,
        *,
        clock: Clock,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.api = AlertmanagerApi(config, http=http)
        # per member url: (digest of the raw bodies, cluster, what they parsed to)
        self._snapshots: dict[str, tuple[bytes, str, Any]] = {}
        # per cluster: (the member snapshots merged, the groups they made)
        self._cluster_results: dict[str, tuple[list[Any], list[AlertGroup]]] = {}
        self._last_groups: list[AlertGroup] = []

    # ------------------------------------------------------------------ reads

    async def _silences(self, url: str) -> list[RawSilence]:
        return parse_silences(await self.api.request(url, "GET", "/api/v2/silences"))

    async def _member_snapshot(
        self, url: str, cluster: str
    ) -> tuple[list[AlertGroup], list[RawSilence]]:
        answers: tuple[Any, ...] = await asyncio.gather(
            self.api.fetch(
                url,
                "GET",
                "/api/v2/alerts/groups",
                # acked (silenced) and inhibited alerts must still show
                params={"active": "true", "silenced": "true", "inhibited": "true"},
            ),
            self.api.fetch(url, "GET", "/api/v2/silences"),
            return_exceptions=True,
        )
        for result in answers:  # report the groups failure first, every time
            if isinstance(result, BaseException):
                raise result
        groups, silences = answers
        # the same bytes as last poll: the same objects, unparsed (2,000 alerts cost ~100 ms
        # to parse, and unchanged objects let the panel skip its work too)
        digest = hashlib.blake2b(groups + b"\0" + silences, digest_size=16).digest()
        seen = self._snapshots.get(url)
        if seen is not None and seen[0] == digest and seen[1] == cluster:
            return seen[2]
        # parsed per member, so a member answering nonsense counts as a failed member; a
        # body of the documented shape the fast way, any other the general way
        parsed = parse_groups_body(groups, cluster)
        if parsed is None:
            parsed = parse_groups(self.api.decode(groups, url, "/api/v2/alerts/groups"), cluster)
        snapshot = (parsed, parse_silences(self.api.decode(silences, url, "/api/v2/silences")))
        self._snapshots[url] = (digest, cluster, snapshot)
        return snapshot

    async def _cluster_groups(self, cluster: AlertmanagerCluster) -> list[AlertGroup]:
        snapshots = await self.api.read_all(
            cluster, lambda url: self._member_snapshot(url, cluster.name)
        )
        seen = self._cluster_results.get(cluster.name)
        if (
            seen is not None
            and len(seen[0]) == len(snapshots)
            and all(a is b for a, b in zip(seen[0], snapshots, strict=True))
        ):
            return seen[1]  # every member answered what it answered last time
        out = self._merge_cluster(snapshots)
        self._cluster_results[cluster.name] = (snapshots, out)
        return out

    def _merge_cluster(
        self, snapshots: list[tuple[list[AlertGroup], list[RawSilence]]]
    ) -> list[AlertGroup]:
        groups = merge_groups([g for g, _ in snapshots])
        silences = merge_silences([s for _, s in snapshots])
        out = []
        for group in groups:
            ack = ack_for(group, silences)
            if ack is not None:
                group = AlertGroup(
                    key=group.key,
                    labels=group.labels,
                    alerts=group.alerts,
                    receiver=group.receiver,
                    ack=ack,
                    cluster=group.cluster,
                )
            out.append(group)
        return out

    async def groups(self) -> list[AlertGroup]:
        """Every cluster's groups. A group equal to last poll's is last poll's object, and
        when nothing changed the list itself is the same: the screen redraws nothing."""
        results = await asyncio.gather(
            *(self._cluster_groups(c) for c in self.api.clusters), return_exceptions=True
        )
        out: list[AlertGroup] = []
        for result in results:
            if isinstance(result, BaseException):
                raise result
            out.extend(result)
        last = self._last_groups
        if len(out) == len(last) and all(a is b for a, b in zip(out, last, strict=True)):
            return last
        before = {g.key: g for g in last}
        kept = [old if (old := before.get(g.key)) is not None and old == g else g for g in out]
        if len(kept) == len(last) and all(a is b for a, b in zip(kept, last, strict=True)):
            return last
        self._last_groups = kept
        return kept

    # ------------------------------------------------------------------ acks

    async def ack(
        self, group: AlertGroup, *, duration: timedelta, author: str, comment: str
    ) -> Silence:
        cluster = self.api.cluster(group.cluster)
        labels = group.common_labels
        if not labels:
            raise BackendError(
                f"cannot ack {group.name}: its alerts share no label a silence could match on"
            )
        if duration <= timedelta(0):
            raise BackendError(f"cannot ack {group.name}: the ack duration must be positive")
        wanted = frozenset(labels.items())
        matchers = [Matcher(k, v).to_json() for k, v in sorted(labels.items())]
        if not comment.startswith(ACK_PREFIX):
            comment = f"{ACK_PREFIX} {comment}".rstrip()
        # pick the writer by reading its silences: the one that answers gets the whole write
        url, silences = await self.api.first(cluster, self._silences)
        same = sorted(
            (s for s in silences if s.active_ack and s.plain_matcher_set() == wanted),
            key=lambda s: s.silence.ends_at,
            reverse=True,
        )
        now = self.clock.now()
        body: dict[str, Any] = {
            "matchers": matchers,
            "startsAt": format_time(now),
            "endsAt": format_time(now + duration),
            "createdBy": author,
            "comment": comment,
        }
        if same:
            # extend: same id, same matchers and startsAt, so Alertmanager updates in place
            body["id"] = same[0].id
            body["matchers"] = [m.to_json() for m in same[0].matchers]
            body["startsAt"] = same[0].starts_at_raw
        answer = await self.api.request(url, "POST", "/api/v2/silences", body=body)
        new_id = answer.get("silenceID") if isinstance(answer, dict) else None
        if not isinstance(new_id, str) or not new_id:
            raise _error(BadResponse, url, "unexpected answer: no silenceID after creating it")
        # Alertmanager replaces (new id, old one expired) what it cannot update in place;
        # expire any other duplicate so exactly one ack silence stays active
        for dup in same:
            if dup.id != new_id:
                with contextlib.suppress(NotFound):  # already gone is what we want
                    await self.api.request(url, "DELETE", f"/api/v2/silence/{dup.id}")
        raw = await self.api.request(url, "GET", f"/api/v2/silence/{new_id}")
        try:
            return parse_silence(raw).silence
        except ShapeError as exc:
            raise _error(BadResponse, url, f"unexpected answer: {_one_line(str(exc))}") from None

    async def unack(self, silence_id: str) -> None:
        not_found: NotFound | None = None
        for cluster in self.api.clusters:

            async def delete(url: str) -> None:
                await self.api.request(url, "DELETE", f"/api/v2/silence/{silence_id}")

            try:
                await self.api.first(cluster, delete)
                return
            except NotFound as exc:
                not_found = exc  # maybe another cluster holds it
        if len(self.api.clusters) == 1 and not_found is not None:
            raise not_found
        raise NotFound(f"alertmanager: no silence {silence_id} in any cluster")

    # ------------------------------------------------------------------ health

    async def _status(self, url: str) -> str:
        data = await self.api.request(url, "GET", "/api/v2/status")
        if not isinstance(data, dict) or not isinstance(data.get("versionInfo"), dict):
            raise ShapeError("status has no versionInfo")
        version = ""
        info = data.get("versionInfo")
        if isinstance(info, dict) and isinstance(info.get("version"), str):
            version = info["version"]
        cluster = data.get("cluster") if isinstance(data.get("cluster"), dict) else {}
        assert isinstance(cluster, dict)
        state = cluster.get("status") if isinstance(cluster.get("status"), str) else "unknown"
        peers = cluster.get("peers") if isinstance(cluster.get("peers"), list) else []
        assert isinstance(peers, list)
        vtext = (version if version.startswith("v") else f"v{version}") if version else "v?"
        noun = "peer" if len(peers) == 1 else "peers"
        return f"{vtext} cluster {state}, {len(peers)} {noun}"

    async def _cluster_health(self, cluster: AlertmanagerCluster) -> tuple[bool, str]:
        results = await asyncio.gather(
            *(self.api._guard(self._status, url) for url in cluster.urls),
            return_exceptions=True,
        )
        answers = [r for r in results if isinstance(r, str)]
        errors = [r for r in results if isinstance(r, BackendError)]
        for r in results:
            if isinstance(r, BaseException) and not isinstance(r, BackendError):
                raise r
        if not answers:
            return False, str(_combined(cluster, errors))
        detail = answers[0]
        if errors:
            detail += f" ({len(errors)} of {len(cluster.urls)} members down)"
        return True, detail

    async def health(self) -> SourceHealth:
        results = await asyncio.gather(*(self._cluster_health(c) for c in self.api.clusters))
        ok = all(r[0] for r in results)
        if len(results) == 1:
            detail = results[0][1]
        else:
            detail = "; ".join(
                f"{c.name}: {d}" if ok_c else d
                for c, (ok_c, d) in zip(self.api.clusters, results, strict=True)
            )
        return SourceHealth(self.name, ok, _one_line(detail, 300))

    async def close(self) -> None:
        await self.api.close()


# ---------------------------------------------------------------------- pager


def escalation_labels(escalation: Escalation) -> dict[str, str]:
    """Exactly the label set the pager sends; the same incident and team give the same set,
    which Alertmanager treats as the same alert (pressing again does not page twice)."""
    return {
        "alertname": ESCALATION_ALERTNAME,
        "team": escalation.team,
        "incident": escalation.incident_id,
        "severity": escalation.severity,
    }


def _label_summary(labels: Mapping[str, str]) -> str:
    return (
        "{" + ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in labels.items()) + "}"
    )


class AlertmanagerPager:
    """Pager that raises a synthetic CockpitEscalation alert; Alertmanager's routes page."""

    name = "pager"

    def __init__(
        self,
        source_or_config: AlertmanagerSource | AlertmanagerConfig,
        *,
        clock: Clock | None = None,
        http: httpx.AsyncClient | None = None,
        cluster: str | None = None,
        resolve_after: timedelta = timedelta(hours=4),
    ) -> None:
        if isinstance(source_or_config, AlertmanagerSource):
            self.api = source_or_config.api
            self._owns_api = False  # the source closes its own client
            self.clock: Clock = clock or source_or_config.clock
        else:
            self.api = AlertmanagerApi(source_or_config, http=http)
            self._owns_api = True
            self.clock = clock or SystemClock()
        self.cluster_name = cluster
        self.resolve_after = resolve_after

    async def escalate(self, escalation: Escalation) -> ActionResult:
        if not escalation.team.strip():
            return ActionResult.failure("Cannot escalate: no team given")
        if not escalation.incident_id.strip():
            return ActionResult.failure("Cannot escalate: no incident given")
        cluster = (
            self.api.cluster(self.cluster_name)
            if self.cluster_name is not None
            else self.api.clusters[0]
        )
        labels = escalation_labels(escalation)
        now = self.clock.now()
        alert = {
            "labels": labels,
            "annotations": {
                "summary": escalation.summary,
                "latest_note": escalation.latest_note,
                "escalated_by": escalation.escalated_by,
            },
            "startsAt": format_time(now),
            # resolves by itself eventually; pressing again pushes the end out
            "endsAt": format_time(now + self.resolve_after),
        }

        async def post(url: str) -> None:
            await self.api.request(url, "POST", "/api/v2/alerts", body=[alert])

        # alerts are not gossiped: like Prometheus, send to every member; their notification
        # log dedupes the page, and any member that answered is enough
        await self.api.read_all(cluster, post)
        summary = _label_summary(labels)
        return ActionResult.success(
            f"Escalated to team {escalation.team} through Alertmanager", alert=summary
        )

    async def close(self) -> None:
        if self._owns_api:
            await self.api.close()
