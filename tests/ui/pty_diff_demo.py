"""`python -m tests.ui.pty_diff_demo LOG [--hostile]`: `cockpit --demo` in this terminal, as
`cockpit --demo` runs, with every write Textual makes recorded to LOG (one JSON line each, as
it came, before the terminal diff; a resize as {"resize": [w, h]} where the diff took it).
test_terminal_diff_pty.py replays the log through a VT emulator raw and through the diff.
`--hostile`: tests/hostile_world.py's items, the pod's name with wide characters, an emoji
and a combining mark too."""

from __future__ import annotations

import json
import sys

from cockpit.clock import SystemClock
from cockpit.runtime import build_demo_runtime
from cockpit.ui import terminal_diff
from cockpit.ui.app import CockpitApp
from cockpit.ui.driver import HangupAwareDriver


def main() -> None:
    log = open(sys.argv[1], "w", encoding="utf-8")  # noqa: SIM115 (open for the whole run)
    feed = terminal_diff.TerminalDiff.feed

    def recorded(self: terminal_diff.TerminalDiff, data: str) -> str:
        if self._resizes != self._resizes_seen:
            log.write(json.dumps({"resize": list(self._resize_to)}) + "\n")
        log.write(json.dumps(data) + "\n")
        log.flush()
        return feed(self, data)

    terminal_diff.TerminalDiff.feed = recorded  # type: ignore[method-assign]
    runtime = build_demo_runtime(SystemClock())
    if "--hostile" in sys.argv:
        from tests import hostile_world

        # wide characters, emoji and a combining mark in a pod's name, besides the escapes
        hostile_world.POD_NAME = "支付-🔥-cafe\u0301-" + hostile_world.POD_NAME
        runtime = hostile_world.make_hostile(runtime)
    CockpitApp(runtime, driver_class=HangupAwareDriver).run()


if __name__ == "__main__":
    main()
