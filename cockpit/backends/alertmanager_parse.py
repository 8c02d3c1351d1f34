"""Alertmanager API v2 JSON -> domain objects, defensively.

Label values are kept verbatim (Rich markup, escape sequences and all): the UI escapes
them. Anything that is not the documented shape raises ShapeError, which the backend
turns into a one-line BadResponse.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cockpit.domain import Alert, AlertGroup, AlertState, Silence, frozen_map


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


def parse_time_or_unknown(value: Any) -> datetime | None:
    """A time that only informs (an alert's start): None ("unknown") when absent, malformed
    or out of range, so one odd value never blanks the panel."""
    try:
        parsed = parse_time(value, "time")
    except ShapeError:
        return None
    return None if parsed in (EARLIEST, LATEST) else parsed


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
        severity=(labels.get("severity") or "none").strip().lower() or "none",
        state=_state(status.get("state", "unprocessed")),
        silenced_by=_names(status.get("silencedBy"), f"{where}.status.silencedBy"),
        inhibited_by=_names(status.get("inhibitedBy"), f"{where}.status.inhibitedBy"),
        starts_at=parse_time_or_unknown(data.get("startsAt")),
        generator_url=_str(data.get("generatorURL"), f"{where}.generatorURL", ""),
        receivers=receivers,
        cluster=cluster,
    )


def group_key(cluster: str, receiver: str, labels: Mapping[str, str]) -> str:
    """Stable across refreshes and across HA members: cluster, receiver, sorted group labels."""
    return json.dumps([cluster, receiver, sorted(labels.items())], ensure_ascii=False)


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


def merge_groups(members: Iterable[list[AlertGroup]]) -> list[AlertGroup]:
    """Groups from every answering member of one HA cluster, alerts deduped by fingerprint."""
    firsts: dict[str, AlertGroup] = {}
    alerts: dict[str, dict[str, Alert]] = {}
    for groups in members:
        for group in groups:
            firsts.setdefault(group.key, group)
            by_fp = alerts.setdefault(group.key, {})
            for alert in group.alerts:
                by_fp.setdefault(alert.fingerprint, alert)
    never = datetime.max.replace(tzinfo=UTC)
    return [
        AlertGroup(
            key=key,
            labels=g.labels,
            alerts=tuple(
                sorted(alerts[key].values(), key=lambda a: (a.starts_at or never, a.fingerprint))
            ),
            receiver=g.receiver,
            cluster=g.cluster,
        )
        for key, g in firsts.items()
    ]


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
