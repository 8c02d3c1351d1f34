"""Alertmanager API v2 JSON -> domain objects, defensively.

Label values are kept verbatim (Rich markup, escape sequences and all): the UI escapes
them. Anything that is not the documented shape raises ShapeError, which the backend
turns into a one-line BadResponse.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from types import MappingProxyType
from typing import Any

from cockpit.domain import EMPTY, Alert, AlertGroup, AlertState, Silence, frozen_map


class ShapeError(ValueError):
    """The JSON parsed but is not what the API documents; str() says where."""


@dataclass(frozen=True, slots=True)
class Matcher:
    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True

    @property
    def plain(self) -> bool:
        return self.is_equal and not self.is_regex

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Plain matchers only: a regex is never run here (see ack_for)."""
        # Alertmanager treats a missing label as the empty string
        if self.is_regex:
            return False
        hit = labels.get(self.name, "") == self.value
        return hit if self.is_equal else not hit

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "isRegex": self.is_regex,
            "isEqual": self.is_equal,
        }


@dataclass(frozen=True, slots=True)
class RawSilence:
    """A silence as the API gave it: the domain Silence plus what matching and updates need."""

    silence: Silence
    matchers: tuple[Matcher, ...]
    starts_at_raw: str  # sent back verbatim when extending, so Alertmanager updates in place

    @property
    def id(self) -> str:
        return self.silence.id

    @property
    def active_ack(self) -> bool:
        return self.silence.state == "active" and self.silence.is_ack

    @property
    def has_regex(self) -> bool:
        return any(m.is_regex for m in self.matchers)

    def matches_all(self, label_sets: Iterable[Mapping[str, str]]) -> bool:
        return all(m.matches(labels) for labels in label_sets for m in self.matchers)

    def mutes_all(self, alerts: Iterable[Alert]) -> bool:
        """Whether this silence matches every alert. A regex silence is matched by
        Alertmanager itself (the alert's status.silencedBy names it): a regex like (a+)+b
        would take Python seconds per alert, on every poll."""
        alerts = list(alerts)
        if self.has_regex:
            return bool(alerts) and all(self.id in a.silenced_by for a in alerts)
        return self.matches_all([a.labels for a in alerts])

    def plain_matcher_set(self) -> frozenset[tuple[str, str]] | None:
        """The (name, value) set when every matcher is a plain equality, else None."""
        if not all(m.plain for m in self.matchers):
            return None
        return frozenset((m.name, m.value) for m in self.matchers)


_FRACTION = re.compile(r"(\.\d+)")


# what an out-of-range time (0001-01-01T00:00:00+01:00 is year 0 in UTC) is clamped to
EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)


def parse_time(value: Any, where: str) -> datetime:
    """An RFC 3339 time in UTC; one beyond what Python can hold is clamped to EARLIEST/LATEST."""
    if not isinstance(value, str) or not value or len(value) > 64:
        raise ShapeError(f"{where} is not a timestamp")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Go may print 1 to 9 fractional digits; Python 3.11 wants at most 6
    text = _FRACTION.sub(lambda m: m.group(1)[:7], text, count=1)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ShapeError(f"{where} is not a timestamp") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        return EARLIEST if parsed.year < 2 else LATEST


# what a string parsed to: alerts of one rule share their startsAt, and a poll repeats
# the last poll's times (datetimes are immutable, so sharing one is safe)
_TIMES: dict[str, datetime | None] = {}
_MEMO_MAX = 20_000  # entries per memo before it starts again (bounds hostile variety)


def parse_time_or_unknown(value: Any) -> datetime | None:
    """A time that only informs (an alert's start): None ("unknown") when absent, malformed
    or out of range, so one odd value never blanks the panel."""
    if isinstance(value, str):
        try:
            return _TIMES[value]
        except KeyError:
            pass
    try:
        parsed: datetime | None = parse_time(value, "time")
    except ShapeError:
        parsed = None
    if parsed in (EARLIEST, LATEST):
        parsed = None
    if isinstance(value, str):
        if len(_TIMES) >= _MEMO_MAX:
            _TIMES.clear()
        _TIMES[value] = parsed
    return parsed


