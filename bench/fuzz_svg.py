"""Mutation fuzzing of load_svg on the conformance files (run by hand; not a test).

    python bench/fuzz_svg.py [--rounds N] [--seed S] [--seconds T] [--root DIR]

Each round takes every ``*.svg`` under ``DIR`` (default ../shared/conformance/resvg) and
loads one mutant of it: numbers swapped for hostile ones (nan, inf, 1e39, 1e-320, huge
digit runs), attributes duplicated into fan-outs, elements repeated or nested, random
characters inserted, deleted or the text truncated, CSS selectors lengthened. Every load
runs under a SIGALRM of ``--seconds``.

Reports: inputs, clean loads (no warning), loads with SVGWarnings, clean errors
(ValueError), anything else (other exceptions, timeouts, non-finite scene leaves: each
listed), and the slowest input.
"""
from __future__ import annotations

import argparse
import glob
import os
import random
import re
import signal
import sys
import time
import warnings

import jax
import numpy as np

import diffvg_jax as dv
from diffvg_jax.svg import SVGWarning

HOSTILE_NUMBERS = ["nan", "inf", "-inf", "1e39", "-1e39", "1e-320", "1e308", "3e38", "0", "-0", "1e-20",
                   "9" * 5000, "1" * 3000 + "x", "1e", "."]
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


class Timeout(BaseException):
    """The load ran past its --seconds."""


def on_alarm(signum, frame):
    raise Timeout()


def mutate(text: str, rng: random.Random) -> str:
    kind = rng.randrange(8)
    if kind == 0:   # hostile numbers
        nums = list(NUMBER.finditer(text))
        for m in rng.sample(nums, min(len(nums), rng.randint(1, 5))):
            text = text[:m.start()] + rng.choice(HOSTILE_NUMBERS) + text[m.end():]
            break
        return text
    if kind == 1:   # repeat an element (fan-out)
        m = rng.choice(list(re.finditer(r"<(rect|path|circle|use|g)\b[^>]*/>", text)) or [None])
        if m:
            return text[:m.end()] + m.group(0) * rng.choice([10, 1000, 20000]) + text[m.end():]
        return text
    if kind == 2:   # nest
        n = rng.choice([50, 199, 300])
        return text.replace("</svg>", "<g>" * n + "</g>" * n + "</svg>", 1)
    if kind == 3:   # random characters
        chars = "<>&;\"'#()/*,.-eE0123456789 \n\x00{}[]:!%"
        for _ in range(rng.randint(1, 20)):
            i = rng.randrange(len(text) + 1)
            text = text[:i] + rng.choice(chars) * rng.choice([1, 1, 1, 200]) + text[i:]
        return text
    if kind == 4:   # delete a span / truncate
        i = rng.randrange(len(text))
        return text[:i] + text[i + rng.randint(1, 200):] if rng.random() < 0.7 else text[:i]
    if kind == 5:   # hostile paint / dash / transform values
        attr = rng.choice(['stroke-dasharray="1e-20"', 'transform="scale(1e20) scale(1e20)"', 'fill="rgb('
                           + " " * 3000 + 'x"', 'width="1e39"', 'd="M0 0 A 1e308 1e308 0 0 1 1 1"',
                           'stroke-dasharray="0.001" stroke="red"', 'href="#' + "a" * 100 + '"'])
        return re.sub(r"<(rect|path|circle|g)\b", lambda m: m.group(0) + " " + attr, text, count=1)
    if kind == 6:   # CSS
        sel = " ".join(rng.choice(["g", "*", "rect", ".a", "#b", ">", "+", "~"]) for _ in range(rng.randint(5, 30)))
        return text.replace("</svg>", f"<style>{sel} {{fill: red}}</style></svg>", 1)
    # kind 7: a reference to every id from a new <use>
    ids = re.findall(r'id="([^"]+)"', text)
    extra = "".join(f'<use href="#{i}"/>' * rng.choice([1, 50]) for i in ids[:20])
    return text.replace("</svg>", extra + "</svg>", 1)


def load(text: str, seconds: float):
    """(outcome, detail) of one load: clean / warned / error / other."""
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            scene = dv.load_svg(text)
        if not all(np.all(np.isfinite(np.asarray(x))) for x in jax.tree_util.tree_leaves(scene)):
            return "other", "non-finite scene leaf"
        foreign = [w for w in seen if not issubclass(w.category, SVGWarning)]
        if foreign:
            return "other", f"foreign warning {foreign[0].category.__name__}: {foreign[0].message}"
        return ("warned" if seen else "clean"), ""
    except Timeout:
        return "other", f"timeout ({seconds} s)"
    except ValueError:
        return "error", ""
    except Exception as e:   # noqa: BLE001 (what we count)
        return "other", f"{type(e).__name__}: {str(e)[:200]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def keep(folder, name: str, text: str) -> None:
    """Write one input to ``folder`` (when given) for a closer look."""
    if folder:
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
            f.write(text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--keep", default=None, help="folder to write the 'anything else' and slowest inputs to")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--root", default=os.path.join(here, "..", "..", "shared", "conformance", "resvg"))
    args = ap.parse_args(argv)
    files = sorted(glob.glob(os.path.join(args.root, "**", "*.svg"), recursive=True))
    if not files:
        print(f"no .svg files under {args.root}")
        return 2
    signal.signal(signal.SIGALRM, on_alarm)
    rng = random.Random(args.seed)
    counts = {"clean": 0, "warned": 0, "error": 0, "other": 0}
    others, slowest = [], (0.0, "")
    for r in range(args.rounds):
        for path in files:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = mutate(f.read(), rng)
            t0 = time.perf_counter()
            outcome, detail = load(text, args.seconds)
            dt = time.perf_counter() - t0
            counts[outcome] += 1
            name = f"round {r} {os.path.relpath(path, args.root)}"
            if outcome == "other":
                others.append(f"{name}: {detail}")
                keep(args.keep, f"other-{len(others)}.svg", text)
            if dt > slowest[0]:
                slowest = (dt, name)
                keep(args.keep, "slowest.svg", text)
        print(f"round {r}: {counts}", flush=True)
    total = sum(counts.values())
    print(f"inputs {total}: clean loads {counts['clean']}, loads with SVGWarnings {counts['warned']}, "
          f"clean errors (ValueError) {counts['error']}, anything else {counts['other']}")
    print(f"slowest input: {slowest[1]} ({slowest[0]:.2f} s)")
    for line in others:
        print("  OTHER " + line)
    return 1 if others else 0


if __name__ == "__main__":
    sys.exit(main())
