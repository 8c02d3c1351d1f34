"""Fuzzing every parser of outside data: any body gives a value of the right types, or one of
the parser's documented errors (BackendError / BadResponse, ShapeError for the Alertmanager
parse layer) with a one-line message. Nothing else: no RecursionError, OverflowError,
TypeError, AttributeError, ValueError, and no PodHealth whose status is a dict.

Bodies are drawn by hypothesis from each API's documented shape with every field allowed to
be any JSON value (wrong types, absurd numbers, deep nesting), plus raw bytes.

Quick profile (part of the test run): tests/unit/test_fuzz.py.
Deep profile (>= 10,000 examples per parser), printing examples and failures per parser:

    .venv/bin/python -m tests.fuzz --deep            # or: --examples 20000, --only rabbitmq
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import enum
import json
import sys
import time
import types
import typing
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cockpit.backends.alertmanager import AlertmanagerSource
from cockpit.backends.alertmanager_parse import (
    ShapeError,
    ack_for,
    parse_groups,
    parse_silences,
    parse_time,
)
from cockpit.backends.base import BackendError
from cockpit.backends.http import loads_json
from cockpit.backends.kubernetes import decode_watch_line, parse_pod_list
from cockpit.backends.pagerduty import PagerDutyPager
from cockpit.backends.podstatus import pod_detail, pod_health
from cockpit.backends.rabbitmq import RabbitMQBroker, queue_depth, queue_message
from cockpit.backends.statuspage import StatuspageIO
from cockpit.clock import FrozenClock
from cockpit.config import (
    AlertmanagerCluster,
    AlertmanagerConfig,
    PagerConfig,
    RabbitMQConfig,
    StatusPageConfig,
)
from cockpit.domain import (
    ActionResult,
    AlertGroup,
    CustomerUpdate,
    Escalation,
    Incident,
    IncidentStatus,
    PodDetail,
    PodHealth,
    QueueDepth,
    QueueMessage,
    Severity,
    Silence,
    SourceHealth,
)

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
QUICK_EXAMPLES = 150
DEEP_EXAMPLES = 10_000

# ---------------------------------------------------------------------- strategies

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=6), inner, max_size=2)
    ),
    max_leaves=4,
)
times = (
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat().replace("+00:00", "Z"))
    | st.sampled_from(
        [
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "0001-01-01T00:00:00Z",
            "2026-11-25T03:00:00.123456789Z",
            "yesterday",
            "",
        ]
    )
    | json_values
)
names = st.text(max_size=12) | st.sampled_from(["\x1b]2;x\x1b\\", "[/]", "\u202e"]) | json_values


def fields(**known: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """An object with the documented keys, each present or not, each of the right shape or
    of any JSON type; sometimes not an object at all."""
    shaped = st.fixed_dictionaries({}, optional={k: v | json_values for k, v in known.items()})
    return shaped | json_values


def listing(item: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(item, max_size=3) | json_values


labels = st.dictionaries(st.text(max_size=8), st.text(max_size=8) | json_values, max_size=4)
alert = fields(
    fingerprint=names,
    labels=labels,
    annotations=labels,
    status=fields(state=names, silencedBy=listing(names), inhibitedBy=listing(names)),
    startsAt=times,
    generatorURL=names,
    receivers=listing(fields(name=names)),
)
group = fields(labels=labels, receiver=fields(name=names), alerts=listing(alert))
matcher = fields(name=names, value=names, isRegex=st.booleans(), isEqual=st.booleans())
silence = fields(
    id=names,
    matchers=listing(matcher),
    status=fields(state=st.sampled_from(["active", "expired", "pending"])),
    startsAt=times,
    endsAt=times,
    createdBy=names,
    comment=st.sampled_from(["ACK! x", "other"]) | names,
)
numbers = st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | json_values
queue_item = fields(
    name=names,
    vhost=names,
    messages_ready=numbers,
    messages_unacknowledged=numbers,
    consumers=numbers,
    message_stats=fields(publish_details=fields(rate=numbers)),
    arguments=fields(**{"x-dead-letter-exchange": names}),
    effective_policy_definition=fields(**{"dead-letter-exchange": names}),
)
message_item = fields(
    payload=names,
    payload_encoding=st.sampled_from(["string", "base64"]) | names,
    properties=fields(
        message_id=names, correlation_id=names, content_type=names, headers=json_values
    ),
    redelivered=json_values,
    routing_key=names,
    exchange=names,
)
container_status = fields(
    name=names,
    ready=json_values,
    restartCount=numbers,
    state=fields(
        waiting=fields(reason=names, message=names),
        terminated=fields(reason=names, exitCode=numbers, finishedAt=times),
        running=fields(startedAt=times),
    ),
    lastState=fields(terminated=fields(reason=names, exitCode=numbers, finishedAt=times)),
)
pod = fields(
    metadata=fields(
        name=names,
        namespace=names,
        uid=names,
        creationTimestamp=times,
        deletionTimestamp=times,
        labels=labels,
        ownerReferences=listing(fields(kind=names, name=names, controller=json_values)),
        resourceVersion=names,
    ),
    spec=fields(
        nodeName=names,
        containers=listing(fields(name=names, image=names)),
        initContainers=listing(fields(name=names, restartPolicy=names)),
    ),
    status=fields(
        phase=names,
        reason=names,
        conditions=listing(fields(type=names, status=names)),
        containerStatuses=listing(container_status),
        initContainerStatuses=listing(container_status),
    ),
)
event = fields(
    type=names,
    reason=names,
    message=names,
    count=numbers,
    lastTimestamp=times,
    eventTime=times,
    firstTimestamp=times,
)


def as_bytes(value: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """JSON text of the value, or raw bytes, or something nested absurdly deep."""
    encoded = value.map(lambda v: json.dumps(v, allow_nan=True).encode())
    return (
        encoded
        | st.binary(max_size=64)
        | st.integers(min_value=900, max_value=200_000).map(lambda n: b"[" * n + b"]" * n)
        | st.sampled_from([b"", b"{", b'{"a": 1e999999}', b"\xff\xfe", b"[" * 5000])
    )


# ---------------------------------------------------------------------- type checks


def check_types(value: Any, hint: Any = None, where: str = "value") -> None:
    """Raise TypeError when the value does not have the declared types (dataclass fields)."""
    if hint is None:
        hint = type(value)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        errors = []
        for option in typing.get_args(hint):
            try:
                check_types(value, option, where)
                return
            except TypeError as exc:
                errors.append(str(exc))
        raise TypeError(f"{where}: {type(value).__name__} is none of {hint}")
    if hint is type(None):
        if value is not None:
            raise TypeError(f"{where}: expected None")
        return
    if hint is Any:
        return
    if origin is tuple:
        if not isinstance(value, tuple):
            raise TypeError(f"{where}: expected a tuple, got {type(value).__name__}")
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            for i, item in enumerate(value):
                check_types(item, args[0], f"{where}[{i}]")
        else:
            for i, (item, arg) in enumerate(zip(value, args, strict=False)):
                check_types(item, arg, f"{where}[{i}]")
        return
    if origin in (Mapping, dict, typing.Mapping):
        if not isinstance(value, Mapping):
            raise TypeError(f"{where}: expected a mapping, got {type(value).__name__}")
        key_type, value_type = typing.get_args(hint) or (Any, Any)
        for k, v in value.items():
            check_types(k, key_type, f"{where} key")
            check_types(v, value_type, f"{where}[{k!r}]")
        return
    if origin is list:
        if not isinstance(value, list):
            raise TypeError(f"{where}: expected a list")
        (item_type,) = typing.get_args(hint) or (Any,)
        for i, item in enumerate(value):
            check_types(item, item_type, f"{where}[{i}]")
        return
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(value, hint):
            raise TypeError(f"{where}: expected {hint.__name__}, got {type(value).__name__}")
        hints = typing.get_type_hints(hint)
        for f in dataclasses.fields(hint):
            check_types(getattr(value, f.name), hints[f.name], f"{where}.{f.name}")
        return
    if hint is float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise TypeError(f"{where}: expected a number, got {type(value).__name__}")
        return
    if isinstance(hint, type):
        if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
            raise TypeError(f"{where}: expected {hint.__name__}, got {type(value).__name__}")
        if hint is str and len(value) > 1_000_000:
            raise TypeError(f"{where}: a string of {len(value)} characters")
        if isinstance(hint, enum.EnumMeta):
            return


def check_list(values: Any, cls: type) -> None:
    if not isinstance(values, list):
        raise TypeError(f"expected a list of {cls.__name__}")
    for i, item in enumerate(values):
        check_types(item, cls, f"[{i}]")


def one_line(exc: BaseException) -> None:
    text = str(exc)
    if "\n" in text or not text.strip() or len(text) > 2000:
        raise TypeError(f"error message is not one clear line: {text[:200]!r}")


# ---------------------------------------------------------------------- servers in memory


def served(routes: Callable[[httpx.Request], tuple[int, bytes, dict[str, str]]]) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        status, body, headers = routes(request)
        return httpx.Response(status, content=body, headers=headers)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


_loop = asyncio.new_event_loop()


def run(coro: Any) -> Any:
    return _loop.run_until_complete(coro)


# ---------------------------------------------------------------------- the parsers


def alertmanager_groups(payload: Any) -> None:
    check_list(parse_groups(payload, "c"), AlertGroup)


def alertmanager_silences(payload: Any) -> None:
    for raw in parse_silences(payload):
        check_types(raw.silence, Silence)


def alertmanager_acks(args: tuple[Any, Any]) -> None:
    groups, silences = parse_groups(args[0], ""), parse_silences(args[1])
    for g in groups:
        found = ack_for(g, silences)
        if found is not None:
            check_types(found, Silence)


def alertmanager_time(value: Any) -> None:
    check_types(parse_time(value, "t"), datetime)


def _am_source(http: Any) -> AlertmanagerSource:
    config = AlertmanagerConfig(
        clusters=(AlertmanagerCluster("", ("http://am",)),), timeout=timedelta(seconds=5)
    )
    return AlertmanagerSource(config, clock=FrozenClock(NOW), http=http)


def alertmanager_source(bodies: tuple[bytes, bytes]) -> None:
    def routes(request: httpx.Request) -> tuple[int, bytes, dict[str, str]]:
        body = bodies[0] if "groups" in request.url.path else bodies[1]
        return 200, body, {"content-type": "application/json"}

    source = _am_source(served(routes))
    try:
        check_list(run(source.groups()), AlertGroup)
    finally:
        run(source.close())


def alertmanager_health(body: bytes) -> None:
    source = _am_source(served(lambda r: (200, body, {})))
    try:
        check_types(run(source.health()), SourceHealth)
    finally:
        run(source.close())


def rabbitmq_queue_item(item: Any) -> None:
    if isinstance(item, dict):
        check_types(queue_depth(item), QueueDepth)


def rabbitmq_message_item(item: Any) -> None:
    if isinstance(item, dict):
        check_types(queue_message(0, item), QueueMessage)


def _broker(http: Any) -> RabbitMQBroker:
    return RabbitMQBroker(
        RabbitMQConfig(management_url="http://rabbit"),
        password="pw",
        clock=FrozenClock(NOW),
        quarantine_dir=Path("/nonexistent"),
        http=http,
    )


def rabbitmq_queues(body: bytes) -> None:
    broker = _broker(served(lambda r: (200, body, {})))
    try:
        check_list(run(broker.queues()), QueueDepth)
    finally:
        run(broker.close())


def rabbitmq_peek(body: bytes) -> None:
    broker = _broker(served(lambda r: (200, body, {})))
    try:
        check_list(run(broker.peek(QueueDepth("/", "q", 1, 0, 0), 1)), QueueMessage)
    finally:
        run(broker.close())


def rabbitmq_health(bodies: tuple[bytes, bytes]) -> None:
    broker = _broker(
        served(lambda r: (200, bodies[0] if "overview" in r.url.path else bodies[1], {}))
    )
    try:
        check_types(run(broker.health()), SourceHealth)
    finally:
        run(broker.close())


def kubernetes_pod_list(body: bytes) -> None:
    pods, version = parse_pod_list(body, NOW)
    check_list(pods, PodHealth)
    check_types(version, str)


def kubernetes_watch_line(line: bytes) -> None:
    event_type, obj = decode_watch_line(line)
    check_types(obj, dict)
    if event_type in ("ADDED", "MODIFIED", "DELETED"):
        check_types(pod_health(obj, NOW), PodHealth)


def kubernetes_pod_detail(body: bytes, events_body: bytes) -> None:
    from cockpit.backends.kubernetes import KubernetesCluster

    raw = KubernetesCluster._json(body)
    events = KubernetesCluster._json(events_body)
    check_types(pod_detail_of(raw, events), PodDetail)


def pod_detail_of(raw: Any, events: Any) -> PodDetail:
    """What KubernetesCluster.detail does with the two bodies it reads."""
    from cockpit.backends.kubernetes import events_of

    return pod_detail(raw, events_of(events), NOW)


def _incident() -> Incident:
    return Incident("INC-1", "t", Severity.SEV2, IncidentStatus.INVESTIGATING, "a", NOW)


UPDATE = CustomerUpdate("INC-1", IncidentStatus.INVESTIGATING, "t", "b")


def _page(http: Any) -> StatuspageIO:
    return StatuspageIO(
        StatusPageConfig(kind="statuspage", page_id="p", api_url="http://sp"),
        api_key="fuzz-key-" + str(id(http)),
        clock=FrozenClock(NOW),
        http=http,
        min_interval=0,
    )


def statuspage_post(answer: tuple[int, bytes]) -> None:
    page = _page(served(lambda r: (answer[0], answer[1], {"Retry-After": "999"})))
    try:
        check_types(run(page.post_update(_incident(), UPDATE, remote_id=None)), ActionResult)
    finally:
        run(page.close())


def statuspage_lookup(body: bytes) -> None:
    page = _page(served(lambda r: (200, body, {})))
    try:
        check_types(run(page.find_update(_incident(), UPDATE, remote_id=None)), str | None)
    finally:
        run(page.close())


def pagerduty_answer(answer: tuple[int, bytes, str]) -> None:
    pager = PagerDutyPager(
        PagerConfig(kind="pagerduty", events_url="http://pd"),
        routing_keys={"db": "k" * 32},
        identity="a",
        clock=FrozenClock(NOW),
        http=served(lambda r: (answer[0], answer[1], {"Retry-After": answer[2]})),
    )
    try:
        check_types(run(pager.escalate(Escalation("INC-1", "db", "SEV1", "s"))), ActionResult)
    finally:
        run(pager.close())


def json_body(body: bytes) -> None:
    loads_json(body)


@dataclass
class Target:
    name: str
    strategy: st.SearchStrategy[Any]
    call: Callable[..., None]
    allowed: tuple[type[BaseException], ...] = (BackendError,)
    star: bool = False  # the strategy draws a tuple of arguments

    def check(self, drawn: Any) -> str:
        """'' when the parser behaved; else the kind of failure."""
        try:
            if self.star:
                self.call(*drawn)
            else:
                self.call(drawn)
        except self.allowed as exc:
            try:
                one_line(exc)
            except TypeError as bad:
                return f"TypeError: {bad}"
            return ""
        except Exception as exc:
            return f"{type(exc).__name__}: {str(exc)[:120]}"
        return ""


statuses = st.sampled_from([200, 201, 202, 204, 301, 400, 401, 403, 404, 420, 422, 429, 500, 503])
retry_afters = st.sampled_from(["inf", "nan", "1e12", "99999999999", "-1", "", "soon", "3"])

TARGETS = [
    Target("alertmanager.parse_groups", listing(group), alertmanager_groups, (ShapeError,)),
    Target("alertmanager.parse_silences", listing(silence), alertmanager_silences, (ShapeError,)),
    Target(
        "alertmanager.ack_for",
        st.tuples(listing(group), listing(silence)),
        alertmanager_acks,
        (ShapeError,),
    ),
    Target("alertmanager.parse_time", times, alertmanager_time, (ShapeError,)),
    Target(
        "alertmanager.groups (HTTP)",
        st.tuples(as_bytes(listing(group)), as_bytes(listing(silence))),
        alertmanager_source,
    ),
    Target(
        "alertmanager.health (HTTP)",
        as_bytes(
            fields(
                versionInfo=fields(version=names),
                cluster=fields(status=names, peers=listing(json_values)),
            )
        ),
        alertmanager_health,
    ),
    Target("rabbitmq.queue_depth", queue_item, rabbitmq_queue_item, (BackendError,)),
    Target("rabbitmq.queue_message", message_item, rabbitmq_message_item, (BackendError,)),
    Target(
        "rabbitmq.queues (HTTP)",
        as_bytes(fields(items=listing(queue_item), page_count=numbers) | listing(queue_item)),
        rabbitmq_queues,
    ),
    Target("rabbitmq.peek (HTTP)", as_bytes(listing(message_item)), rabbitmq_peek),
    Target(
        "rabbitmq.health (HTTP)",
        st.tuples(
            as_bytes(fields(rabbitmq_version=names, cluster_name=names)),
            as_bytes(listing(fields(name=names, mem_alarm=json_values, running=json_values))),
        ),
        rabbitmq_health,
    ),
    Target(
        "kubernetes.parse_pod_list",
        as_bytes(fields(metadata=fields(resourceVersion=names), items=listing(pod))),
        kubernetes_pod_list,
    ),
    Target(
        "kubernetes.watch_line",
        as_bytes(
            fields(type=st.sampled_from(["ADDED", "MODIFIED", "ERROR", "BOOKMARK"]), object=pod)
        ),
        kubernetes_watch_line,
    ),
    Target(
        "kubernetes.pod_detail",
        st.tuples(as_bytes(pod), as_bytes(fields(items=listing(event)))),
        kubernetes_pod_detail,
        star=True,
    ),
    Target(
        "statuspage.post_update (HTTP)",
        st.tuples(statuses, as_bytes(fields(id=names, incident_updates=listing(json_values)))),
        statuspage_post,
    ),
    Target(
        "statuspage.find_update (HTTP)",
        as_bytes(
            listing(
                fields(
                    id=names,
                    name=st.just("t") | names,
                    incident_updates=listing(fields(body=st.just("b") | names)),
                )
            )
        ),
        statuspage_lookup,
    ),
    Target(
        "pagerduty.escalate (HTTP)",
        st.tuples(statuses, as_bytes(fields(dedup_key=names, status=names)), retry_afters),
        pagerduty_answer,
    ),
    Target("http.loads_json", as_bytes(json_values), json_body),
]


@dataclass
class Report:
    examples: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    first: dict[str, str] = field(default_factory=dict)


def fuzz(target: Target, examples: int, *, seed: int | None = None) -> Report:
    report = Report()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],  # count every failure; no shrinking
        suppress_health_check=list(HealthCheck),
        derandomize=seed is not None,
    )
    @given(target.strategy)
    def body(drawn: Any) -> None:
        report.examples += 1
        failure = target.check(drawn)
        if failure:
            kind = failure.split(":", 1)[0]
            report.failures[kind] += 1
            report.first.setdefault(kind, f"{failure} <- {repr(drawn)[:300]}")

    body()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--deep", action="store_true", help=f"{DEEP_EXAMPLES} examples each")
    parser.add_argument("--examples", type=int, default=0)
    parser.add_argument("--only", default="", help="parsers whose name contains this")
    args = parser.parse_args(argv)
    examples = args.examples or (DEEP_EXAMPLES if args.deep else QUICK_EXAMPLES)
    total_examples = total_failures = 0
    print(f"{'parser':34} {'examples':>9} {'failures':>9}  seconds")
    for target in TARGETS:
        if args.only and args.only not in target.name:
            continue
        start = time.monotonic()
        report = fuzz(target, examples)
        failures = sum(report.failures.values())
        total_examples += report.examples
        total_failures += failures
        took = time.monotonic() - start
        print(f"{target.name:34} {report.examples:9d} {failures:9d}  {took:7.1f}", flush=True)
        for kind, count in report.failures.most_common():
            print(f"    {count} x {report.first[kind]}")
    print(f"{'total':34} {total_examples:9d} {total_failures:9d}")
    return 1 if total_failures else 0


if __name__ == "__main__":
    sys.exit(main())