def format_time(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ShapeError(f"{where} is not an object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ShapeError(f"{where} is not a list")
    return value


def _str(value: Any, where: str, default: str | None = None) -> str:
    if value is None and default is not None:
        return default
    if not isinstance(value, str):
        raise ShapeError(f"{where} is not a string")
    return value


def _labels(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    raw = _obj(value, where)
    # a non-string value is out of spec, but one odd label must not hide the alert
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}


def _names(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(str(v) for v in _list(value, where))


def _state(value: Any) -> AlertState:
    try:
        return AlertState(str(value))
    except ValueError:
        return AlertState.UNPROCESSED


_SEVERITIES: dict[str, str] = {}


def severity_of(labels: Mapping[str, str]) -> str:
    """The severity label as the panel ranks it: trimmed, lower case, "none" when absent."""
    raw = labels.get("severity")
    if not raw:
        return "none"
    try:
        return _SEVERITIES[raw]
    except KeyError:
        pass
    if len(_SEVERITIES) >= _MEMO_MAX:
        _SEVERITIES.clear()
    severity = _SEVERITIES[raw] = raw.strip().lower() or "none"
    return severity


def parse_alert(raw: Any, where: str, cluster: str) -> Alert:
    data = _obj(raw, where)
    labels = _labels(data.get("labels"), f"{where}.labels")
    status = data.get("status") or {}
    status = _obj(status, f"{where}.status")
    receivers = tuple(
        _str(_obj(r, f"{where}.receivers[]").get("name"), f"{where}.receivers[].name", "")
        for r in _list(data.get("receivers") or [], f"{where}.receivers")
    )
    return Alert(
        fingerprint=_str(data.get("fingerprint"), f"{where}.fingerprint"),
        labels=frozen_map(labels),
        annotations=frozen_map(_labels(data.get("annotations"), f"{where}.annotations")),
        severity=severity_of(labels),
        state=_state(status.get("state", "unprocessed")),
        silenced_by=_names(status.get("silencedBy"), f"{where}.status.silencedBy"),
        inhibited_by=_names(status.get("inhibitedBy"), f"{where}.status.inhibitedBy"),
        starts_at=parse_time_or_unknown(data.get("startsAt")),
        generator_url=_str(data.get("generatorURL"), f"{where}.generatorURL", ""),
        receivers=receivers,
        cluster=cluster,
    )


_GROUP_KEYS: dict[tuple[str, str, tuple[tuple[str, str], ...]], str] = {}
# json.dumps(..., ensure_ascii=False) exactly, without building an encoder per call
_KEY_JSON = json.JSONEncoder(ensure_ascii=False).encode


def group_key(cluster: str, receiver: str, labels: Mapping[str, str]) -> str:
    """Stable across refreshes and across HA members: cluster, receiver, sorted group labels."""
    memo = (cluster, receiver, tuple(labels.items()))
    try:
        return _GROUP_KEYS[memo]
    except KeyError:
        pass
    if len(_GROUP_KEYS) >= _MEMO_MAX:
        _GROUP_KEYS.clear()
    key = _GROUP_KEYS[memo] = _KEY_JSON([cluster, receiver, sorted(labels.items())])
    return key


def parse_groups(payload: Any, cluster: str) -> list[AlertGroup]:
    """One member's /api/v2/alerts/groups answer."""
    out = []
    for i, raw in enumerate(_list(payload, "groups")):
        where = f"groups[{i}]"
        data = _obj(raw, where)
        labels = _labels(data.get("labels"), f"{where}.labels")
        receiver_obj = _obj(data.get("receiver") or {}, f"{where}.receiver")
        receiver = _str(receiver_obj.get("name"), f"{where}.receiver.name", "")
        alerts = tuple(
            parse_alert(a, f"{where}.alerts[{j}]", cluster)
            for j, a in enumerate(_list(data.get("alerts") or [], f"{where}.alerts"))
        )
        key = group_key(cluster, receiver, labels)
        out.append(AlertGroup(key, frozen_map(labels), alerts, receiver=receiver, cluster=cluster))
    return out


@cache
def _groups_decoder() -> Any:
    """A msgspec decoder of /api/v2/alerts/groups holding only the fields parse_groups
    reads, each of the type the API documents (a string label value, a list of silence
    ids...); anything else fails to decode, and the caller takes the general path."""
    import msgspec  # lazily, like the pod decoders

    # defstruct, not class statements: this module's annotations are strings, which
    # msgspec cannot resolve to classes local to a function. gc=False: the structs are
    # short-lived and never in a cycle, so the collector need not track them.
    def struct(name: str, fields: list[Any]) -> Any:
        return msgspec.defstruct(name, fields, gc=False)

    names = tuple[str, ...] | None  # decoded straight to what Alert holds
    status = struct(
        "Status",
        [("state", str, "unprocessed"), ("silencedBy", names, None), ("inhibitedBy", names, None)],
    )
    named = struct("Named", [("name", str | None, None)])
    alert = struct(
        "RawAlert",
        [
            ("fingerprint", str),
            ("labels", dict[str, str] | None, None),
            ("annotations", dict[str, str] | None, None),
            ("status", status | None, None),
            ("receivers", list[named] | None, None),  # type: ignore[valid-type]
            ("startsAt", str | None, None),
            ("generatorURL", str | None, None),
        ],
    )
    group = struct(
        "RawGroup",
        [
            ("labels", dict[str, str] | None, None),
            ("receiver", named | None, None),
            ("alerts", list[alert] | None, None),  # type: ignore[valid-type]
        ],
    )
    return msgspec.json.Decoder(list[group])  # type: ignore[valid-type]


_STATES = {state.value: state for state in AlertState}


def parse_groups_body(content: bytes, cluster: str) -> list[AlertGroup] | None:
    """parse_groups(json.loads(content), cluster) for a body of the documented shape, in
    less than half the time (2,000 alerts: ~11 ms against ~26 ms on a quiet machine):
    msgspec decodes only the fields read and checks their types on the way, and the
    cyclic GC waits until the objects are made (they all live on: collecting meanwhile
    frees nothing).

    None for any other body (malformed JSON, a label value that is not a string, a null
    state, nesting too deep...): the caller then decodes it the general way, which
    tolerates or reports it exactly as before. What this returns is equal to what that
    way returns for the same bytes (tests/alertmanager/test_parse_fast.py checks both
    ways against each other)."""
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        try:
            decoded = _groups_decoder().decode(content)
        except (ValueError, RecursionError):  # msgspec's errors are ValueErrors
            return None
        states = _STATES
        unprocessed = AlertState.UNPROCESSED
        times = parse_time_or_unknown
        severity = severity_of
        severities = _SEVERITIES
        time_memo = _TIMES
        unseen: Any = object()
        proxy = MappingProxyType
        empty = EMPTY
        out = []
        for group in decoded:
            alerts: list[Alert] = []
            append = alerts.append
            for raw in group.alerts or ():
                labels = raw.labels or {}
                status = raw.status
                if status is None:
                    state, silenced, inhibited = unprocessed, (), ()
                else:
                    state = states.get(status.state, unprocessed)
                    silenced = status.silencedBy or ()
                    inhibited = status.inhibitedBy or ()
                receivers = raw.receivers
                if not receivers:
                    names: tuple[str, ...] = ()
                elif len(receivers) == 1:  # the usual case, without a comprehension's frame
                    names = (receivers[0].name or "",)
                else:
                    names = tuple([r.name or "" for r in receivers])
                # the memos looked up here, not through their functions (2,000 calls each)
                sev = labels.get("severity")
                start = time_memo.get(raw.startsAt, unseen)
                # positional, in Alert's field order (a quarter cheaper than keywords);
                # test_parse_fast compares every field with the general way's
                append(
                    Alert(
                        raw.fingerprint,
                        proxy(labels),
                        proxy(raw.annotations) if raw.annotations else empty,
                        (severities.get(sev) or severity(labels)) if sev else "none",
                        state,
                        silenced,
                        inhibited,
                        times(raw.startsAt) if start is unseen else start,
                        raw.generatorURL or "",
                        names,
                        cluster,
                    )
                )
            labels = group.labels or {}
            receiver = (group.receiver.name or "") if group.receiver is not None else ""
            key = group_key(cluster, receiver, labels)
            out.append(
                AlertGroup(key, proxy(labels), tuple(alerts), receiver=receiver, cluster=cluster)
            )
        return out
    finally:
        if paused:
            gc.enable()


def merge_groups(members: Iterable[list[AlertGroup]]) -> list[AlertGroup]:
    """Groups from every answering member of one HA cluster, alerts deduped by fingerprint."""
    members = list(members)
    if len(members) == 1 and len({g.key for g in members[0]}) == len(members[0]):
        # one member, no group twice (what a single Alertmanager answers): nothing to
        # merge, only each group's alerts to put in order
        return [_in_order(g) for g in members[0]]
    firsts: dict[str, AlertGroup] = {}
    alerts: dict[str, dict[str, Alert]] = {}
    for groups in members:
        for group in groups:
            firsts.setdefault(group.key, group)
            by_fp = alerts.setdefault(group.key, {})
            for alert in group.alerts:
                by_fp.setdefault(alert.fingerprint, alert)
    out = []
    for key, g in firsts.items():
        merged = alerts[key]
        ordered = (
            tuple(merged.values())
            if len(merged) < 2
            else tuple(sorted(merged.values(), key=_alert_order))
        )
        # one member's group, already in order: that very object (nothing to copy)
        if ordered != g.alerts or g.ack is not None:
            g = AlertGroup(
                key=key,
                labels=g.labels,
                alerts=ordered,
                receiver=g.receiver,
                cluster=g.cluster,
            )
        out.append(g)
    return out


_NEVER = datetime.max.replace(tzinfo=UTC)


def _in_order(group: AlertGroup) -> AlertGroup:
    """The group as merge_groups makes it from one member: alerts deduped by fingerprint
    (the first kept), ordered by start then fingerprint, no ack yet; the same object when
    it already is so."""
    alerts = group.alerts
    if len(alerts) > 1:
        by_fp: dict[str, Alert] = {}
        for alert in alerts:
            by_fp.setdefault(alert.fingerprint, alert)
        ordered = tuple(sorted(by_fp.values(), key=_alert_order))
        if ordered != alerts:
            alerts = ordered
    if alerts is group.alerts and group.ack is None:
        return group
    return AlertGroup(
        key=group.key,
        labels=group.labels,
        alerts=alerts,
        receiver=group.receiver,
        cluster=group.cluster,
    )


def _alert_order(alert: Alert) -> tuple[datetime, str]:
    return (alert.starts_at or _NEVER, alert.fingerprint)


def parse_matcher(raw: Any, where: str) -> Matcher:
    data = _obj(raw, where)
    is_equal = data.get("isEqual", True)
    return Matcher(
        name=_str(data.get("name"), f"{where}.name"),
        value=_str(data.get("value"), f"{where}.value", ""),
        is_regex=bool(data.get("isRegex", False)),
        is_equal=True if is_equal is None else bool(is_equal),
    )


def parse_silence(raw: Any, where: str = "silence") -> RawSilence:
    data = _obj(raw, where)
    matchers = tuple(
        parse_matcher(m, f"{where}.matchers[{i}]")
        for i, m in enumerate(_list(data.get("matchers"), f"{where}.matchers"))
    )
    status = _obj(data.get("status") or {}, f"{where}.status")
    starts_raw = _str(data.get("startsAt"), f"{where}.startsAt")
    silence = Silence(
        id=_str(data.get("id"), f"{where}.id"),
        matchers=tuple((m.name, m.value) for m in matchers),
        starts_at=parse_time(starts_raw, f"{where}.startsAt"),
        ends_at=parse_time(data.get("endsAt"), f"{where}.endsAt"),
        created_by=_str(data.get("createdBy"), f"{where}.createdBy", ""),
        comment=_str(data.get("comment"), f"{where}.comment", ""),
        state=_str(status.get("state"), f"{where}.status.state", "active"),
    )
    return RawSilence(silence, matchers, starts_raw)


def parse_silences(payload: Any) -> list[RawSilence]:
    return [
        parse_silence(raw, f"silences[{i}]") for i, raw in enumerate(_list(payload, "silences"))
    ]


def merge_silences(members: Iterable[list[RawSilence]]) -> list[RawSilence]:
    """Silences from every answering member, deduped by id (HA peers gossip them)."""
    seen: dict[str, RawSilence] = {}
    for silences in members:
        for silence in silences:
            seen.setdefault(silence.id, silence)
    return list(seen.values())


def ack_for(group: AlertGroup, silences: Iterable[RawSilence]) -> Silence | None:
    """The active ACK! silence whose matchers match every alert of the group (latest end)."""
    best: RawSilence | None = None
    for raw in silences:
        if (
            raw.active_ack
            and raw.matchers
            and (
                raw.mutes_all(group.alerts)
                if group.alerts
                else not raw.has_regex and raw.matches_all([group.labels])
            )
            and (best is None or raw.silence.ends_at > best.silence.ends_at)
        ):
            best = raw
    return best.silence if best else None
