"""Issue 10: the real cockpit in a real pseudo-terminal, its raw output captured to a file
while hostile alerts, pods, queues and messages are shown, opened and acted on. None of
the injected sequences may be in that output, and the cockpit must still be running."""

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

from tests.hostile import FORBIDDEN_OUTPUT, TALLY

ROOT = Path(__file__).resolve().parents[2]

# (keys, seconds to let the screen answer): filter to the hostile row, open it, act on it
SCRIPT: list[tuple[bytes, float]] = [
    (b"/", 0.3),
    (b"HostileAlert", 0.3),
    (b"\r", 0.5),
    (b"\r", 1.0),  # alert details
    (b"\x1b", 0.6),
    (b"a", 1.0),  # ack form
    (b"\x13", 1.5),  # ctrl+s: acknowledged (the notification names the alert)
    (b"i", 1.0),  # declare, prefilled from the hostile alert
    (b"\x13", 1.5),
    (b"3", 0.4),
    (b"/", 0.3),
    (b"hostile-pod", 0.3),
    (b"\r", 0.5),
    (b"\r", 1.0),  # pod details
    (b"\x1b", 0.6),
    (b"l", 1.0),  # logs
    (b"\x1b", 0.6),
    (b"4", 0.4),
    (b"/", 0.3),
    (b"zz-hostile", 0.3),
    (b"\r", 0.5),
    (b"m", 1.5),  # the messages: id "[/]", headers 1,500 deep
    (b"\x1b", 0.6),
]


def test_raw_terminal_output_carries_no_injected_sequence(tmp_path: Path) -> None:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.hostile_world"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    capture = tmp_path / "terminal-output.raw"
    capture.write_bytes(b"")
    done = threading.Event()

    def record() -> None:  # everything the cockpit writes, byte for byte
        with capture.open("wb") as out:
            while not done.is_set():
                ready, _, _ = select.select([master], [], [], 0.1)
                if ready:
                    try:
                        out.write(os.read(master, 65536))
                        out.flush()
                    except OSError:
                        return

    recorder = threading.Thread(target=record, daemon=True)
    recorder.start()
    try:
        deadline = time.monotonic() + 60
        while b"Queues" not in capture.read_bytes():
            assert time.monotonic() < deadline, "the cockpit never drew its screen"
            time.sleep(0.2)
        time.sleep(1.5)  # a few polls with the hostile items on screen
        for keys, wait in SCRIPT:
            os.write(master, keys)
            time.sleep(wait)
            assert proc.poll() is None, f"the cockpit ended after {keys!r}"
        time.sleep(1.0)
        assert proc.poll() is None, "the cockpit is not running any more"
    finally:
        done.set()
        recorder.join(2)
        if proc.poll() is None:
            proc.send_signal(signal.SIGHUP)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        os.close(master)
    output = capture.read_bytes()
    found = [seq for seq in FORBIDDEN_OUTPUT if seq in output]
    assert not found, f"injected sequences reached the terminal: {found}"
    # and the hostile strings were on screen, shown as inert text
    assert b"PWNED" in output and b"HostileAlert" in output
    assert b"<U+202E>" in output
    TALLY["hostile strings rendered"] += len(SCRIPT)
