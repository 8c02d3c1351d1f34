"""The terminal driver, made for SSH: when the connection drops, exit at once.

Three ways to learn the connection is gone, in any order: SIGHUP (sshd), end of input on
stdin, and a write that fails because the terminal is gone (EIO). Each one:

- asks the app to exit without waiting for anything: the input thread must never wait
  on the main thread, which may at that moment be joining the input thread (the
  deadlock that left 17 of 40 dropped sessions running for ever);
- arms a watchdog that ends the process if the orderly exit stalls: everything the
  cockpit committed (incident store, outbox, audit log) is already on disk, so there is
  nothing left to save and nobody left to show anything to.

Textual's own driver also keeps selecting on stdin after end of file (a busy loop on a
dead session); this one stops reading instead.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import threading
from codecs import getincrementaldecoder
from typing import IO, Any

from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

# how long the orderly exit may take after a hang-up before the process is ended
EXIT_WATCHDOG_SECONDS = 0.5

_watchdog_lock = threading.Lock()
_watchdog: threading.Thread | None = None


def arm_exit_watchdog(seconds: float = EXIT_WATCHDOG_SECONDS) -> None:
    """End the process in `seconds` unless it has ended by then (idempotent)."""
    global _watchdog
    with _watchdog_lock:
        if _watchdog is not None:
            return

        def bite() -> None:
            threading.Event().wait(seconds)
            os._exit(0)  # the orderly exit stalled: committed state is already on disk

        _watchdog = threading.Thread(target=bite, name="cockpit-exit-watchdog", daemon=True)
        _watchdog.start()


def hang_up(app: Any) -> None:
    """The terminal is gone: ask the app to exit, never block, and make sure we end."""
    arm_exit_watchdog()
    loop = getattr(app, "_loop", None)
    try:
        if loop is None or loop.is_closed():
            raise RuntimeError("no event loop")
        loop.call_soon_threadsafe(app.exit)  # does not wait, unlike call_from_thread
    except Exception:
        os._exit(0)


class _GuardedTerminal:
    """The terminal file for Textual's writer thread: a write to a dead terminal (EIO,
    EPIPE) hangs up instead of killing the writer thread, whose queue would then fill and
    block the screen for ever; later writes are dropped."""

    def __init__(self, file: IO[str], on_dead: Any) -> None:
        self._terminal = file
        self._on_dead = on_dead
        self.dead = False

    def write(self, text: str) -> int:
        if not self.dead:
            try:
                return self._terminal.write(text)
            except (OSError, ValueError):
                self._gone()
        return len(text)

    def flush(self) -> None:
        if not self.dead:
            try:
                self._terminal.flush()
            except (OSError, ValueError):
                self._gone()

    def _gone(self) -> None:
        self.dead = True
        self._on_dead()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._terminal, name)


class HangupAwareDriver(LinuxDriver):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._file = _GuardedTerminal(self._file, self._hang_up)  # type: ignore[assignment,arg-type]

    def run_input_thread(self) -> None:
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode
        try:
            while not self.exit_event.is_set():
                for _key, mask in selector.select(0.1):
                    if not mask & selectors.EVENT_READ:
                        continue
                    try:
                        data = os.read(self.fileno, 4096)
                    except OSError:  # EIO: the terminal is gone
                        data = b""
                    if not data:
                        self._hang_up()
                        return
                    for event in parser.feed(decode(data)):
                        self.process_message(event)
                for event in parser.tick():
                    self.process_message(event)
        finally:
            with contextlib.suppress(Exception):
                selector.close()

    def _hang_up(self) -> None:
        """End of input or a dead terminal: nobody is there any more."""
        hang_up(self._app)
