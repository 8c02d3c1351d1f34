"""`python -m tests.ui.pty_demo DIR`: the demo world 70 s into its script (the incident has
played out), run in this terminal as `cockpit --demo` runs; the audit log's path goes to
DIR/audit-path. Used by test_pty_path.py to drive the cockpit through a real pty."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path

from cockpit.clock import SystemClock
from cockpit.runtime import build_demo_runtime
from cockpit.ui.app import CockpitApp
from cockpit.ui.driver import HangupAwareDriver


class AheadClock(SystemClock):
    """The real clock, `ahead` seconds in the future (the world's script already run)."""

    ahead = 0.0

    def now(self) -> datetime:
        return super().now() + timedelta(seconds=self.ahead)


def main() -> None:
    directory = Path(sys.argv[1])
    clock = AheadClock()
    runtime = build_demo_runtime(clock)
    clock.ahead = 70
    assert runtime.audit is not None
    (directory / "audit-path").write_text(str(runtime.audit.path))
    CockpitApp(runtime, driver_class=HangupAwareDriver).run()


if __name__ == "__main__":
    main()
