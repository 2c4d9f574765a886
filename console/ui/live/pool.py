"""The threads every live source runs in: a fixed set, shared by all screens.

A Textual thread worker starts a new thread per run; with 40 targets and three sources each
that was 120 threads at every tick. Runs go here instead: at most ``MAX_THREADS`` daemon
threads (started as they are needed, then kept), fed in order from one queue. The layer
never runs two runs of one source at once, so a source stuck on a server that stopped
answering holds at most one thread until its timeout; daemon threads never hold up quitting.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Callable

MAX_THREADS = 16

log = logging.getLogger("console.ui")


class LivePool:
    def __init__(self, max_threads: int = MAX_THREADS, name: str = "live"):
        self.max_threads = max_threads
        self.name = name
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._idle = 0

    @property
    def threads(self) -> int:
        with self._lock:
            return len(self._threads)

    def submit(self, job: Callable[[], None]) -> None:
        """Run ``job`` in one of the pool's threads. ``job`` must not raise (a run reports
        its own errors); if it does, the thread carries on with the next job."""
        with self._lock:
            if self._idle:
                self._idle -= 1                 # a waiting thread takes it
            elif len(self._threads) < self.max_threads:
                t = threading.Thread(target=self._loop, name=f"{self.name}-{len(self._threads) + 1}",
                                     daemon=True)
                self._threads.append(t)
                t.start()
            # else: every thread is busy; the job waits its turn in the queue
        self._jobs.put(job)

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                job()
            except Exception:  # noqa: BLE001 - a job reports its own errors; the thread lives on
                # Only a result that could not be posted gets here (the app already gone).
                log.debug("live job ended with an error", exc_info=True)
            with self._lock:
                self._idle += 1


POOL = LivePool()
