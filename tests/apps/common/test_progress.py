"""The progress display and loop timing (apps/common/progress.py, timing.py), with a fake
clock and a fake stream: the compile phase, recompilations, the one it/s figure, plain
lines when stderr is not a terminal, an in-place bar when it is."""
import io

import jax
import pytest

from diffvg_jax.apps.common.cli import loop_summary
from diffvg_jax.apps.common.progress import Progress, run_steps
from diffvg_jax.apps.common.timing import LoopTimer, rate_text

COMPILE = "/jax/core/compile/backend_compile_duration"


class Clock:
    """A fake monotonic clock: seconds advance only when a test says so."""

    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


class Stream(io.StringIO):
    """A fake stderr that says whether it is a terminal."""

    def __init__(self, tty):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


def _loop(clock, bar, n=10, *, compile_s=12.0, step_s=0.5, recompile_at=None, recompile_s=30.0, seen=None):
    """run_steps over n fake steps: the first takes ``compile_s``, step ``recompile_at`` hears
    JAX compile for ``recompile_s``, the others take ``step_s``. ``seen[i]`` is what the
    stream held while step i was running (after a redraw tick)."""
    def step(i):
        if i == 0:
            clock.t += compile_s
        elif i == recompile_at:
            jax.monitoring.record_event_duration_secs(COMPILE, recompile_s)
            clock.t += recompile_s
        else:
            clock.t += step_s
        if seen is not None and bar is not None:
            bar.tick()
            seen[i] = bar.stream.getvalue()
        return None

    return run_steps(step, 0, n, progress=bar, desc="fitting", show=lambda i: {"loss": f"{0.5 / (i + 1):.4f}"},
                     show_every=1)


def test_compile_phase_shows_elapsed_time_without_eta_or_rate():
    clock, stream = Clock(), Stream(tty=True)
    bar = Progress(stream, clock=clock, tick=None)
    seen = {}
    _loop(clock, bar, seen=seen)
    first = seen[0].split("\r")[-1]
    assert "compiling... 12 s" in first
    assert "it/s" not in first and "eta" not in first
    # after the first (compiling) step only: a count, still no rate; after the second: a rate and an ETA
    assert "it/s" not in stream.getvalue().split("\r")[2]
    assert "eta" in seen[5].split("\r")[-1] and "2 it/s" in seen[5].split("\r")[-1]


def test_a_recompiling_step_is_labelled_and_left_out_of_the_rate():
    clock, stream = Clock(), Stream(tty=True)
    bar = Progress(stream, clock=clock, tick=None)
    seen = {}
    stats = _loop(clock, bar, recompile_at=4, seen=seen)
    bar.close()
    assert "fitting 4/10: recompiling... 30 s" in seen[4].split("\r")[-1]
    assert stats.compile_steps == 2
    assert stats.compile_seconds == pytest.approx(42.0)
    assert stats.it_per_s == pytest.approx(2.0)            # 8 timed steps of 0.5 s
    assert stats.seconds == pytest.approx(12 + 30 + 8 * 0.5)


def test_a_slow_step_without_compiling_is_timed():
    timer = LoopTimer(Clock())
    timer.begin()
    for dt in (10.0, 1.0, 9.0):
        timer.clock.t += dt
        timer.step_done()
    timer.end()
    assert timer.compile_steps == 1 and timer.timed_steps == 2
    assert timer.stats().it_per_s == pytest.approx(2 / 10.0)


def test_one_rate_in_the_bar_the_stats_and_the_summary():
    clock, stream = Clock(), Stream(tty=False)
    bar = Progress(stream, clock=clock, tick=None)
    stats = _loop(clock, bar, n=10, step_s=0.25)
    figures = {"loss": "0.012345 (l2)", "psnr": "24.33 dB"}
    summary = loop_summary("diffvg-fit", bar, stats, figures)
    last = stream.getvalue().splitlines()[-1]
    rate = rate_text(stats.it_per_s)
    assert rate == "4 it/s"
    assert f"{rate}, compile time excluded" in last and f"{rate}, compile time excluded" in summary
    for text in ("loss 0.012345 (l2)", "psnr 24.33 dB", "12.0 s compiling", "in 14.2 s"):
        assert text in last and text in summary, text


def test_plain_lines_every_n_steps_when_not_a_terminal():
    clock, stream = Clock(), Stream(tty=False)
    bar = Progress(stream, clock=clock, tick=None, line_every=3)
    _loop(clock, bar, n=10, recompile_at=5)
    bar.close()
    out = stream.getvalue()
    assert "\r" not in out
    lines = out.splitlines()
    assert lines[0] == "fitting: compiling..."
    assert lines[1] == "fitting: compiled in 12.0 s"
    assert [line.split(" ")[1] for line in lines if line.startswith("fitting ") and "/10 " in line] == \
        ["3/10", "6/10", "9/10"]
    assert "fitting: step 6 recompiled in 30.0 s" in lines
    assert lines[-1].startswith("fitting: done, 10 steps in 46.0 s (42.0 s compiling; 2 it/s, compile time excluded)")
    # tick() never writes to a file or pipe
    before = stream.getvalue()
    bar.tick()
    assert stream.getvalue() == before


def test_terminal_bar_redraws_in_place_and_ends_with_a_newline():
    clock, stream = Clock(), Stream(tty=True)
    bar = Progress(stream, clock=clock, tick=None)
    _loop(clock, bar, n=4, step_s=1.0)
    bar.note("step 2: test mse 0.0400")
    bar.close({"psnr": "20.00 dB"})
    out = stream.getvalue()
    assert out.count("\n") == 2 and out.endswith("\n")    # the note and the last line
    assert "\rstep 2: test mse 0.0400" in out
    assert out.split("\r")[-1].startswith("fitting: done, 4 steps") and "psnr 20.00 dB" in out.split("\r")[-1]


def test_run_steps_owns_a_bar_when_asked_with_true(monkeypatch):
    clock, stream = Clock(), Stream(tty=False)
    monkeypatch.setattr("sys.stderr", stream)
    stats = run_steps(lambda i: None, 0, 3, progress=True, desc="train", unit="step")
    assert stats.done == 3
    assert stream.getvalue().splitlines()[-1].startswith("train: done, 3 steps")


def test_ctrl_c_is_reported_as_interrupted():
    clock, stream = Clock(), Stream(tty=False)
    bar = Progress(stream, clock=clock, tick=None)

    def step(i):
        clock.t += 1.0
        if i == 3:
            raise KeyboardInterrupt
    stats = run_steps(step, 0, 10, progress=bar, interruptible=True, desc="fitting")
    bar.close(interrupted=stats.interrupted)
    assert stats.interrupted and stats.done == 3
    assert stream.getvalue().splitlines()[-1].startswith("fitting: interrupted after 3 steps")
    with pytest.raises(KeyboardInterrupt):
        run_steps(step, 0, 10)


def test_rate_text():
    assert rate_text(float("nan")) == "? it/s" and rate_text(0.0, "step") == "? step/s"
    assert rate_text(12.345) == "12.3 it/s" and rate_text(0.01234) == "0.0123 it/s"
    assert rate_text(12345.6) == "12346 it/s"
