"""autograder.blas_threads: notebook 07's training loop lets its own steps choose 1 or 2 BLAS threads.

The machine is simulated: the loop body sleeps for a time that depends on the threads the chooser
set, so the tests decide which count is "faster" (by 5x, far beyond timer noise)."""
from __future__ import annotations

import time

import pytest

from autograder import blas_threads
from autograder.blas_threads import BlasThreadChooser, fastest_blas_threads

threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_threads_now() -> int:
    return threadpoolctl.threadpool_info()[0]["num_threads"] if threadpoolctl.threadpool_info() else 0


@pytest.fixture
def chooser():
    with fastest_blas_threads(max_threads=2) as blas:
        if len(blas.candidates) == 1:
            pytest.skip("no BLAS that threadpoolctl can set")
        yield blas


def run_epoch(blas, n, cost):
    """One epoch of n batches whose step sleeps cost(threads, i) seconds; the batches seen, in order."""
    seen = []
    for i, batch in enumerate(blas.timed(range(n))):
        seen.append(batch)
        time.sleep(cost(blas.current, i))
    return seen


def test_batches_pass_through_unchanged(chooser):
    items = [("x", 1), ("y", 2), ("z", 3)]   # fewer than a trial: the epoch ends while measuring
    assert list(chooser.timed(iter(items))) == items
    assert list(chooser.timed([])) == []


@pytest.mark.parametrize("faster", [1, 2])
def test_the_faster_count_runs_the_rest_of_the_epoch(chooser, faster):
    cost = lambda threads, i: 0.001 if threads == faster else 0.005  # noqa: E731
    seen = run_epoch(chooser, 30, cost)
    assert seen == list(range(30))
    assert chooser.current == faster and chooser.used == [faster]


def test_a_step_that_slows_down_measures_again(chooser):
    """Two threads are faster until step 15, then five times slower (the machine got busy): the
    chooser notices and switches to one thread within the epoch."""
    def cost(threads, i):
        if threads == 2:
            return 0.001 if i < 15 else 0.008
        return 0.002
    run_epoch(chooser, 40, cost)
    assert chooser.used == [1]


def test_every_epoch_measures_afresh(chooser):
    run_epoch(chooser, 20, lambda threads, i: 0.001 if threads == 2 else 0.005)
    run_epoch(chooser, 20, lambda threads, i: 0.001 if threads == 1 else 0.005)
    assert chooser.used == [2, 1]


def test_the_blas_gets_its_threads_back():
    before = _blas_threads_now()
    with fastest_blas_threads(max_threads=2) as blas:
        run_epoch(blas, 12, lambda threads, i: 0.001 if threads == 1 else 0.004)
        assert _blas_threads_now() == 1
    assert _blas_threads_now() == before


def test_nothing_to_choose_on_one_core():
    blas = BlasThreadChooser(max_threads=1)
    assert blas.candidates == [1]
    assert list(blas.timed(range(5))) == list(range(5)) and blas.current is None


def test_the_trial_is_short():
    """Both counts are tried for a few steps only: a slower count costs little of an epoch."""
    blas = BlasThreadChooser(max_threads=2)
    if len(blas.candidates) == 1:
        pytest.skip("no BLAS that threadpoolctl can set")
    assert len(blas._trial_plan()) == 2 * (1 + blas_threads.TRIAL) <= 10
