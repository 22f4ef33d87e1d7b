"""The one optimisation loop driver of the applications (:func:`run_steps`) and its progress
display (:class:`Progress`), around a step function each app writes.

Used by :func:`diffvg_jax.fit`, :func:`diffvg_jax.clipdraw` and the MNIST VAE's trainer::

    stats = run_steps(step, 0, iterations, progress=True, interruptible=True,
                      show=lambda i: {"loss": f"{loss[-1]:.5f}"}, show_every=5)

What the display says (on stderr):

- while the first step runs: ``fitting: compiling... 12 s`` (elapsed time only: no ETA and no
  it/s before a step has been timed);
- while a later step compiles (JAX heard compiling: a new work budget, a first
  evaluation): ``recompiling... 3 s``;
- otherwise the step count, elapsed time, ETA, the rate and the app's fields; the rate is
  :class:`~.timing.LoopTimer`'s, compile time excluded, the same number the summary prints;
- on a terminal one line redrawn in place; elsewhere (a log file, a pipe) one plain line
  every ``line_every`` steps, at each (re)compilation and at the end, never ``\\r``.

A command line that wants the bar's last line to show its final figures passes its own
:class:`Progress` (``progress=bar``) and calls ``bar.close(fields)`` itself.
"""
from __future__ import annotations

import sys
import threading
import time
from typing import Callable, Dict, Optional, TextIO, Union

import jax

from .timing import LoopStats, LoopTimer, rate_text

__all__ = ["LoopStats", "Progress", "run_steps"]

WIDTH = 20  # characters of the terminal bar


def _seconds(s: float) -> str:
    s = max(0.0, s)
    return f"{s:.0f} s" if s < 90 else f"{int(s // 60)} min {int(s % 60):02d} s"


