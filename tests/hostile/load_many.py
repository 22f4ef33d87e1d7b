"""Child process of test_corpus.py: load SVG files under resource limits, one JSON line each.

    python tests/hostile/load_many.py SECONDS_PER_FILE MEMORY_MB FILE...

Sets RLIMIT_AS (address space) to MEMORY_MB before importing anything heavy, then loads
each FILE with load_svg under a SIGALRM of SECONDS_PER_FILE. Prints ``start NAME`` before
each file (so that the parent can name the file a hard hang or crash happened in) and one
JSON object per file: name, outcome ('scene', 'value_error', 'timeout' or 'other'), the
exception type and message, the seconds taken, whether every scene leaf is finite, and
the warning categories seen.
"""
from __future__ import annotations

import json
import os
import resource
import signal
import sys
import time
import warnings


class Timeout(BaseException):
    """Raised by the alarm (a BaseException: no `except Exception` in the loader catches it)."""


def on_alarm(signum, frame):
    raise Timeout()


def load_one(path: str, seconds: float, dv, tree_leaves, np) -> dict:
    out = {"name": os.path.basename(path), "finite": True, "warnings": []}
    t0 = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            scene = dv.load_svg(path)
            out["outcome"] = "scene"
            out["finite"] = all(bool(np.all(np.isfinite(np.asarray(x)))) for x in tree_leaves(scene))
        out["warnings"] = sorted({type(w.message).__name__ for w in seen})
    except Timeout:
        out["outcome"] = "timeout"
    except ValueError as e:
        out.update(outcome="value_error", error=type(e).__name__, message=str(e)[:300])
    except BaseException as e:   # anything else is a failure the parent reports
        out.update(outcome="other", error=type(e).__name__, message=str(e)[:300])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    out["seconds"] = round(time.perf_counter() - t0, 3)
    return out


def main(argv) -> None:
    seconds, memory_mb, files = float(argv[1]), int(argv[2]), argv[3:]
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import jax   # noqa: E402  (after the limit: the imports count against it too)
    import numpy as np
    import diffvg_jax as dv
    signal.signal(signal.SIGALRM, on_alarm)
    for path in files:
        print("start " + os.path.basename(path), flush=True)
        print(json.dumps(load_one(path, seconds, dv, jax.tree_util.tree_leaves, np)), flush=True)


if __name__ == "__main__":
    main(sys.argv)
