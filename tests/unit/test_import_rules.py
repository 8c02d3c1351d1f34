"""The import rules (import-linter contracts in pyproject.toml, run by `lint-imports` in
tests/run.sh) cover every module: a new core module is checked too."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_CORE = {"__init__", "__main__", "cli", "ui"}  # cli and __main__ start the App


def contracts() -> dict[str, dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {c["name"]: c for c in config["tool"]["importlinter"]["contracts"]}


def test_every_core_module_is_forbidden_the_ui() -> None:
    (core,) = [c for name, c in contracts().items() if name.startswith("The core knows no UI")]
    assert core["forbidden_modules"] == ["cockpit.ui", "textual"]
    modules = {
        f"cockpit.{p.stem}"
        for p in (ROOT / "cockpit").iterdir()
        if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))
        and p.stem not in NOT_CORE
    }
    assert modules <= set(core["source_modules"]), modules - set(core["source_modules"])


def test_the_ui_rules_cover_modules_added_later() -> None:
    by_name = contracts()
    assert by_name["No panel imports another panel"]["modules"] == ["cockpit.ui.panels.*"]
    assert by_name["One room per feature: no flow module imports another"]["modules"] == [
        "cockpit.ui.flows.*"
    ]
    app_rule = by_name["Only cli (and the tests) import the App: nothing under cockpit.ui does"]
    assert app_rule["source_modules"] == ["cockpit.ui.**"]
