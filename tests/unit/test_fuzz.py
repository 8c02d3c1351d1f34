"""Issue 10: the quick fuzz profile of every parser of outside data (tests/fuzz.py).

The deep profile (10,000 examples per parser) runs from the command line:
    .venv/bin/python -m tests.fuzz --deep
"""

from __future__ import annotations

import pytest

from tests.fuzz import QUICK_EXAMPLES, TARGETS, Target, fuzz
from tests.hostile import TALLY


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_parser_raises_only_its_documented_errors(target: Target) -> None:
    report = fuzz(target, QUICK_EXAMPLES)
    TALLY["fuzz examples"] += report.examples
    TALLY["fuzz failures"] += sum(report.failures.values())
    assert not report.failures, "\n".join(
        f"{count} x {report.first[kind]}" for kind, count in report.failures.items()
    )
