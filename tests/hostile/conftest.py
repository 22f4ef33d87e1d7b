"""Fixtures of the hostile-input tests: a deadline that turns a hang into a failure."""
import contextlib
import signal

import pytest


class DeadlineExceeded(BaseException):
    """The guarded code ran past its deadline (a BaseException: the loader cannot catch it)."""


@pytest.fixture
def deadline():
    """``with deadline(seconds): ...`` fails the test when the block runs longer (SIGALRM):
    a guard against hangs and super-linear work, with limits far above the expected time,
    not a benchmark."""
    def on_alarm(signum, frame):
        raise DeadlineExceeded("ran past its deadline: super-linear or unbounded work")

    @contextlib.contextmanager
    def guard(seconds: float):
        old = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)

    return guard
