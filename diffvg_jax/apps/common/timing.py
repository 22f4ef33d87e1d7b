"""The timing of an optimisation loop: which steps compiled, and the one it/s figure.

A step *compiled* when it is the first step of the loop, or when JAX traced, lowered or
compiled a program while it ran (heard through ``jax.monitoring``: a new work budget, a
first evaluation, ...). Its wall time counts as compile time; every other step is *timed*.
The loop's rate is the one figure the progress display, the history dicts of
``dv.fit`` / ``dv.clipdraw`` and the command-line summaries all show::

    it/s = timed steps / (their wall time)          (compile time excluded)

A step's wall time runs from the end of the step before it (or the loop's start) to its own
end, so what the loop does between steps (callbacks, formatting the display) is counted,
and timed + compile seconds add up to the loop's wall time.
"""
from __future__ import annotations

import dataclasses
import math
import time
from typing import Callable, Optional

import jax

__all__ = ["LoopStats", "LoopTimer", "COMPILE_EVENTS", "rate_text"]

# jax.monitoring events that mean "JAX is (re)compiling": tracing, lowering to MLIR, XLA.
COMPILE_EVENTS = frozenset({"/jax/core/compile/jaxpr_trace_duration",
                            "/jax/core/compile/jaxpr_to_mlir_module_duration",
                            "/jax/core/compile/backend_compile_duration"})


@dataclasses.dataclass(frozen=True)
class LoopStats:
    """How a step loop went (see the module docstring for what counts as compiling).

    Attributes:
      done: steps completed (an interrupted step does not count).
      seconds: wall time of the whole loop, s.
      compile_seconds: wall time of the steps that compiled (the first one included), s;
        0 if none ran.
      it_per_s: timed steps per second of their wall time, compile time excluded; NaN when
        no step was timed (fewer than two steps).
      interrupted: the loop stopped on Ctrl-C (only with ``interruptible``).
      compile_steps: how many steps compiled (1 for the first step, plus recompilations).
    """

    done: int
    seconds: float
    compile_seconds: float
    it_per_s: float
    interrupted: bool
    compile_steps: int = 0


def rate_text(it_per_s: float, unit: str = "it") -> str:
    """The rate as every display writes it: ``'12.3 it/s'`` (3 significant digits), or
    ``'? it/s'`` when nothing was timed."""
    if it_per_s is None or not math.isfinite(it_per_s) or it_per_s <= 0:
        return f"? {unit}/s"
    return f"{it_per_s:.3g} {unit}/s" if it_per_s < 1000 else f"{it_per_s:.0f} {unit}/s"


class LoopTimer:
    """Times a loop's steps and tells compiling steps from timed ones.

    ``begin()``, then ``step_done()`` after each step, then ``end()``; ``compiling()`` says
    whether the step now running is compiling (the first one, or JAX compiled during it).
    ``clock`` (seconds, monotonic) is ``time.perf_counter`` unless a test passes its own.
    """

    def __init__(self, clock: Callable[[], float] = time.perf_counter):
        self.clock = clock
        self.t0 = self.mark = self.t_end = 0.0
        self.done = self.compile_steps = self.timed_steps = 0
        self.compile_seconds = self.timed_seconds = self.last_seconds = 0.0
        self.heard_compile = False
        self.listening = False

    def hear(self, event: str, duration_secs: float, **kwargs) -> None:
        """``jax.monitoring`` listener: note that the running step compiles."""
        if event in COMPILE_EVENTS:
            self.heard_compile = True

    def begin(self) -> None:
        """Start the clock and listen for compilations."""
        self.t0 = self.mark = self.t_end = self.clock()
        self.done = self.compile_steps = self.timed_steps = 0
        self.compile_seconds = self.timed_seconds = 0.0
        self.heard_compile = False
        if not self.listening:
            jax.monitoring.register_event_duration_secs_listener(self.hear)
            self.listening = True

    def compiling(self) -> bool:
        """Whether the step now running compiles (the first one, or JAX compiled in it)."""
        return self.done == 0 or self.heard_compile

    def first(self) -> bool:
        """Whether no step has finished yet (the first step is running)."""
        return self.done == 0

    def step_seconds(self) -> float:
        """Seconds since the previous step ended (how long the running step has taken)."""
        return self.clock() - self.mark

    def step_done(self) -> bool:
        """Record the end of a step; True when it compiled."""
        now = self.clock()
        dt, compiled = now - self.mark, self.compiling()
        self.last_seconds = dt
        if compiled:
            self.compile_steps += 1
            self.compile_seconds += dt
        else:
            self.timed_steps += 1
            self.timed_seconds += dt
        self.done += 1
        self.mark = self.t_end = now
        self.heard_compile = False
        return compiled

    def end(self) -> None:
        """Stop the clock (an unfinished step's time counts in ``seconds`` only) and stop
        listening."""
        self.t_end = self.clock()
        if self.listening:
            jax.monitoring.unregister_event_duration_listener(self.hear)
            self.listening = False

    def it_per_s(self) -> float:
        """Timed steps per second of their wall time (compile time excluded); NaN if none."""
        return self.timed_steps / self.timed_seconds if self.timed_steps and self.timed_seconds > 0 else float("nan")

    def elapsed(self) -> float:
        """Seconds since ``begin``."""
        return self.clock() - self.t0

    def stats(self, interrupted: bool = False, seconds: Optional[float] = None) -> LoopStats:
        """The loop's :class:`LoopStats` (after ``end``)."""
        return LoopStats(done=self.done, seconds=self.t_end - self.t0 if seconds is None else seconds,
                         compile_seconds=self.compile_seconds, it_per_s=self.it_per_s(),
                         interrupted=interrupted, compile_steps=self.compile_steps)
