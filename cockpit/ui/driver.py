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

What Textual writes goes through a `TerminalDiff` (cockpit/ui/terminal_diff.py) on the writer
thread: only the cells that changed reach the terminal. `COCKPIT_TERMINAL_DIFF=0` turns it off
(Textual's output as it is, for debugging).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import threading
from codecs import getincrementaldecoder
from typing import IO, Any

from textual import events
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

from cockpit.ui.terminal_diff import TerminalDiff

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

    def __init__(self, file: IO[str], on_dead: Any, diff: TerminalDiff | None = None) -> None:
        self._terminal = file
        self._on_dead = on_dead
        self.diff = diff
        self.dead = False

    def write(self, text: str) -> int:
        if not self.dead:
            out = text
            if self.diff is not None:
                try:
                    out = self.diff.feed(text)
                except Exception:  # a bug in the diff: Textual's output as it is from now on
                    # (the terminal had Textual's state after the diff's last write)
                    out = self.diff.last_input
                    self.diff = None
            try:
                if out:
                    self._terminal.write(out)
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


def diff_enabled() -> bool:
    """`COCKPIT_TERMINAL_DIFF=0` sends Textual's output as it is."""
    return os.environ.get("COCKPIT_TERMINAL_DIFF", "1").strip().lower() not in {"0", "no", "off"}


class HangupAwareDriver(LinuxDriver):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.terminal_diff = TerminalDiff(*self._get_terminal_size()) if diff_enabled() else None
        self._file = _GuardedTerminal(self._file, self._hang_up, self.terminal_diff)  # type: ignore[assignment,arg-type]

    def start_application_mode(self) -> None:
        super().start_application_mode()
        if self.terminal_diff is None:
            return
        # a new size: the terminal may have cleared or moved anything, so the diff forgets
        # what it shows before Textual's repaint (in-band resizes: process_message)
        textual_handler = signal.getsignal(signal.SIGWINCH)

        def on_resize(signum: int, frame: Any) -> None:
            if self.terminal_diff is not None:
                self.terminal_diff.request_resize(*self._get_terminal_size())
            if callable(textual_handler):
                textual_handler(signum, frame)

        with contextlib.suppress(ValueError):  # not the main thread (tests)
            signal.signal(signal.SIGWINCH, on_resize)

    def process_message(self, message: Any) -> None:
        if isinstance(message, events.Resize) and self.terminal_diff is not None:
            self.terminal_diff.request_resize(message.size.width, message.size.height)
        super().process_message(message)

    def invalidate_screen(self) -> None:
        """Re-send the whole screen at the next paint (the terminal was written over)."""
        if self.terminal_diff is not None:
            self.terminal_diff.invalidate()

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
