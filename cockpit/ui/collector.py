"""When Python's cycle collector runs, so that its pauses do not land on a key.

A full collection stops the UI thread for as long as it walks every tracked object. At
scale that was 250-400 ms, then (once the start-up's objects were frozen) 20-40 ms every
~7 s. The collector triggers on allocations, and a key is what allocates most (a restyle,
a paint), so the pause fell on the keys themselves. Here:

- no collection at all while the first data loads (tens of thousands of objects that all
  live on: each pass walked what had come so far, ~0.4 CPU-s of the first screen);
- once loaded, one collection, then gc.freeze(): modules, widgets and the first 5,000 pods
  leave the collector's view for good (what is frozen is still freed by reference count);
- from then on the young generations run as usual (cheap), but the full passes run here,
  at a moment without input (IDLE_AFTER since the last key), at most every FULL_EVERY;
  if the engineer never stops typing, after FULL_LATEST at the latest. The cyclic garbage
  Textual makes while painting (strips caching themselves) waits those few seconds.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

FREEZE_AFTER = 60.0  # seconds: a feed that never loads does not keep the collector off
IDLE_AFTER = 1.0  # seconds without input before a full pass may run
FULL_EVERY = 5.0  # seconds between two full passes, at least
FULL_LATEST = 15.0  # seconds: a full pass then runs even while keys keep coming
# the automatic full pass needs this many young (gen 1) passes: rare enough that the
# scheduled one comes first, frequent enough to catch garbage if the app's tick stopped
AUTOMATIC_FULL = 1_000
YOUNG_PER_FULL = 10  # Python's own rule: a full pass after this many young (gen 1) ones


class IdleCollector:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._was_on = gc.isenabled()
        self._threshold = gc.get_threshold()
        self._began = clock()
        self._input = 0.0  # monotonic time of the last key, paste or click
        self._full = 0.0  # monotonic time of the last full pass
        self.frozen = False
        gc.disable()

    def input(self) -> None:
        """A key, a paste or a click arrived."""
        self._input = self._clock()

    def tick(self, loaded: bool) -> None:
        """Once a second, with whether every configured feed has loaded."""
        now = self._clock()
        if not self.frozen:
            if loaded or now - self._began > FREEZE_AFTER:
                self._freeze(now)
            return
        # due as often as Python's own rule would make it (that many young passes since
        # the last full one): a cockpit at rest allocates little and is not walked for
        # nothing every FULL_EVERY (a pass costs ~20-30 ms of CPU at scale)
        if gc.get_count()[2] < YOUNG_PER_FULL:
            return
        since = now - self._full
        idle = now - self._input >= IDLE_AFTER
        if (idle and since >= FULL_EVERY) or since >= FULL_LATEST:
            gc.collect()
            self._full = self._clock()

    def stop(self) -> None:
        """The app ends: what was frozen can be collected again (tests run many apps)."""
        if self.frozen:
            gc.unfreeze()
            self.frozen = False
        gc.set_threshold(*self._threshold)
        if self._was_on:
            gc.enable()

    def _freeze(self, now: float) -> None:
        self.frozen = True
        gc.collect()  # the start's own garbage first: frozen garbage is never freed
        gc.freeze()
        from cockpit.runtime import release_free_memory

        release_free_memory()  # what the first load freed (its bodies, parsed JSON)
        self._full = now
        young, middle, _full = self._threshold
        gc.set_threshold(young, middle, AUTOMATIC_FULL)
        if self._was_on:
            gc.enable()
