"""The terminal driver, made for SSH: when the connection drops, exit at once.

Textual's Linux driver keeps selecting on stdin after it reaches end of file (a
busy loop on a dead SSH session). This driver ends the app instead, as it does on
SIGHUP (see CockpitApp.on_mount).
"""

from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder

from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver


class HangupAwareDriver(LinuxDriver):
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
            selector.close()

    def _hang_up(self) -> None:
        """End of input: nobody is there any more. Exit without waiting on the screen."""
        app = self._app
        try:
            app.call_from_thread(app.exit)
        except Exception:
            os._exit(0)
