"""Chores a process runs a second apart on a thread of its own, so that no request waits for
them: writing out the access lines gathered since the last round, publishing the in-flight
gauge. They run once more when the process exits."""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from collections.abc import Callable

EVERY = 1.0  # seconds between rounds
log = logging.getLogger("blogapi.observability")

Chore = Callable[[], None]


class Chores:
    """A set of chores and the thread that runs them; the thread starts at the first request
    of each process (a gunicorn worker is forked after the app is made). A chore is a bound
    method, held weakly: an app that is gone (the test suite makes thousands) takes its chores
    with it."""

    def __init__(self, every: float = EVERY) -> None:
        self.every = every
        self.chores: list[weakref.WeakMethod[Chore]] = []
        self.running = False
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        atexit.register(self.run)
        os.register_at_fork(after_in_child=self.forget)

    def forget(self) -> None:
        """A forked child has none of its parent's threads: it starts its own."""
        self.running = False
        self.lock = threading.Lock()

    def add(self, chore: Chore) -> None:
        """Run `chore`, a bound method, every round from now on (while its object lives)."""
        self.chores = [ref for ref in self.chores if ref() is not None]
        self.chores.append(weakref.WeakMethod(chore))

    def ensure_running(self) -> None:
        """Start this process's thread unless it runs already."""
        if not self.running:
            self.start()

    def start(self) -> None:
        """Start the thread, once however many requests ask at the same moment."""
        with self.lock:
            if self.running:
                return
            self.stopping = threading.Event()
            thread = threading.Thread(target=self.loop, name="blogapi-chores", daemon=True)
            thread.start()
            self.running = True

    def loop(self) -> None:
        """Run the chores every `every` seconds until stopped."""
        while not self.stopping.wait(self.every):
            self.run()

    def run(self) -> None:
        """Run every chore once; one that fails does not stop the others."""
        for ref in list(self.chores):
            chore = ref()
            if chore is None:
                continue
            try:
                chore()
            except Exception:  # the thread must outlive a full disk or a closed stream
                log.debug("observability chore failed", exc_info=True)

    def stop(self) -> None:
        """Stop the thread after its current round (tests)."""
        self.stopping.set()
        self.running = False


CHORES = Chores()
