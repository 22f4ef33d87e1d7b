"""The one optimisation loop driver of the applications: a progress bar, the timings
(first, compiling step apart) and Ctrl-C handling, around a step function each app writes.

Used by :func:`diffvg_jax.fit`, :func:`diffvg_jax.clipdraw` and the MNIST VAE's trainer::

    stats = run_steps(step, 0, iterations, progress=True, interruptible=True,
                      show=lambda i: {"loss": f"{loss[-1]:.5f}"}, show_every=5)
"""
from __future__ import annotations

import dataclasses
import time
from typing import Callable, Dict, Optional

import jax
from tqdm.auto import tqdm

__all__ = ["LoopStats", "run_steps"]


@dataclasses.dataclass(frozen=True)
class LoopStats:
    """How a :func:`run_steps` loop went.

    Attributes:
      done: steps completed (an interrupted step does not count).
      seconds: wall time of the whole loop, s.
      compile_seconds: wall time of the first step (compilation included), s; 0 if none ran.
      it_per_s: steps per second after the first one; NaN with fewer than two steps.
      interrupted: the loop stopped on Ctrl-C (only with ``interruptible``).
    """

    done: int
    seconds: float
    compile_seconds: float
    it_per_s: float
    interrupted: bool


def run_steps(step: Callable[[int], object], start: int, stop: int, *, progress: bool = False,
              interruptible: bool = False, desc: Optional[str] = None, first_desc: Optional[str] = None,
              unit: str = "it", show: Optional[Callable[[int], Dict[str, str]]] = None,
              show_every: int = 1) -> LoopStats:
    """Call ``step(i)`` for i in [start, stop) and time it.

    Args:
      step: does step ``i``; what it returns is waited for (``jax.block_until_ready``)
        after the first step only, so the compile time is measured without slowing the
        others.
      start, stop: step range; the bar counts from ``start`` to ``stop``.
      progress: show a tqdm bar.
      interruptible: on KeyboardInterrupt stop and report ``interrupted`` instead of raising.
      desc, first_desc: the bar's label; ``first_desc`` (default ``desc``) until the first
        step has finished, e.g. 'compiling'.
      unit: the bar's unit.
      show: ``show(i)`` -> postfix fields for the bar after step ``i``, asked every
        ``show_every`` steps and after the last (formatting a value waits for it).
    """
    bar = None
    if progress:
        bar = tqdm(total=int(stop), initial=int(start), unit=unit, dynamic_ncols=True,
                   desc=first_desc if first_desc is not None else desc)
    done, interrupted, t_first = 0, False, None
    t0 = time.perf_counter()
    try:
        for i in range(int(start), int(stop)):
            out = step(i)
            done += 1
            if t_first is None:
                jax.block_until_ready(out)
                t_first = time.perf_counter()
                if bar is not None and first_desc is not None:
                    bar.set_description(desc)
            if bar is not None:
                if show is not None and ((i + 1) % show_every == 0 or i + 1 == stop):
                    bar.set_postfix(show(i), refresh=False)
                bar.update(1)
    except KeyboardInterrupt:
        if not interruptible:
            raise
        interrupted = True
    finally:
        if bar is not None:
            bar.close()
    t_end = time.perf_counter()
    measured = done > 1 and t_first is not None and t_end > t_first
    return LoopStats(done=done, seconds=t_end - t0,
                     compile_seconds=0.0 if t_first is None else t_first - t0,
                     it_per_s=(done - 1) / (t_end - t_first) if measured else float("nan"),
                     interrupted=interrupted)
