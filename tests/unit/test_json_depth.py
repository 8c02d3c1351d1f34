"""loads_json(max_depth=): too-deep subtrees become a marker, the rest is kept (issue 10).

json.loads raises RecursionError past ~1,000 levels and an object_hook runs only after the deep
part was parsed, so a body too deep for it is cut by a scanner first; both paths must give the
same value as cap_depth() of the full value."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.backends.base import BadResponse
from cockpit.backends.http import TOO_DEEP, cap_depth, cut_deep_json, loads_json, nesting

TRICKY = st.sampled_from(['a]b{"', "[[", "}}", '\\"[', "\\\\", "x\\", "\u00fc{"])
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5) | TRICKY,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=3) | TRICKY, inner, max_size=3)
    ),
    max_leaves=30,
)


def nested_text(depth: int, leaf: str = "1") -> str:
    return '{"h": [' * depth + leaf + "]}" * depth


@settings(max_examples=300, deadline=None)
@given(VALUES, st.integers(min_value=1, max_value=8))
def test_the_scanner_cuts_exactly_where_cap_depth_does(value: Any, depth: int) -> None:
    text = json.dumps(value).encode()
    expected = cap_depth(json.loads(text), depth)
    assert json.loads(cut_deep_json(text, depth, json.dumps(TOO_DEEP).encode())) == expected
    assert loads_json(text, max_depth=depth) == expected


def test_a_1500_deep_subtree_becomes_the_marker_and_the_rest_stays() -> None:
    deep = nested_text(1500)
    body = f'[{{"id": "a", "headers": {{"x-deep": {deep}, "x-ok": "fine"}}}}, {{"id": "b"}}]'
    with pytest.raises(RecursionError):
        json.loads(body)
    value = loads_json(body, max_depth=10)
    assert value[1] == {"id": "b"}
    assert value[0]["headers"]["x-ok"] == "fine" and value[0]["id"] == "a"
    assert nesting(value, 100) == 10
    # str and bytes alike
    assert loads_json(body.encode(), max_depth=10) == value


def test_without_max_depth_deep_json_stays_a_bad_response() -> None:
    with pytest.raises(BadResponse, match="too deep"):
        loads_json(nested_text(5000))


def test_a_shallow_decode_that_json_manages_is_capped_too() -> None:
    """json.loads copes with 500 levels; what comes after it (json.dumps, repr) may not."""
    value = loads_json(nested_text(250), max_depth=20)
    assert nesting(value, 1000) == 20


@pytest.mark.parametrize(
    "body", [b"[" * 2_000_000, nested_text(3000).encode() + b"]", b'["unterminated' + b"[" * 5000]
)
def test_malformed_deep_bodies_are_one_bad_response_line(body: bytes) -> None:
    began = time.monotonic()
    with pytest.raises(BadResponse) as err:
        loads_json(body, max_depth=64)
    assert "not JSON" in str(err.value) and "\n" not in str(err.value)
    assert time.monotonic() - began < 5


def test_what_is_cut_is_not_looked_at() -> None:
    """A malformed part inside a too-deep subtree goes with it: only the marker is shown."""
    assert loads_json(nested_text(3000, ","), max_depth=2) == {"h": [TOO_DEEP]}


def test_cap_depth_handles_any_depth_without_recursion() -> None:
    value: Any = {}
    for _ in range(100_000):
        value = {"h": value}
    capped = cap_depth(value, 3)
    assert capped == {"h": {"h": {"h": TOO_DEEP}}}
    assert nesting(capped, 10) == 3
