"""The client's worker threads: a small pool of daemon threads, and ``run_all`` over it.

concurrent.futures' ThreadPoolExecutor joins its threads when the
interpreter exits, so a Ctrl-C during a slow request waited for that request
to end. These threads are daemons: when the main thread is done the process
leaves, and a request still in flight is abandoned, not awaited.
"""

from __future__ import annotations

import queue
import threading
import weakref
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# A call waiting for a thread: its future, the function and its arguments; None tells a thread to end.
_Job = tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]
_current = threading.local()


def stopping() -> threading.Event | None:
    """Set once the pool whose thread calls this is closed: a call still running should give up."""
    return getattr(_current, "stopping", None)


def _work(jobs: queue.SimpleQueue[_Job | None], stop: threading.Event) -> None:
    # Holds the queue, not the pool: a pool nobody closed is still collected, and its threads then end.
    _current.stopping = stop
    while True:
        job = jobs.get()
        if job is None:
            return
        future, fn, args = job
        if future.set_running_or_notify_cancel():
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # handed to whoever waits on the future
                future.set_exception(exc)
        del job, future, fn, args  # nothing of a finished call stays alive in an idle thread


def _end(jobs: queue.SimpleQueue[_Job | None], threads: list[threading.Thread]) -> None:
    for _ in threads:
        jobs.put(None)


class Workers:
    """Up to ``size`` daemon threads taking calls in the order submitted."""

    def __init__(self, size: int, name: str):
        self.size = size
        self.name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False
        self._stopping = threading.Event()
        self._end = weakref.finalize(self, _end, self._jobs, self._threads)

    def submit(self, fn: Callable[..., R], *args: Any) -> Future[R]:
        future: Future[R] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the workers are closed")
            self._jobs.put((future, fn, args))
            if len(self._threads) < self.size:
                thread = threading.Thread(target=_work, args=(self._jobs, self._stopping),
                                          name=f"{self.name}-{len(self._threads)}", daemon=True)
                self._threads.append(thread)
                thread.start()
        return future

    def close(self) -> None:
        """Cancel calls not started and let the threads end; never waits for a call in flight."""
        with self._lock:
            self._closed = True
        self._stopping.set()
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job[0].cancel()
        self._end()


def run_all(workers: Callable[[], Workers], limit: int, fn: Callable[[T], R], args: Iterable[T]) -> list[R]:
    """``[fn(a) for a in args]``, at most ``limit`` at once, results in order (see AmiliClient.map).

    ``args`` is read lazily, the next one only once a call may start, so a
    generator can choose it from the results so far.
    """
    it = iter(args)
    if limit == 1:
        return [fn(a) for a in it]
    pool: Workers | None = None
    futures: list[Future[R]] = []
    running: set[Future[R]] = set()
    try:
        for a in it:
            pool = pool or workers()
            futures.append(pool.submit(fn, a))
            running.add(futures[-1])
            if len(running) >= limit:
                wait(running, return_when=FIRST_COMPLETED)
            done = {f for f in running if f.done()}
            running -= done
            if any(f.exception() is not None for f in done):
                break  # calls not started are dropped
        return [f.result() for f in futures]
    finally:
        for f in futures:
            f.cancel()
