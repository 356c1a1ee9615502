"""How many threads the matrix products of a training loop use: 1 or every core, whichever is
faster right now, measured while the loop runs.

Why measure: on an idle 2-core machine two BLAS threads make notebook 07's products almost twice as
fast. On cores that other programs are using, one BLAS thread waits for a core while its partner
spins, and the same product can take ten times longer than on one thread. A fixed choice is wrong
on one machine or the other, so the training loop lets the batches decide:

    from autograder.blas_threads import fastest_blas_threads

    with fastest_blas_threads() as blas:
        for epoch in range(epochs):
            for X_batch, labels_batch in blas.timed(iterate_minibatches(X, labels, 128, rng)):
                ...   # the step, exactly as without it

``timed`` hands on the batches unchanged. At the start of every epoch it runs a few batches on one
thread and a few on every core (``TRIAL`` each), then the rest of the epoch on whichever had the
faster median step. A step three times slower than that median (``SLOWER``), twice in a row, means
the machine got busy (or free): the trial is run again. Leaving the ``with`` block gives the BLAS
back the threads it had. ``blas.used`` lists the threads each epoch ended on.

Without threadpoolctl, on a single core, or with a BLAS threadpoolctl does not know, it does nothing.
"""
from __future__ import annotations

import os
import statistics
import time
from contextlib import contextmanager
from typing import Iterable, Iterator, TypeVar

__all__ = ["fastest_blas_threads", "BlasThreadChooser"]

T = TypeVar("T")
TRIAL = 4       # steps timed on each thread count; the first step of a trial is a warm-up, not timed
SLOWER = 3.0    # a step this many times the chosen count's median...
STRIKES = 2     # ...this many times in a row starts a new trial


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


class BlasThreadChooser:
    """Times the steps of a loop and sets the BLAS threads to the faster of 1 and ``max_threads``."""

    def __init__(self, max_threads: int | None = None):
        self.max_threads = max(1, int(max_threads or _cores()))
        self.used: list[int] = []
        import numpy  # noqa: F401  (NumPy's BLAS must be loaded for threadpoolctl to find it)
        try:
            from threadpoolctl import ThreadpoolController
            self._controller = ThreadpoolController().select(user_api="blas")
        except ImportError:
            self._controller = None
        if self._controller is not None and not self._controller.lib_controllers:
            self._controller = None
        self.current: int | None = None

    @property
    def candidates(self) -> list[int]:
        """The thread counts worth trying: 1 and every core, or just 1 when there is no choice."""
        if self._controller is None or self.max_threads == 1:
            return [1]
        return [1, self.max_threads]

    def _use(self, threads: int) -> None:
        """Let the BLAS use ``threads`` from now on (nothing to do if it already does)."""
        if threads != self.current:
            self._controller.limit(limits=threads)
            self.current = threads

    def timed(self, batches: Iterable[T]) -> Iterator[T]:
        """The batches, unchanged; each step (the loop's body for one batch) is timed to choose threads."""
        if len(self.candidates) == 1:   # nothing to choose: the BLAS keeps its own setting
            yield from batches
            return
        plan, samples, chosen, typical, strikes = self._trial_plan(), {}, None, 0.0, 0
        for batch in batches:
            if chosen is None:
                if plan:
                    threads, timed = plan.pop(0)
                    self._use(threads)
                else:
                    medians = {k: statistics.median(v) for k, v in samples.items()}
                    chosen = min(medians, key=medians.get)
                    typical = medians[chosen]
                    self._use(chosen)
            start = time.perf_counter()
            yield batch
            step = time.perf_counter() - start
            if chosen is None:
                if timed:
                    samples.setdefault(threads, []).append(step)
            elif step > SLOWER * typical:
                strikes += 1
                if strikes >= STRIKES:   # the machine got busier: measure again
                    plan, samples, chosen, strikes = self._trial_plan(), {}, None, 0
            else:
                strikes = 0
        self.used.append(self.current)

    def _trial_plan(self) -> list[tuple[int, bool]]:
        """(threads, timed) for each trial step: per candidate, one warm-up step then TRIAL timed ones."""
        return [(threads, timed) for threads in self.candidates for timed in [False] + [True] * TRIAL]


@contextmanager
def fastest_blas_threads(max_threads: int | None = None):
    """A BlasThreadChooser for the ``with`` block; the BLAS's own setting comes back after it."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield BlasThreadChooser(max_threads)   # it has no controller either: it changes nothing
        return
    with threadpool_limits(limits=None, user_api="blas"):   # changes nothing now, restores at the end
        yield BlasThreadChooser(max_threads)
