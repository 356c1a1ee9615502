"""Broken learner code fails the check it is in, with a clear message, and the judge carries on."""
import os
import sys
import time

import numpy as np

from autograder.checks.base import REFERENCE
from autograder.judge import judge


def _relu_judged(relu, timeout=1.0):
    ns = {**REFERENCE, "relu": relu}
    return judge(ns, ["relu", "sigmoid"], timeout=timeout)


def _of(results, function):
    """The results of one function's checks; never empty (an all() over nothing proves nothing)."""
    found = [r for r in results if r.function == function]
    assert found, f"no check of {function} was reported"
    return found


def _messages(results, function):
    return [r.message for r in _of(results, function)]


def test_infinite_loop_times_out_and_the_next_function_is_still_judged():
    def relu(z):
        while True:
            pass

    start = time.monotonic()
    results = _relu_judged(relu, timeout=0.5)
    assert time.monotonic() - start < 30
    relu_results = _of(results, "relu")
    assert not any(r.passed for r in relu_results)
    assert all("did not finish within 0.5 s" in r.message for r in relu_results)
    assert all(r.passed for r in _of(results, "sigmoid"))


def test_sys_exit_is_reported_not_obeyed():
    def relu(z):
        sys.exit(3)

    results = _relu_judged(relu)
    assert all("sys.exit(3)" in m for m in _messages(results, "relu"))
    assert all(r.passed for r in _of(results, "sigmoid"))


def test_os_exit_kills_only_the_child():
    def relu(z):
        os._exit(7)

    results = _relu_judged(relu)
    assert all("exit code 7" in m for m in _messages(results, "relu"))
    assert all(r.passed for r in _of(results, "sigmoid"))


def test_printing_megabytes_fails_with_a_clear_message():
    def relu(z):
        for _ in range(30_000):
            print("debugging relu " * 4)
        return np.maximum(z, 0)

    results = _relu_judged(relu, timeout=10)
    messages = _messages(results, "relu")
    assert all("printed" in m and "characters" in m for m in messages)


def test_an_exception_names_the_learners_line():
    def relu(z):
        return z.nonexistent_method()

    results = _relu_judged(relu)
    message = _messages(results, "relu")[0]
    assert "AttributeError" in message
    assert "nonexistent_method" in message
    assert "line" in message


def test_nothing_reaches_the_real_stdout_or_stderr(capfd):
    def relu(z):
        print("noise")
        print("more noise", file=sys.stderr)
        return np.maximum(z, 0)

    results = _relu_judged(relu)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert results and all(r.passed for r in results)
