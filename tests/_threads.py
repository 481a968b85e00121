"""What the tests that check that a fit's tasks run on several threads spy with.

Recording the threads that ran a task is not enough on a loaded machine: one
thread can take every task of a fit before the others are scheduled, and the
test then fails although the team works. :class:`ThreadMeeting` makes the first
thread wait until a second one takes a task, for a bounded time in all, so such
a test fails only when no second thread ever comes (a team of one).
"""

import threading
import time


class ThreadMeeting:
    """The threads seen by :meth:`enter`; until two have been seen, each call
    waits up to ``wait`` seconds (``budget`` seconds in all) for another."""

    def __init__(self, wait=2.0, budget=20.0):
        self.threads = set()
        self._met = threading.Event()
        self._lock = threading.Lock()
        self._wait = wait
        self._budget = budget

    def enter(self):
        """Record this thread; wait for a second one if none came yet."""
        with self._lock:
            self.threads.add(threading.get_ident())
            if len(self.threads) >= 2:
                self._met.set()
            wait = min(self._wait, self._budget)
        if self._met.is_set() or wait <= 0:
            return
        tick = time.monotonic()
        self._met.wait(wait)
        with self._lock:
            self._budget -= time.monotonic() - tick


def meet_in_row_blocks(monkeypatch):
    """A :class:`ThreadMeeting` entered by every row block's task of the fits
    made while ``monkeypatch`` holds (``LocalShards.call`` spied)."""
    from skadmm._row_blocks import LocalShards

    meeting = ThreadMeeting()
    call = LocalShards.call

    def spy(self, method, *args):
        shards = self.shards
        original = [getattr(shard, method) for shard in shards]
        for shard, fn in zip(shards, original, strict=True):

            def wrapped(*a, _fn=fn):
                meeting.enter()
                return _fn(*a)

            setattr(shard, method, wrapped)
        try:
            return call(self, method, *args)
        finally:
            for shard in shards:
                vars(shard).pop(method, None)

    monkeypatch.setattr(LocalShards, "call", spy)
    return meeting
