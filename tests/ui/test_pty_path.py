"""The 3 a.m. path over a real pseudo-terminal, as over SSH: bytes in, the terminal driver's
own parsing, bursts written in one write and a bracketed paste. Outcomes from the audit log."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from cockpit.audit import read_audit

ROOT = Path(__file__).resolve().parents[2]


class Terminal:
    """The cockpit in a pty of the given size; what it writes is kept (a reader thread, so
    a full pty never blocks it)."""

    def __init__(self, tmp_path: Path, width: int, height: int) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
        env = {
            **os.environ,
            "TERM": "xterm-256color",
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
        }
        env.pop("COCKPIT_CONFIG", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.ui.pty_demo", str(tmp_path)],
            stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env, start_new_session=True,
        )  # fmt: skip
        os.close(slave)
        self.master = master
        self.out = bytearray()
        self.seen = 0
        self.tmp_path = tmp_path
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    return
                if not data:
                    return
                self.out += data

    def wait_for(self, marker: str, timeout: float = 30.0) -> None:
        """Until the screen shows `marker` (in what was written since the last wait)."""
        deadline = time.monotonic() + timeout
        needle = marker.encode()
        while time.monotonic() < deadline:
            at = self.out.find(needle, self.seen)
            if at >= 0:
                self.seen = at + len(needle)
                time.sleep(0.15)  # the engineer reads it
                return
            time.sleep(0.05)
        raise AssertionError(f"the screen never showed {marker!r}")

    def type(self, *keys: bytes) -> None:
        """Keys typed one by one, as a person types (each its own read)."""
        for key in keys:
            os.write(self.master, key)
            # a lone ESC waits for the driver's escape delay, or the next key reads as alt+key
            time.sleep(0.5 if key == b"\x1b" else 0.12)

    def burst(self, data: bytes) -> None:
        os.write(self.master, data)

    def audit(self) -> list[dict[str, Any]]:
        path = Path((self.tmp_path / "audit-path").read_text())
        if not path.exists():
            return []
        return [e for e in read_audit(path) if e["action"] != "session"]

    def wait_done(self, action: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(
                e["action"] == action and e["outcome"] in {"ok", "queued"} for e in self.audit()
            ):
                return
            time.sleep(0.1)
        raise AssertionError(f"{action} not in the audit log: {self.audit()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        os.close(self.master)


@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
def test_the_path_over_a_pty(tmp_path: Path, size: tuple[int, int]) -> None:
    term = Terminal(tmp_path, *size)
    try:
        term.wait_for("CheckoutLatencyHigh")
        term.wait_for("OOMKilled")
        # bursts and a paste first: nothing may act
        term.burst(b"3/registry")
        time.sleep(1.0)
        term.type(b"\x1b")  # escape: the filter cleared
        term.burst(b"\x1b[200~ry yy\r/invoices\x1b[201~")  # bracketed paste on the table
        time.sleep(1.0)
        term.type(b"\x1b")
        term.burst(b"ry")  # r opens the dialog; the y typed with it is no answer
        term.wait_for("Restart payments")
        time.sleep(1.0)
        assert term.audit() == []
        term.type(b"n")

        term.type(b"1", b"i")
        term.wait_for("Declare an incident")
        term.type(b"\x13")  # ctrl+s
        term.wait_done("declare")
        term.type(b"a")
        term.wait_for("Acknowledge CheckoutLatencyHigh")
        term.type(b"y")
        term.wait_done("ack")
        term.type(b"3", b"r")
        term.wait_for("Restart payments")
        term.wait_for("(x) 2 ")  # option 2, the rollout restart, preselected
        term.type(b"y")
        term.wait_done("restart")
        term.type(b"4", b"/", *(bytes([c]) for c in b"invoices"), b"\r", b"m")
        term.wait_for("messages at the head of //invoices")
        term.type(b"d")
        term.wait_for("Quarantine a message from invoices")
        term.type(b"y")
        term.wait_done("quarantine")
        term.type(b"\x1b")
        term.type(b"u")
        term.wait_for("Customer update for")
        term.type(b"\x13")
        term.wait_for("Post this update")
        term.type(b"y")
        term.wait_done("customer_update")
        term.type(b"e")
        term.wait_for("Escalate to a developer team")
        term.type(b"y")
        term.wait_done("escalate")
        done = [e["action"] for e in term.audit() if e["outcome"] in {"ok", "queued"}]
        for action in ("declare", "ack", "restart", "quarantine", "customer_update", "escalate"):
            assert done.count(action) == 1, done
        # ctrl+c quits
        term.type(b"\x03")
        term.proc.wait(10)
    finally:
        term.stop()
