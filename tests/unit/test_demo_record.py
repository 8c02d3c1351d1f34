"""`cockpit --demo` keeps its last session in a stable directory; `cockpit --demo
postmortem` writes the draft there and says where."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.cli import main
from cockpit.clock import FrozenClock
from cockpit.domain import Severity
from cockpit.incident.postmortem import short_path
from cockpit.runtime import build_demo_runtime, demo_dir


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


async def test_demo_postmortem_writes_into_the_demo_directory(
    clock: FrozenClock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--demo", "postmortem"]) == 2
    assert "no demo session recorded yet" in capsys.readouterr().err

    runtime = build_demo_runtime(clock, directory=demo_dir())
    from cockpit.actions import Actions

    actions = Actions(
        store=runtime.store, identity=runtime.config.identity, clock=clock, live=_live()
    )
    declared = await actions.declare("Checkout latency", Severity.SEV1)
    await runtime.close()

    assert main(["--demo", "postmortem"]) == 0
    out = capsys.readouterr().out.strip()
    written = demo_dir() / "postmortems" / f"{declared.ids['incident']}-postmortem.md"
    assert out == f"wrote {written}" and written.read_text().startswith("# Post-mortem")
    assert main(["--demo", "postmortem", "--stdout"]) == 0
    assert capsys.readouterr().out.startswith("# Post-mortem")

    # a new demo session starts from an empty record (the world starts again at t=0)
    runtime = build_demo_runtime(clock, directory=demo_dir())
    assert runtime.store.incidents() == []
    assert runtime.postmortem_dir == demo_dir() / "postmortems"
    await runtime.close()


def test_short_path_uses_tilde_and_fits_the_width() -> None:
    home = Path.home()
    assert short_path(home / ".local/share/cockpit/x.md") == "~/.local/share/cockpit/x.md"
    long = home / ("a" * 80) / "INC-2026-0001-postmortem.md"
    short = short_path(long, 40)
    assert len(short) == 40 and short.startswith("~/") and short.endswith("postmortem.md")


def _live():  # type: ignore[no-untyped-def]
    from cockpit.live import LiveState

    return LiveState()
