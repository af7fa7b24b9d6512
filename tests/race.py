"""The one harness for concurrency tests on PostgreSQL: real threads, each with its own database connection.

`race(n, fn)` releases n callers of fn(index) at the same instant (a barrier) and collects what each returned
or raised. `in_background(fn)` runs one caller beside the test's own code, for an interleaving the test
steers itself (a transaction held open while the test acts). Both close each thread's database connection,
and both fail the test when a thread outlives its timeout instead of leaving it running.
"""

import threading
import time
from contextlib import contextmanager

from django.db import connection


class Outcomes(list):
    """What each racer returned, or the exception it raised, in racer order."""

    @property
    def errors(self) -> list[BaseException]:
        return [outcome for outcome in self if isinstance(outcome, BaseException)]

    @property
    def values(self) -> list:
        return [outcome for outcome in self if not isinstance(outcome, BaseException)]


def _join(threads: list[threading.Thread], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0))
    running = sum(thread.is_alive() for thread in threads)
    if running:
        raise AssertionError(f"{running} of {len(threads)} threads still running after {timeout} s")


def race(n: int, fn, *, timeout: float = 60) -> Outcomes:
    """Call fn(0) ... fn(n - 1) on n threads released together; their outcomes in order."""
    outcomes = Outcomes([None] * n)
    barrier = threading.Barrier(n)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout)
            outcomes[index] = fn(index)
        except BaseException as exc:  # noqa: BLE001 - handed to the test's assertions
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,), daemon=True) for index in range(n)]
    for thread in threads:
        thread.start()
    _join(threads, timeout)
    return outcomes


@contextmanager
def in_background(fn, *, timeout: float = 30):
    """Run fn() on its own thread while the with-block runs; at the end of the block, wait for it and re-raise
    what it raised. Yields a list that holds fn's result once it returned."""
    result, failure = [], []

    def run() -> None:
        try:
            result.append(fn())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            failure.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield result
    finally:
        _join([thread], timeout)
    if failure:
        raise failure[0]
