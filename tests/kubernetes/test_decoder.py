"""The msgspec path (pod lists and watch lines decoded to only the keys pod_health reads)
must give the very rows the json.loads path gives, and fail with one clear line."""

from __future__ import annotations

import json
import random
import types
from collections.abc import Iterator, Mapping
from typing import Any, Union, get_args, get_origin, get_type_hints

import pytest

from cockpit.backends import podstatus
from cockpit.backends.base import BadResponse
from cockpit.backends.kubernetes import decode_watch_line, parse_pod_list
from cockpit.backends.podstatus import pod_decoder, pod_health
from tests.bench.bench_pods import realistic_pod
from tests.kubernetes.test_podstatus import CASES, NOW, pod, running

RAW_PODS = [case[1] for case in CASES]
IDS = [case[0] for case in CASES]


def pod_list(items: list[dict[str, Any]], version: str = "4242") -> bytes:
    body = {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": version}}
    return json.dumps({**body, "items": items}).encode()


@pytest.mark.parametrize("raw", RAW_PODS, ids=IDS)
def test_decoded_pod_gives_the_same_row_as_the_raw_dict(raw: dict[str, Any]) -> None:
    expected = pod_health(raw, NOW)
    (listed,), version = parse_pod_list(pod_list([raw]), NOW)
    assert listed == expected
    assert version == "4242"
    event_type, obj = decode_watch_line(json.dumps({"type": "MODIFIED", "object": raw}))
    assert event_type == "MODIFIED"
    assert pod_health(obj, NOW) == expected


def test_a_realistic_list_gives_the_same_rows_both_ways() -> None:
    rng = random.Random(3)
    items = [realistic_pod(i, rng) for i in range(300)]
    rows, version = parse_pod_list(pod_list(items, "77"), NOW)
    assert rows == [pod_health(item, NOW) for item in items]
    assert version == "77"
    assert {row.status for row in rows} == {"Running", "CrashLoopBackOff"}


def test_str_body_and_empty_list_work() -> None:
    assert parse_pod_list(pod_list([]).decode(), NOW) == ([], "4242")
    assert parse_pod_list(b'{"kind": "PodList", "items": null}', NOW) == ([], "")


def test_unread_keys_are_not_decoded() -> None:
    raw = pod()
    raw["metadata"]["labels"] = {"app": "web", "team": "shop", "pod-template-hash": "7d4b9c"}
    decoded = pod_decoder().decode(json.dumps(raw))
    # the skipping is where the speed comes from: only the labels alerts are matched on
    assert decoded["metadata"]["labels"] == {"app": "web", "pod-template-hash": "7d4b9c"}
    assert "image" not in decoded["spec"]["containers"][0]
    assert decoded["metadata"]["name"] == "web-7d4b9c-x2x9q"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"kind": "PodList", "items": [', "the cluster answered with malformed JSON"),
        (b"<html>502 Bad Gateway</html>", "the cluster answered with malformed JSON"),
        (b"", "the cluster answered with malformed JSON"),
        (b'{"items": {"a": 1}}', "the cluster's pod list is not a PodList"),
        (b'{"items": [1, 2]}', "the cluster's pod list is not a PodList"),
        (b'{"items": [{"status": "Failure"}]}', "the cluster's pod list is not a PodList"),
        (b"[]", "the cluster's pod list is not a PodList"),
    ],
)
def test_a_bad_body_is_one_clear_line(body: bytes, message: str) -> None:
    with pytest.raises(BadResponse) as caught:
        parse_pod_list(body, NOW)
    assert str(caught.value) == message


