"""The fast way from an /api/v2/alerts/groups body to groups (parse_groups_body, msgspec)
gives exactly what the general way (json.loads + parse_groups) gives, or None and leaves
the body to it; and the memos behind both (times, severities, group keys) never hand back
a stale answer. No server: bodies are built here.
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cockpit.backends import alertmanager_parse as parse
from cockpit.backends.alertmanager_parse import (
    group_key,
    merge_groups,
    parse_groups,
    parse_groups_body,
    parse_time_or_unknown,
    severity_of,
)
from cockpit.domain import Alert, AlertGroup, AlertState
from tests import fuzz


def general(body: bytes, cluster: str = "c") -> list[AlertGroup]:
    return parse_groups(json.loads(body), cluster)


def assert_same(fast: list[AlertGroup], slow: list[AlertGroup]) -> None:
    """Equal, and field by field of the same types (a tuple stays a tuple, a label
    mapping read-only), so nothing downstream can tell which way a body took."""
    assert fast == slow
    for fg, sg in zip(fast, slow, strict=True):
        for a, b in [(fg, sg), *zip(fg.alerts, sg.alerts, strict=True)]:
            for f in fields(a):
                x, y = getattr(a, f.name), getattr(b, f.name)
                assert type(x) is type(y) or (f.name in {"labels", "annotations"}), f.name
                assert x == y, f.name
        for a in fg.alerts:
            with pytest.raises(TypeError):
                a.labels["x"] = "y"  # type: ignore[index]


WELL_FORMED = [
    {
        "labels": {"alertname": "DiskFull", "service": "db"},
        "receiver": {"name": "team-db"},
        "alerts": [
            {
                "fingerprint": "bbb",
                "labels": {"alertname": "DiskFull", "severity": " Critical ", "team": "db"},
                "annotations": {"summary": "\x1b]2;pwned\x07 disk \u202eevil"},
                "status": {"state": "suppressed", "silencedBy": ["s1", "s2"], "inhibitedBy": []},
                "receivers": [{"name": "team-db"}, {}],
                "startsAt": "2026-11-25T03:00:00.123456789Z",
                "endsAt": "2026-11-25T09:00:00Z",
                "updatedAt": "2026-11-25T03:00:01Z",
                "generatorURL": "http://prom/graph",
            },
            {
                "fingerprint": "aaa",
                "labels": {"alertname": "DiskFull"},
                "status": {"state": "active"},
                "startsAt": "0001-01-01T00:00:00+01:00",
            },
            {"fingerprint": "ccc", "status": None, "startsAt": "yesterday", "labels": None},
        ],
    },
    {"labels": None, "receiver": None, "alerts": None},
    {},
]


def test_a_documented_body_takes_the_fast_way_and_gives_the_same_groups() -> None:
    body = json.dumps(WELL_FORMED).encode()
    fast = parse_groups_body(body, "c")
    assert fast is not None
    assert_same(fast, general(body))
    first = fast[0].alerts[0]
    assert first.silenced_by == ("s1", "s2") and first.state is AlertState.SUPPRESSED
    assert first.severity == "critical" and first.receivers == ("team-db", "")
    assert first.annotations["summary"].startswith("\x1b]2;")  # verbatim: the UI cleans it
    assert fast[0].alerts[1].starts_at is None  # out of range: unknown
    assert fast[0].alerts[2].state is AlertState.UNPROCESSED


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"null",
        b'{"not": "a list"}',
        b"[{]",
        b'[{"alerts": [{"labels": {}}]}]',  # no fingerprint: the general way says where
        b'[{"alerts": [{"fingerprint": "f", "labels": {"n": 3, "b": null}}]}]',  # tolerated
        b'[{"alerts": [{"fingerprint": "f", "status": {"state": null}}]}]',
        b'[{"alerts": [{"fingerprint": "f", "status": false}]}]',
        b'[{"alerts": [{"fingerprint": "f", "receivers": {}}]}]',
        b'[{"alerts": [{"fingerprint": "f", "startsAt": 3}]}]',
        b'[{"alerts": [{"fingerprint": "f", "status": {"silencedBy": [1]}}]}]',
        b'[{"alerts": [{"fingerprint": "\\ud800"}]}]',  # a lone surrogate: json.loads takes it
        b"\xef\xbb\xbf[]",  # a BOM
        b'[{"x": ' + b"[" * 5000 + b"]" * 5000 + b"}]",  # too deep even to skip
    ],
)
def test_any_other_body_is_left_to_the_general_way(body: bytes) -> None:
    assert parse_groups_body(body, "c") is None


def test_a_label_value_that_is_not_a_string_is_still_shown_through_the_source_path() -> None:
    body = b'[{"labels": {}, "alerts": [{"fingerprint": "f", "labels": {"n": 3}}]}]'
    assert parse_groups_body(body, "") is None
    (group,) = general(body, "")
    assert dict(group.alerts[0].labels) == {"n": "3"}


def well_formed() -> st.SearchStrategy[Any]:
    text = st.text(max_size=8) | st.sampled_from(["\x1b[2J", "[bold]x[/]", "\u202e", " WARN "])
    labels = st.dictionaries(text, text, max_size=4) | st.none()
    stamp = fuzz.times.filter(lambda t: isinstance(t, str)) | st.none()
    names = st.lists(text, max_size=2) | st.none()
    state = st.sampled_from(["active", "suppressed", "unprocessed", "odd"])
    status = st.fixed_dictionaries(
        {}, optional={"state": state, "silencedBy": names, "inhibitedBy": names}
    )
    alert = st.fixed_dictionaries(
        {"fingerprint": st.sampled_from(["a", "b", "c"]) | text},
        optional={
            "labels": labels,
            "annotations": labels,
            "status": status | st.none(),
            "startsAt": stamp,
            "generatorURL": text | st.none(),
            "receivers": st.lists(st.fixed_dictionaries({}, optional={"name": text})) | st.none(),
            "endsAt": stamp,
        },
    )
    group = st.fixed_dictionaries(
        {},
        optional={
            "labels": labels,
            "receiver": st.fixed_dictionaries({}, optional={"name": text}) | st.none(),
            "alerts": st.lists(alert, max_size=4) | st.none(),
        },
    )
    return st.lists(group, max_size=4)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(well_formed())
def test_fast_and_general_agree_on_documented_bodies(payload: Any) -> None:
    body = json.dumps(payload).encode()
    fast = parse_groups_body(body, "c")
    assert fast is not None
    assert_same(fast, general(body))
    # merging one member's groups (the shortcut) is what the general merge makes
    assert merge_groups([fast]) == merge_groups([fast, []])


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(fuzz.listing(fuzz.group))
def test_fast_never_disagrees_on_any_body(payload: Any) -> None:
    """Bodies of any JSON in any field: the fast way answers the same, or not at all."""
    body = json.dumps(payload).encode()
    fast = parse_groups_body(body, "c")
    if fast is not None:
        assert_same(fast, general(body))


def test_merge_keeps_one_member_groups_as_they_are_when_in_order() -> None:
    body = json.dumps(WELL_FORMED).encode()
    groups = parse_groups_body(body, "c")
    assert groups is not None
    merged = merge_groups([groups])
    # bbb (a start) before aaa and ccc (unknown starts, by fingerprint): already in order
    assert [a.fingerprint for a in merged[0].alerts] == ["bbb", "aaa", "ccc"]
    assert merged[0] is groups[0] and merged[1] is groups[1]
    reordered = [
        AlertGroup(g.key, g.labels, tuple(reversed(g.alerts)), g.receiver, cluster=g.cluster)
        for g in groups
    ]
    again = merge_groups([reordered])
    assert again[0] is not reordered[0] and again == merged == merge_groups([reordered, []])


def test_merge_dedupes_a_fingerprint_repeated_in_one_member_group() -> None:
    alert = {"fingerprint": "f", "labels": {"alertname": "A"}, "startsAt": "2026-11-25T03:00:00Z"}
    body = json.dumps([{"labels": {"alertname": "A"}, "alerts": [alert, alert]}]).encode()
    groups = parse_groups_body(body, "")
    assert groups is not None and len(groups[0].alerts) == 2
    (merged,) = merge_groups([groups])
    assert [a.fingerprint for a in merged.alerts] == ["f"]


def test_merge_merges_a_group_key_repeated_in_one_member() -> None:
    def one(fp: str) -> dict[str, Any]:
        return {"labels": {"alertname": "A"}, "alerts": [{"fingerprint": fp}]}

    groups = parse_groups_body(json.dumps([one("x"), one("y")]).encode(), "")
    assert groups is not None
    (merged,) = merge_groups([groups])
    assert sorted(a.fingerprint for a in merged.alerts) == ["x", "y"]


# ------------------------------------------------------------------------- the memos


def test_the_time_memo_answers_what_parsing_answers() -> None:
    parse._TIMES.clear()
    for value in ["2026-11-25T03:00:00Z", "0001-01-01T00:00:00+01:00", "yesterday", ""]:
        first = parse_time_or_unknown(value)
        assert parse_time_or_unknown(value) == first
        parse._TIMES.clear()
        assert parse_time_or_unknown(value) == first  # computed again: the same
    assert parse_time_or_unknown(None) is None and parse_time_or_unknown(3) is None
    assert None not in parse._TIMES and 3 not in parse._TIMES  # only strings are kept


def test_the_memos_start_again_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse, "_MEMO_MAX", 3)
    parse._TIMES.clear()
    parse._SEVERITIES.clear()
    parse._GROUP_KEYS.clear()
    for second in range(10):
        stamp = f"2026-11-25T03:00:{second:02d}Z"
        assert parse_time_or_unknown(stamp) is not None
        assert severity_of({"severity": f"S{second}"}) == f"s{second}"
        assert json.loads(group_key("c", "r", {"n": str(second)}))[2] == [["n", str(second)]]
    assert len(parse._TIMES) <= 3 and len(parse._SEVERITIES) <= 3 and len(parse._GROUP_KEYS) <= 3


def test_a_group_key_follows_its_labels_cluster_and_receiver() -> None:
    key = group_key("c", "r", {"alertname": "A", "service": "x"})
    assert group_key("c", "r", {"alertname": "A", "service": "x"}) == key
    assert group_key("c", "r", {"service": "x", "alertname": "A"}) == key  # sorted inside
    assert group_key("c", "r", {"alertname": "A", "service": "y"}) != key
    assert group_key("d", "r", {"alertname": "A", "service": "x"}) != key
    assert group_key("c", "q", {"alertname": "A", "service": "x"}) != key


def test_severity_is_trimmed_lower_case_and_none_when_absent() -> None:
    assert severity_of({"severity": " CRITICAL "}) == "critical"
    assert severity_of({"severity": "   "}) == "none"
    assert severity_of({"severity": ""}) == "none"
    assert severity_of({}) == "none"


def test_an_alert_whose_labels_change_is_a_new_alert_in_a_new_group() -> None:
    """Alertmanager gives an alert whose labels changed a new fingerprint and, when a
    group_by label changed, a new group: nothing of the old one may stick to it."""

    def body(service: str, severity: str, fp: str) -> bytes:
        alert = {"fingerprint": fp, "labels": {"alertname": "A", "service": service}}
        alert["labels"]["severity"] = severity  # type: ignore[index]
        return json.dumps(
            [{"labels": {"alertname": "A", "service": service}, "alerts": [alert]}]
        ).encode()

    before = parse_groups_body(body("x", "warning", "f1"), "")
    after = parse_groups_body(body("y", "critical", "f2"), "")
    assert before is not None and after is not None
    assert before[0].key != after[0].key
    assert after[0].alerts[0].severity == "critical" and after[0].alerts[0].fingerprint == "f2"
    assert dict(after[0].labels) == {"alertname": "A", "service": "y"}
    assert isinstance(after[0].alerts[0], Alert)


def test_a_group_key_is_the_json_it_always_was() -> None:
    """Stored history names groups by key: the memo and the encoder change nothing of it."""
    parse._GROUP_KEYS.clear()
    labels = {"service": "é\u202e\x1b", "alertname": 'a"b'}
    want = json.dumps(["c", "r", sorted(labels.items())], ensure_ascii=False)
    assert group_key("c", "r", labels) == want
    assert group_key("c", "r", labels) == want  # from the memo
