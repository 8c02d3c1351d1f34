"""kubectl's words for pods, computed from the raw pod JSON the API returns.

`pod_health` follows `printPod` in kubernetes pkg/printers/internalversion/printers.go
(READY, STATUS, RESTARTS) and `kubectl_age` follows apimachinery's
`duration.HumanDuration` (AGE), so the cockpit says exactly what `kubectl get pods`
would say. Plain dicts in, frozen dataclasses out: no kubernetes client import,
because the client's model objects are ~20x slower to build than json.loads.

Big bodies are not json.loads-ed either: `pod_list_decoder` decodes a PodList into
dicts holding only the keys `pod_health` reads (the `_Pod` TypedDicts below), so msgspec
skips env, probes, images and all labels but the three alerts are matched on... in C.
The dicts are the same shape `pod_health` reads from json.loads, so kubectl's rules
exist once, whichever way a pod arrived.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from typing import Any, TypedDict

from cockpit.backends.base import BadResponse
from cockpit.domain import ContainerDetail, PodDetail, PodHealth, frozen_map

EARLIEST = datetime.min.replace(tzinfo=UTC)

# k8s.io/kubernetes/pkg/util/node.NodeUnreachablePodReason
NODE_LOST = "NodeLost"
SCHEDULING_GATED = "SchedulingGated"

_Raw = Mapping[str, Any]


# The keys of a pod that pod_health reads, and nothing else: a key missing here is
# silently absent in decoded pods (test_podstatus checks both inputs agree on every case).
# Leaves are typed as the API documents them: a wrong-typed value (a reason that is an
# object, a restart count that is a string) is a BadResponse, never a row of the wrong types.
class _Empty(TypedDict, total=False):
    pass  # `state.running`: only whether it is there matters


class _Reason(TypedDict, total=False):
    reason: str | None


class _Terminated(TypedDict, total=False):
    exitCode: int | None
    reason: str | None
    signal: int | None
    finishedAt: str | None


class _State(TypedDict, total=False):
    running: _Empty | None
    waiting: _Reason | None
    terminated: _Terminated | None


class _ContainerStatus(TypedDict, total=False):
    name: str | None
    ready: bool | None
    restartCount: int | None
    started: bool | None
    state: _State | None
    lastState: _State | None


class _Condition(TypedDict, total=False):
    type: str | None
    status: str | None
    reason: str | None


class _Status(TypedDict, total=False):
    phase: str | None
    reason: str | None
    conditions: list[_Condition] | None
    initContainerStatuses: list[_ContainerStatus] | None
    containerStatuses: list[_ContainerStatus] | None


class _Container(TypedDict, total=False):
    name: str | None
    restartPolicy: str | None


class _Spec(TypedDict, total=False):
    nodeName: str | None
    initContainers: list[_Container] | None
    containers: list[_Container] | None


# the only labels read: what alerts name a pod by (cockpit.pivot), and the hash that
# ties a ReplicaSet's name to its Deployment's
_Labels = TypedDict(
    "_Labels",
    {"app": str | None, "app.kubernetes.io/name": str | None, "pod-template-hash": str | None},
    total=False,
)
APP_LABELS = ("app.kubernetes.io/name", "app")


class _OwnerReference(TypedDict, total=False):
    kind: str | None
    name: str | None
    controller: bool | None


class _Metadata(TypedDict, total=False):
    name: str | None
    namespace: str | None
    uid: str | None
    creationTimestamp: str | None
    deletionTimestamp: str | None
    ownerReferences: list[_OwnerReference] | None
    labels: _Labels | None
    resourceVersion: Any  # not for the row: where a watch resumes


class _Pod(TypedDict, total=False):
    metadata: _Metadata | None
    spec: _Spec | None
    status: _Status | None


# "continue": set when more pages follow (the list was asked with a limit)
_ListMeta = TypedDict("_ListMeta", {"resourceVersion": Any, "continue": str | None}, total=False)


class _PodList(TypedDict, total=False):
    metadata: _ListMeta | None
    items: list[_Pod] | None


@cache
def pod_list_decoder() -> Any:
    """A msgspec JSON decoder: PodList bytes -> {"metadata", "items": [pod dicts]} holding
    only what pod_health reads; raises msgspec.DecodeError (a ValueError) on a bad body."""
    import msgspec  # lazily, like every other heavy-ish import here

    return msgspec.json.Decoder(_PodList)


@cache
def pod_page_decoder() -> Any:
    """A PodList's metadata decoded, its items left raw (msgspec.Raw: slices of the body,
    JSON-checked but not decoded), to be decoded one at a time by `pod_item_decoder`: a
    5,000-pod list then never holds 5,000 decoded pods at once, only their rows."""
    import msgspec

    # the functional form: msgspec.Raw is imported here, lazily, and a class body's
    # annotations (strings, with the __future__ import) could not name it
    _PodPage = TypedDict(  # noqa: UP013
        "_PodPage", {"metadata": _ListMeta | None, "items": list[msgspec.Raw] | None}, total=False
    )
    return msgspec.json.Decoder(_PodPage)


@cache
def pod_item_decoder() -> Any:
    """One item of a PodList (a Pod object: not null, unlike a watch event's)."""
    import msgspec

    return msgspec.json.Decoder(_Pod)


@cache
def pod_decoder() -> Any:
    """The same for one pod (a watch event's object)."""
    import msgspec

    return msgspec.json.Decoder(_Pod | None)


@cache
def watch_event_decoder() -> Any:
    """One watch line -> {"type": ..., "object": ...} with each value still raw JSON
    (msgspec.Raw, a slice of the line): the object is a Pod, or a Status on ERROR, so it is
    decoded once the type is known."""
    import msgspec

    return msgspec.json.Decoder(dict[str, msgspec.Raw])


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp from the API ('2026-11-25T03:00:00Z'), None when absent or bad."""
    if not value or not isinstance(value, str):
        return None
    return _parse_time(value)


@lru_cache(maxsize=8192)
def _parse_time(value: str) -> datetime | None:
    # one datetime per distinct stamp: a Deployment's pods are mostly created in one second
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


# Per-pod values repeated across thousands of pods (namespace, node, owner, status words,
# container names, owner chains) are kept once: 5,000 rows would otherwise hold 5,000
# copies of "payments", "Running", "1/1"... as msgspec and f-strings make them.
_SHARED: dict[Any, Any] = {}
_SHARED_MAX = 65536


def _text_once(value: Any) -> Any:
    return sys.intern(value) if type(value) is str else value


def _tuple_once(value: tuple[Any, ...]) -> tuple[Any, ...]:
    if not value:
        return ()
    shared = _SHARED.get(value)
    if shared is None:
        if len(_SHARED) >= _SHARED_MAX:
            _SHARED.clear()  # bounded: a cluster churning names cannot grow it for ever
        shared = _SHARED[value] = value
    return shared


def _is_restartable_init(container: _Raw | None) -> bool:
    # a sidecar: an init container with restartPolicy Always keeps running next to the app
    return container is not None and container.get("restartPolicy") == "Always"


def _condition_true(conditions: Iterable[_Raw], kind: str) -> bool:
    # like isPodInitializedConditionTrue: the FIRST condition of that type decides
    for condition in conditions:
        if condition.get("type") == kind:
            return condition.get("status") == "True"
    return False


def _has_ready_condition(conditions: Iterable[_Raw]) -> bool:
    # like hasPodReadyCondition: ANY Ready=True condition
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _later(current: datetime | None, terminated: _Raw | None) -> datetime | None:
    if not terminated:
        return current
    finished = parse_time(terminated.get("finishedAt"))
    if finished is None or (current is not None and finished <= current):
        return current
    return finished


def _terminal_phase(phase: str) -> bool:
    return phase in ("Failed", "Succeeded")


def pod_health(raw: _Raw, now: datetime | None = None) -> PodHealth:
    """READY, STATUS, RESTARTS and the last restart of one pod, the way `kubectl get pods`
    prints them; `now` is accepted for symmetry with the other helpers (nothing here is
    relative to it: AGE is computed at render time from created_at)."""
    meta: _Raw = raw.get("metadata") or {}
    spec: _Raw = raw.get("spec") or {}
    status: _Raw = raw.get("status") or {}
    conditions: list[_Raw] = status.get("conditions") or []
    containers: list[_Raw] = spec.get("containers") or []
    init_specs: list[_Raw] = spec.get("initContainers") or []

    restarts = 0
    sidecar_restarts = 0
    total = len(containers)
    ready = 0
    last_restart: datetime | None = None
    last_sidecar_restart: datetime | None = None

    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for condition in conditions:
        # reason first: it is absent on almost every condition
        if condition.get("reason") == SCHEDULING_GATED and condition.get("type") == "PodScheduled":
            reason = SCHEDULING_GATED

    init_by_name: dict[str, _Raw] = {}
    if init_specs:
        for init in init_specs:
            init_by_name[init.get("name") or ""] = init
            if _is_restartable_init(init):
                total += 1

    initializing = False
    for index, cs in enumerate(status.get("initContainerStatuses") or []):
        count = int(cs.get("restartCount") or 0)
        restarts += count
        last_term = (cs.get("lastState") or {}).get("terminated")
        last_restart = _later(last_restart, last_term)
        sidecar = _is_restartable_init(init_by_name.get(cs.get("name") or ""))
        if sidecar:
            sidecar_restarts += count
            last_sidecar_restart = _later(last_sidecar_restart, last_term)
        state: _Raw = cs.get("state") or {}
        terminated: _Raw | None = state.get("terminated")
        waiting: _Raw | None = state.get("waiting")
        if terminated is not None and int(terminated.get("exitCode") or 0) == 0:
            continue
        if sidecar and cs.get("started"):
            if cs.get("ready"):
                ready += 1
            continue
        if terminated is not None:
            if not terminated.get("reason"):
                if terminated.get("signal"):
                    reason = f"Init:Signal:{terminated['signal']}"
                else:
                    reason = f"Init:ExitCode:{int(terminated.get('exitCode') or 0)}"
            else:
                reason = "Init:" + terminated["reason"]
        elif (
            waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing"
        ):
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or _condition_true(conditions, "Initialized"):
        restarts = sidecar_restarts
        last_restart = last_sidecar_restart
        has_running = False
        # kubectl walks the statuses backwards, so the FIRST container's reason wins
        for cs in reversed(status.get("containerStatuses") or []):
            count = cs.get("restartCount") or 0
            if count:
                restarts += count
                last_restart = _later(last_restart, (cs.get("lastState") or {}).get("terminated"))
            elif cs.get("lastState"):
                last_restart = _later(last_restart, cs["lastState"].get("terminated"))
            state = cs.get("state") or {}
            waiting = state.get("waiting")
            terminated = state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated is not None:
                if terminated.get("signal"):
                    reason = f"Signal:{terminated['signal']}"
                else:
                    reason = f"ExitCode:{int(terminated.get('exitCode') or 0)}"
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        # a pod whose app exited 0 while a sidecar still runs is shown by its readiness
        if reason == "Completed" and has_running:
            reason = "Running" if _has_ready_condition(conditions) else "NotReady"

    deleting = bool(meta.get("deletionTimestamp"))
    if deleting and status.get("reason") == NODE_LOST:
        reason = "Unknown"
    elif deleting and not _terminal_phase(phase):
        reason = "Terminating"

    ready_text = f"{ready}/{total}"
    healthy = (reason == "Running" and ready == total) or reason in ("Completed", "Succeeded")
    owner_kind, owner_name = controller_of(meta)
    labels: _Raw = meta.get("labels") or {}
    owner_kind, owner_name = _text_once(owner_kind), _text_once(owner_name)
    return PodHealth(
        namespace=_text_once(meta.get("namespace") or ""),
        name=meta.get("name") or "",
        ready=_text_once(ready_text),
        status=_text_once(reason),
        restarts=restarts,
        last_restart=last_restart if restarts else None,
        created_at=parse_time(meta.get("creationTimestamp")),
        node=_text_once(spec.get("nodeName") or ""),
        owner_kind=owner_kind,
        owner_name=owner_name,
        healthy=healthy,
        containers=_tuple_once(tuple([_text_once(c.get("name") or "") for c in containers])),
        uid=meta.get("uid") or "",
        owners=_tuple_once(owner_chain(owner_kind, owner_name, labels)),
        apps=_tuple_once(tuple([_text_once(a) for a in app_names(labels)])),
    )


def app_names(labels: _Raw) -> tuple[str, ...]:
    """The distinct values of the pod's app labels, `app.kubernetes.io/name` first."""
    out: list[str] = []
    for key in APP_LABELS:
        value = labels.get(key)
        if isinstance(value, str) and value and value not in out:
            out.append(value)
    return tuple(out)


_CRONJOB_JOB = re.compile(r"^(.+)-\d{8,}$")


def owner_chain(kind: str, name: str, labels: _Raw) -> tuple[tuple[str, str], ...]:
    """The pod's controller and what owns it in turn, as far as the pod's own fields say,
    without a request: the Deployment controller names its ReplicaSets
    `<deployment>-<pod-template-hash>` (and labels their pods with that hash), and the
    CronJob controller names its Jobs `<cronjob>-<scheduled time in minutes>`."""
    if not kind:
        return ()
    chain = [(kind, name)]
    if kind == "ReplicaSet":
        template_hash = labels.get("pod-template-hash")
        if isinstance(template_hash, str) and template_hash and name.endswith("-" + template_hash):
            chain.append(("Deployment", name[: -len(template_hash) - 1]))
    elif kind == "Job":
        match = _CRONJOB_JOB.match(name)
        if match:
            chain.append(("CronJob", match.group(1)))
    return tuple(chain)


def controller_of(meta: _Raw) -> tuple[str, str]:
    """(kind, name) of the ownerReference with controller=true, ("", "") when none."""
    for ref in _list(meta.get("ownerReferences")):
        if isinstance(ref, dict) and ref.get("controller"):
            return _text(ref.get("kind")), _text(ref.get("name"))
    return "", ""


# The detail path reads whole JSON objects from the API (not the typed msgspec decoders of
# the list and the watch): every field may have any type, so each is read through these.
def _obj(value: Any) -> _Raw:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _count(value: Any) -> int:
    """A non-negative count from the API; anything else (a string, 1e300, true) is 0."""
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return min(max(value, 0), 2**31)


def kubectl_age(td: timedelta) -> str:
    """A duration as kubectl prints AGE (apimachinery duration.HumanDuration)."""
    total_seconds = td.total_seconds()
    seconds = int(total_seconds)  # truncates toward zero, as Go's int() does
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60 * 2:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        s = seconds % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if dy == 0 else f"{years}y{dy}d"
    return f"{hours // 24 // 365}y"


def restarts_text(pod: PodHealth, now: datetime) -> str:
    """RESTARTS as kubectl prints it: '3 (5m ago)', or just '0'."""
    if pod.restarts and pod.last_restart is not None:
        return f"{pod.restarts} ({kubectl_age(now - pod.last_restart)} ago)"
    return str(pod.restarts)


def age_text(pod: PodHealth, now: datetime) -> str:
    """AGE as kubectl prints it ('<unknown>' without a creation time)."""
    age = pod.age(now)
    return kubectl_age(age) if age is not None else "<unknown>"


def _state_text(state: _Raw) -> str:
    if "running" in state and state["running"] is not None:
        return "running"
    waiting = state.get("waiting")
    if waiting is not None:
        return f"waiting: {_text(_obj(waiting).get('reason')) or 'Waiting'}"
    terminated = state.get("terminated")
    if terminated is not None:
        terminated = _obj(terminated)
        signal = terminated.get("signal")
        why = _text(terminated.get("reason")) or (
            f"Signal:{_count(signal)}"
            if signal
            else f"ExitCode:{_exit_code(terminated.get('exitCode')) or 0}"
        )
        return f"terminated: {why}"
    return "waiting"


def _exit_code(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return min(max(value, -(2**31)), 2**31)


def _container_details(
    specs: list[_Raw], statuses: list[_Raw], init: bool
) -> list[ContainerDetail]:
    by_name = {_text(s.get("name")): s for s in statuses if isinstance(s, dict)}
    out = []
    for spec in specs:
        if not isinstance(spec, dict):
            continue
        name = _text(spec.get("name"))
        cs: _Raw = _obj(by_name.get(name))
        last: _Raw = _obj(_obj(cs.get("lastState")).get("terminated"))
        out.append(
            ContainerDetail(
                name=name,
                image=_text(cs.get("image")) or _text(spec.get("image")),
                ready=cs.get("ready") is True,
                restarts=_count(cs.get("restartCount")),
                state=_state_text(_obj(cs.get("state"))),
                last_termination_reason=_text(last.get("reason")),
                last_exit_code=_exit_code(last.get("exitCode")),
                init=init,
            )
        )
    return out


def _event_time(event: _Raw) -> datetime | None:
    series = _obj(event.get("series"))
    return (
        parse_time(series.get("lastObservedTime"))
        or parse_time(event.get("lastTimestamp"))
        or parse_time(event.get("eventTime"))
        or parse_time(event.get("firstTimestamp"))
        or parse_time(_obj(event.get("metadata")).get("creationTimestamp"))
    )


def event_lines(events: Iterable[_Raw], now: datetime, limit: int = 20) -> tuple[str, ...]:
    """Events as short lines, oldest first like `kubectl describe`:
    '2m ago  Warning  BackOff  Back-off restarting failed container'."""
    dated = [(_event_time(e), e) for e in events if isinstance(e, dict)]
    dated.sort(key=lambda pair: pair[0] or EARLIEST)
    lines = []
    for when, event in dated[-limit:]:
        ago = f"{kubectl_age(now - when)} ago" if when else "?"
        message = " ".join(_text(event.get("message"))[:2000].split())
        count = _count(event.get("count")) or _count(_obj(event.get("series")).get("count")) or 1
        times = f" (x{count})" if count > 1 else ""
        kind = _text(event.get("type")) or "Normal"
        lines.append(f"{ago}  {kind}  {_text(event.get('reason'))}  {message}{times}")
    return tuple(lines)


def pod_detail(raw: _Raw, events: list[dict[str, Any]], now: datetime) -> PodDetail:
    """The pod row plus its containers (init ones first, flagged) and its recent events."""
    raw = _obj(raw)
    spec: _Raw = _obj(raw.get("spec"))
    status: _Raw = _obj(raw.get("status"))
    containers = _container_details(
        _list(spec.get("initContainers")), _list(status.get("initContainerStatuses")), init=True
    ) + _container_details(
        _list(spec.get("containers")), _list(status.get("containerStatuses")), init=False
    )
    labels = _obj(_obj(raw.get("metadata")).get("labels"))
    return PodDetail(
        pod=pod_health(_typed_pod(raw), now),
        containers=tuple(containers),
        events=event_lines(events, now),
        labels=frozen_map({str(k): v for k, v in labels.items() if isinstance(v, str)}),
    )


def _typed_pod(raw: _Raw) -> Any:
    """A whole pod object through the same typed decoder as the list and the watch, so the
    row pod_health makes of it is checked the same way (a wrong-typed field is refused)."""
    import json

    try:
        return pod_decoder().decode(json.dumps(raw, allow_nan=False)) or {}
    except (ValueError, TypeError, RecursionError):  # msgspec's errors are ValueErrors
        raise BadResponse("the cluster sent a pod that is not a Pod") from None