class Progress:
    """A step loop's progress on ``stream`` (stderr by default).

    Args:
      stream: where to write; ``tty`` (default: ``stream.isatty()``) picks the in-place bar
        or plain lines.
      clock: seconds, monotonic (``time.perf_counter``; tests pass a fake one).
      line_every: plain-line interval in steps (default: a tenth of the run, at least 1).
      tick: seconds between redraws of the compile phase's elapsed time on a terminal (a
        background thread); None: only when :meth:`tick` is called.
    """

    def __init__(self, stream: Optional[TextIO] = None, *, tty: Optional[bool] = None,
                 clock: Callable[[], float] = time.perf_counter, line_every: Optional[int] = None,
                 tick: Optional[float] = 1.0):
        self.stream = sys.stderr if stream is None else stream
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)()) if tty is None else bool(tty)
        self.timer = LoopTimer(clock)
        self.line_every, self.tick_seconds = line_every, tick
        self.desc, self.unit, self.start, self.stop, self.fields = "", "it", 0, 0, {}
        self.every, self.last_draw, self.open, self.drawn = 1, None, False, 0
        self.lock = threading.RLock()  # the terminal redraw thread and the loop share the stream
        self.ticking: Optional[threading.Event] = None

    # -- the loop's events --------------------------------------------------------------
    def begin(self, start: int, stop: int, *, desc: str = "", unit: str = "it") -> None:
        """A loop of steps [start, stop) begins: show the compile phase."""
        self.desc, self.unit, self.start, self.stop = desc, unit, int(start), int(stop)
        self.every = self.line_every or max(1, (self.stop - self.start) // 10)
        self.timer.begin()
        self.open, self.last_draw = True, None
        self.write(self.compile_text() if self.tty else f"{self.head()}compiling...", final=False)
        if self.tty and self.tick_seconds:
            self.ticking = threading.Event()
            threading.Thread(target=self.tick_loop, args=(self.ticking,), daemon=True).start()

    def step_done(self, i: int) -> None:
        """Step ``i`` finished: time it and update the display."""
        with self.lock:
            compiled = self.timer.step_done()
        n = i + 1
        if not self.tty:
            if compiled:
                what = "compiled" if self.timer.compile_steps == 1 else f"step {n} recompiled"
                self.write(f"{self.head()}{what} in {self.timer.last_seconds:.1f} s", final=False)
            if (n - self.start) % self.every == 0 and n != self.stop:
                self.write(self.status_text(n), final=False)
            return
        now = self.timer.clock()
        if compiled or n == self.stop or self.last_draw is None or now - self.last_draw >= 0.1:
            self.last_draw = now
            self.write(self.status_text(n), final=False)

    def set_fields(self, fields: Dict[str, str]) -> None:
        """The app's figures shown after the rate (e.g. loss, PSNR)."""
        self.fields = dict(fields)

    def note(self, text: str) -> None:
        """A line of its own (e.g. an evaluation result) without breaking the bar: on a
        terminal the bar is redrawn below it."""
        with self.lock:
            if self.tty and self.open:
                self.stream.write("\r" + text + " " * max(0, self.drawn - len(text)) + "\n")
                self.drawn = 0
                self.write(self.status_text(self.start + self.timer.done), final=False)
            else:
                self.write(text, final=True)

    def tick(self) -> None:
        """Redraw the (re)compile phase's elapsed time on a terminal (called every ``tick``
        seconds by a background thread)."""
        if not (self.tty and self.open):
            return
        with self.lock:
            if self.timer.first() or (self.timer.compiling() and self.timer.step_seconds() >= 1.0):
                self.write(self.compile_text(), final=False)

    def tick_loop(self, stop: threading.Event) -> None:
        """The background redraw of the compile phase (terminal only)."""
        while not stop.wait(self.tick_seconds):
            self.tick()

    def close(self, fields: Optional[Dict[str, str]] = None, *, interrupted: bool = False) -> LoopStats:
        """End the display with one last line (``fields`` replace the app's figures; e.g.
        the final metrics the summary also prints); returns the loop's stats."""
        if self.ticking is not None:
            self.ticking.set()
            self.ticking = None
        if fields is not None:
            self.fields = dict(fields)
        if self.open:
            self.open = False
            self.write(self.final_text(interrupted), final=True)
        return self.timer.stats(interrupted)

    # -- the text -----------------------------------------------------------------------
    def head(self) -> str:
        return f"{self.desc}: " if self.desc else ""

    def compile_text(self) -> str:
        """``'fitting: compiling... 12 s'`` / ``'fitting 40/200: recompiling... 3 s'``."""
        if self.timer.first():
            return f"{self.head()}compiling... {_seconds(self.timer.elapsed())}"
        n = self.start + self.timer.done
        return f"{self.desc} {n}/{self.stop}: recompiling... {_seconds(self.timer.step_seconds())}".lstrip()

    def fields_text(self) -> str:
        return "".join(f", {k} {v}" for k, v in self.fields.items())

    def status_text(self, n: int) -> str:
        """Count, elapsed time, ETA and rate (once a step is timed), and the app's fields."""
        rate = self.timer.it_per_s()
        count = f"{n}/{self.stop}"
        bar = ""
        if self.tty and self.stop > 0:
            full = int(WIDTH * n / self.stop)
            bar = " |" + "#" * full + " " * (WIDTH - full) + "|"
        text = f"{self.desc} {count}{bar} {_seconds(self.timer.elapsed())}".lstrip()
        if rate == rate:  # a step was timed
            text += f" (eta {_seconds((self.stop - n) / rate)}), {rate_text(rate, self.unit)}"
        return text + self.fields_text()

    def final_text(self, interrupted: bool) -> str:
        """The last line: steps, wall time, compile time and the one rate."""
        t = self.timer
        how = "interrupted after" if interrupted else "done,"
        rate = rate_text(t.it_per_s(), self.unit)
        return (f"{self.head()}{how} {t.done} steps in {t.t_end - t.t0:.1f} s ({t.compile_seconds:.1f} s "
                f"compiling; {rate}, compile time excluded)" + self.fields_text())

    def write(self, text: str, *, final: bool) -> None:
        """One plain line (not a terminal), or the bar redrawn in place (a terminal)."""
        with self.lock:
            if self.tty:
                pad = max(0, self.drawn - len(text))
                self.stream.write("\r" + text + " " * pad + ("\n" if final else ""))
                self.drawn = 0 if final else len(text)
            else:
                self.stream.write(text + "\n")
            self.stream.flush()


def run_steps(step: Callable[[int], object], start: int, stop: int, *, progress: Union[bool, Progress] = False,
              interruptible: bool = False, desc: Optional[str] = None, first_desc: Optional[str] = None,
              unit: str = "it", show: Optional[Callable[[int], Dict[str, str]]] = None,
              show_every: int = 1) -> LoopStats:
    """Call ``step(i)`` for i in [start, stop), time it and show progress.

    Args:
      step: does step ``i``; what it returns is waited for (``jax.block_until_ready``)
        after the steps that compile only, so the compile time is measured without slowing
        the others.
      start, stop: step range; the display counts from ``start`` to ``stop``.
      progress: True: show a :class:`Progress` on stderr, closed at the end; a
        :class:`Progress`: use it and leave closing it to the caller; False: none.
      interruptible: on KeyboardInterrupt stop and report ``interrupted`` instead of raising.
      desc: the display's label; ``first_desc`` is accepted for older callers and ignored
        (the compile phase is always shown as such).
      unit: the rate's unit.
      show: ``show(i)`` -> fields for the display after step ``i``, asked every
        ``show_every`` steps and after the last (formatting a value waits for it).
    """
    bar = progress if isinstance(progress, Progress) else (Progress() if progress else None)
    timer = bar.timer if bar is not None else LoopTimer()
    if bar is not None:
        bar.begin(start, stop, desc=desc or "", unit=unit)
    else:
        timer.begin()
    interrupted = False
    try:
        for i in range(int(start), int(stop)):
            out = step(i)
            if timer.compiling():
                jax.block_until_ready(out)
            if bar is None:
                timer.step_done()
                continue
            if show is not None and ((i + 1) % show_every == 0 or i + 1 == stop):
                bar.set_fields(show(i))
            bar.step_done(i)
    except KeyboardInterrupt:
        if not interruptible:
            raise
        interrupted = True
    finally:
        timer.end()
        if bar is not None and bar is not progress:
            bar.close(interrupted=interrupted)
    return timer.stats(interrupted)