def test_watch_lines() -> None:
    gone = {"kind": "Status", "status": "Failure", "message": "too old", "code": 410}
    assert decode_watch_line(json.dumps({"type": "ERROR", "object": gone}).encode()) == (
        "ERROR",
        gone,  # a Status is decoded whole: its "status" is a string, not a pod status
    )
    bookmark = {"kind": "Pod", "metadata": {"resourceVersion": "9", "annotations": {"a": "b"}}}
    assert decode_watch_line(json.dumps({"type": "BOOKMARK", "object": bookmark})) == (
        "BOOKMARK",
        {"metadata": {"resourceVersion": "9"}},  # where the watch resumes survives
    )
    assert decode_watch_line(b'{"type": "ADDED", "object": null}') == ("ADDED", {})
    for bad in (b'{"type": "ADDED", "object": {', b"[1]", b"not json"):
        with pytest.raises(BadResponse, match=r"^the cluster's watch stream is not JSON lines$"):
            decode_watch_line(bad)


# ---------------------------------------------------------------- schema vs pod_health


class _Spy(Mapping[str, Any]):
    """A raw pod that records every key path pod_health reads ('status.conditions[].type')."""

    def __init__(self, data: Mapping[str, Any], path: str, seen: set[str]) -> None:
        self._data, self._path, self._seen = data, path, seen

    def __getitem__(self, key: str) -> Any:
        path = f"{self._path}.{key}" if self._path else key
        self._seen.add(path)
        return _spy(self._data[key], path, self._seen)

    def __iter__(self) -> Iterator[str]:
        raise AssertionError(f"pod_health iterated {self._path}: the schema cannot list it")

    def __len__(self) -> int:
        return len(self._data)


def _spy(value: Any, path: str, seen: set[str]) -> Any:
    if isinstance(value, Mapping):
        return _Spy(value, path, seen)
    if isinstance(value, list):
        return [_spy(item, f"{path}[]", seen) for item in value]
    return value


def _schema_paths(hint: Any, path: str = "") -> set[str]:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        return set().union(*(_schema_paths(arg, path) for arg in get_args(hint)))
    if origin is list:
        return _schema_paths(get_args(hint)[0], f"{path}[]")
    if isinstance(hint, type) and issubclass(hint, dict) and hasattr(hint, "__total__"):
        paths: set[str] = set()
        for key, sub in get_type_hints(hint).items():
            child = f"{path}.{key}" if path else key
            paths |= {child} | _schema_paths(sub, child)
        return paths
    return set()


def test_the_schema_holds_every_key_pod_health_reads() -> None:
    # a key read here but missing from the TypedDicts would silently vanish from decoded
    # pods; the table cases plus a sidecar with restarts reach every branch that reads
    extra = pod(
        [running(restarts=2, last_exit={"finishedAt": "2026-11-25T02:00:00Z"})],
        deleting=True,
        reason="NodeLost",
    )
    seen: set[str] = set()
    for raw in [*RAW_PODS, extra]:
        pod_health(_Spy(raw, "", seen), NOW)
    schema = _schema_paths(podstatus._Pod)
    assert seen - schema == set()
    assert {"status.containerStatuses[].state.waiting.reason", "metadata.uid"} <= seen


def test_a_list_read_into_a_buffer_is_parsed_item_by_item_with_the_same_rows() -> None:
    """read_body returns a bytearray (no joined copy of the chunks); its items are decoded
    one at a time: rows, version and continue token as from the body as bytes."""
    from cockpit.backends.kubernetes import parse_pod_page

    rng = random.Random(5)
    items = [realistic_pod(i, rng) for i in range(50)]
    body = {"kind": "PodList", "metadata": {"resourceVersion": "9", "continue": "next"}}
    data = json.dumps({**body, "items": items}).encode()
    rows, version, token = parse_pod_page(bytearray(data), NOW)
    assert rows == [pod_health(item, NOW) for item in items]
    assert (version, token) == ("9", "next")
    assert parse_pod_page(data, NOW) == (rows, "9", "next")


@pytest.mark.parametrize(
    "items",
    [b"[null]", b'[{"metadata": {"name": 3}}]', b'[{"spec": {}}, "pod"]', b"[{}, [1]]"],
)
def test_one_bad_item_among_good_ones_fails_the_whole_list(items: bytes) -> None:
    good = json.dumps(pod()).encode()
    body = b'{"items": [' + good + b", " + items[1:-1] + b"]}"
    with pytest.raises(BadResponse, match="not a PodList"):
        parse_pod_list(body, NOW)
