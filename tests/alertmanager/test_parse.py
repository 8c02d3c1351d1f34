"""Parsing and matching rules, table-driven on raw JSON (no server)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cockpit.backends.alertmanager_parse import (
    Matcher,
    ShapeError,
    ack_for,
    format_time,
    merge_groups,
    parse_groups,
    parse_silences,
    parse_time,
)

GROUPS = [
    {
        "labels": {"alertname": "DiskFull"},
        "receiver": {"name": "team-db"},
        "alerts": [
            {
                "fingerprint": "bbb",
                "labels": {"alertname": "DiskFull", "instance": "b", "env": "prod"},
                "status": {"state": "weird-new-state"},
                "startsAt": "2026-11-25T03:00:00.123456789Z",
            },
            {
                "fingerprint": "aaa",
                "labels": {"alertname": "DiskFull", "instance": "a", "env": "prod"},
                "startsAt": "2026-11-25T02:00:00Z",
            },
        ],
    }
]


def silence(
    sid: str,
    matchers: list[dict[str, object]],
    comment: str = "ACK! x",
    state: str = "active",
    ends: str = "2026-11-25T05:00:00Z",
) -> dict[str, object]:
    return {
        "id": sid,
        "matchers": matchers,
        "status": {"state": state},
        "comment": comment,
        "createdBy": "a",
        "startsAt": "2026-11-25T03:00:00Z",
        "endsAt": ends,
    }


def m(name: str, value: str, regex: bool = False, equal: bool = True) -> dict[str, object]:
    return {"name": name, "value": value, "isRegex": regex, "isEqual": equal}


def test_groups_are_sorted_merged_and_tolerant() -> None:
    one = parse_groups(GROUPS, "prod")
    two = parse_groups(GROUPS, "prod")
    (group,) = merge_groups([one, two])
    assert [a.fingerprint for a in group.alerts] == ["aaa", "bbb"]
    assert group.alerts[1].state.value == "unprocessed"
    assert group.alerts[1].starts_at == datetime(2026, 11, 25, 3, 0, 0, 123456, tzinfo=UTC)
    assert group.receiver == "team-db" and group.cluster == "prod"
    assert group.key == parse_groups(GROUPS, "prod")[0].key != parse_groups(GROUPS, "")[0].key


@pytest.mark.parametrize(
    ("matchers", "comment", "state", "expected"),
    [
        ([m("alertname", "DiskFull")], "ACK! x", "active", True),
        ([m("alertname", "DiskFull")], "silence", "active", False),  # not an ack
        ([m("alertname", "DiskFull")], "ACK! x", "expired", False),
        ([m("instance", "a")], "ACK! x", "active", False),  # misses alert b
        # a regex is Alertmanager's to match: these alerts do not name s1 in silencedBy
        ([m("instance", "a|b", regex=True)], "ACK! x", "active", False),
        ([m("instance", "a", equal=False)], "ACK! x", "active", False),
        ([m("env", "staging", equal=False)], "ACK! x", "active", True),
        ([m("instance", "(?P<x", regex=True)], "ACK! x", "active", False),  # bad regex
        ([], "ACK! x", "active", False),  # matches everything: not this group's ack
    ],
)
def test_ack_attaches_only_when_every_alert_matches(
    matchers: list[dict[str, object]], comment: str, state: str, expected: bool
) -> None:
    (group,) = parse_groups(GROUPS, "")
    silences = parse_silences([silence("s1", matchers, comment, state)])
    found = ack_for(group, silences)
    assert (found is not None) is expected


def test_latest_ending_ack_wins() -> None:
    (group,) = parse_groups(GROUPS, "")
    silences = parse_silences(
        [
            silence("early", [m("alertname", "DiskFull")], ends="2026-11-25T04:00:00Z"),
            silence("late", [m("alertname", "DiskFull")], ends="2026-11-25T06:00:00Z"),
        ]
    )
    found = ack_for(group, silences)
    assert found is not None and found.id == "late"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"not": "a list"}, "groups is not a list"),
        ([{"alerts": [{"labels": {}}]}], "groups[0].alerts[0].fingerprint is not a string"),
        (
            [{"alerts": [{"fingerprint": "f", "receivers": "r"}]}],
            "groups[0].alerts[0].receivers is not a list",
        ),
    ],
)
def test_wrong_shapes_say_where(payload: object, message: str) -> None:
    with pytest.raises(ShapeError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_groups(payload, "")


def test_odd_label_values_do_not_crash() -> None:
    (group,) = parse_groups(
        [{"labels": {}, "alerts": [{"fingerprint": "f", "labels": {"n": 3, "b": None}}]}], ""
    )
    assert dict(group.alerts[0].labels) == {"n": "3", "b": "null"}
    assert group.name == "?"


def test_times_round_trip_in_alertmanager_format() -> None:
    when = datetime(2026, 11, 25, 3, 4, 5, 678901, tzinfo=UTC)
    assert format_time(when) == "2026-11-25T03:04:05.678Z"
    assert parse_time(format_time(when), "t") == when.replace(microsecond=678000)
    assert Matcher("a", "b").to_json() == m("a", "b")


def test_a_regex_ack_attaches_when_alertmanager_says_it_mutes_every_alert() -> None:
    groups = [dict(GROUPS[0])]
    groups[0]["alerts"] = [
        {**a, "status": {"state": "suppressed", "silencedBy": ["s1"]}}
        for a in GROUPS[0]["alerts"]  # type: ignore[attr-defined]
    ]
    (group,) = parse_groups(groups, "")
    silences = parse_silences([silence("s1", [m("instance", "(a+)+b", regex=True)])])
    found = ack_for(group, silences)
    assert found is not None and found.id == "s1"


@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "yesterday", 3, "9" * 99]
)
def test_an_alert_start_out_of_range_or_malformed_is_unknown(value: object) -> None:
    (group,) = parse_groups(
        [{"labels": {}, "alerts": [{"fingerprint": "f", "startsAt": value}]}], ""
    )
    assert group.alerts[0].starts_at is None


def test_a_silence_end_out_of_range_is_clamped_not_an_error() -> None:
    (raw,) = parse_silences([silence("s1", [m("a", "b")], ends="9999-12-31T23:59:59-01:00")])
    assert raw.silence.ends_at == datetime.max.replace(tzinfo=UTC)
