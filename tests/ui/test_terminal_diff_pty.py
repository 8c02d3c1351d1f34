"""The terminal diff on real Textual output: `cockpit --demo` (and the hostile world) in a real
pty, every write Textual made recorded (tests/ui/pty_diff_demo.py) while the diff's output
went to the pty. Proven, not assumed:

- replayed through a VT emulator (pyte) twice, once raw and once through a fresh
  TerminalDiff, the two screens (characters, colours and attributes per cell, cursor position
  and visibility) are the same after every write Textual made;
- what the live diff wrote to the pty gives the same final screen as Textual's raw output;
- and it is far fewer bytes.
At 80x24 and 200x50, with keys, a zoom, a dialog opened and closed, and a resize."""

from __future__ import annotations

import fcntl
import json
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

import pyte
import pytest

from cockpit.ui.terminal_diff import TerminalDiff

ROOT = Path(__file__).resolve().parents[2]


class Recorded:
    """The cockpit in a pty, its writes recorded to a log, what reached the pty kept."""

    def __init__(self, tmp_path: Path, width: int, height: int, *extra: str) -> None:
        master, slave = pty.openpty()
        self.slave = slave
        self.resize_pty(width, height)
        self.log = tmp_path / "writes.jsonl"
        env = {
            **os.environ,
            "TERM": "xterm-256color",
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
        }
        env.pop("COCKPIT_CONFIG", None)
        env.pop("COCKPIT_TERMINAL_DIFF", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.ui.pty_diff_demo", str(self.log), *extra],
            stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env, start_new_session=True,
        )  # fmt: skip
        self.master = master
        self.out = bytearray()
        threading.Thread(target=self._read, daemon=True).start()

    def resize_pty(self, width: int, height: int) -> None:
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))

    def resize(self, width: int, height: int) -> None:
        self.resize_pty(width, height)
        os.killpg(self.proc.pid, signal.SIGWINCH)

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

    def type(self, *keys: bytes, pause: float = 0.6) -> None:
        for key in keys:
            os.write(self.master, key)
            time.sleep(pause)

    def wait_for_writes(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log.exists() and len(self.log.read_text().splitlines()) >= count:
                return
            time.sleep(0.1)
        raise AssertionError("the cockpit wrote nothing")

    def stop(self) -> list[Any]:
        """Stop it at once (no goodbye frames); the recorded writes."""
        time.sleep(0.5)  # the last writes reach the pty
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        time.sleep(0.2)
        os.close(self.slave)
        os.close(self.master)
        lines = self.log.read_text(encoding="utf-8").split("\n")
        if lines and lines[-1]:  # the write it was killed in the middle of
            lines.pop()
        return [json.loads(line) for line in lines if line]


def snapshot(screen: Any) -> tuple[Any, ...]:
    rows = tuple(
        tuple(screen.buffer[y][x] for x in range(screen.columns)) for y in range(screen.lines)
    )
    return rows, screen.cursor.x, screen.cursor.y, screen.cursor.hidden


def describe(raw: tuple[Any, ...], diffed: tuple[Any, ...]) -> str:
    if raw[1:] != diffed[1:]:
        return f"cursor raw {raw[1:]} vs diffed {diffed[1:]}"
    for y, (a, b) in enumerate(zip(raw[0], diffed[0], strict=True)):
        if a != b:
            x = next(x for x, (c, d) in enumerate(zip(a, b, strict=True)) if c != d)
            text_a = "".join(c.data for c in a)
            text_b = "".join(c.data for c in b)
            return f"row {y} col {x}: {a[x]} vs {b[x]}\n raw    {text_a!r}\n diffed {text_b!r}"
    return "same"


def replay(writes: list[Any], width: int, height: int) -> tuple[int, int, list[str], Any]:
    """Both screens after every write: the first that differs fails. Returns the bytes in,
    the bytes out, the diff's output per write and the raw screen."""
    raw, diffed = pyte.Screen(width, height), pyte.Screen(width, height)
    raw_stream, diffed_stream = pyte.Stream(raw), pyte.Stream(diffed)
    diff = TerminalDiff(width, height)
    chars_in = chars_out = 0
    output: list[str] = []
    for index, write in enumerate(writes):
        if isinstance(write, dict):
            width, height = write["resize"]
            raw.resize(height, width)
            diffed.resize(height, width)
            diff.request_resize(width, height)
            continue
        out = diff.feed(write)
        output.append(out)
        chars_in += len(write.encode())
        chars_out += len(out.encode())
        raw_stream.feed(write)
        diffed_stream.feed(out)
        a, b = snapshot(raw), snapshot(diffed)
        assert a == b, f"write {index} of {len(writes)}: {describe(a, b)}"
    return chars_in, chars_out, output, raw


def same_as_live(live: bytes, output: list[str]) -> None:
    """What the diff in the cockpit wrote is, byte for byte, what the replay's diff wrote
    (up to the last writes, cut off when the cockpit was stopped)."""
    replayed = "".join(output).encode().replace(b"\n", b"\r\n")  # the pty's ONLCR
    # desktop notifications (OSC 9 / 777) go through the same writer, so they are in both
    assert replayed.startswith(live), "the live diff wrote something else"
    assert len(live) >= len("".join(output[:-3]).encode()), "the live diff wrote less"


def session(tmp_path: Path, width: int, height: int, *extra: str, resize: bool) -> list[Any]:
    cockpit = Recorded(tmp_path, width, height, *extra)
    try:
        cockpit.wait_for_writes(10)
        time.sleep(4)  # the first screen and a few of the world's moves
        cockpit.type(b"j", b"j", b"j", b"\t", b"j", b"z")  # move, next panel, zoom
        time.sleep(1.5)
        cockpit.type(b"z", b"\t", b"?")  # unzoom, the help dialog
        time.sleep(1.0)
        cockpit.type(b"\x1b", pause=1.0)  # closed
        if resize:
            cockpit.resize(120, 40)
            time.sleep(2.0)
            cockpit.type(b"j", b"j")
            cockpit.resize(width, height)
            time.sleep(2.0)
        time.sleep(2.0)
    finally:
        writes = cockpit.stop()
    return [*writes, {"live": bytes(cockpit.out)}]


@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
def test_the_diff_shows_what_textual_meant(tmp_path: Path, size: tuple[int, int]) -> None:
    width, height = size
    *writes, live = session(tmp_path, width, height, resize=True)
    assert any(isinstance(w, dict) for w in writes), "the resize never reached the diff"
    chars_in, chars_out, output, _ = replay(writes, width, height)
    same_as_live(live["live"], output)  # the diff in the cockpit, on its writer thread
    assert chars_out < chars_in * 0.7, (chars_in, chars_out)


def test_hostile_strings_wide_characters_and_emoji(tmp_path: Path) -> None:
    *writes, live = session(tmp_path, 200, 50, "--hostile", resize=False)
    chars_in, chars_out, output, raw_screen = replay(writes, 200, 50)
    assert "支付" in "\n".join(raw_screen.display)
    assert chars_out < chars_in
    same_as_live(live["live"], output)
    # data never became a control sequence: nothing but what Textual itself sent
    for forbidden in ("\x1b]2;PWNED", "\x1b]52;", "\x1bP1$r", "\u202e", "\x9b"):
        assert forbidden not in "".join(output)
