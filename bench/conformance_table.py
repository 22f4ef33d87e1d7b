"""Per-area conformance table (Markdown) from run.py JSON results: ours and the peers'.

Usage:
  python ../shared/conformance/run.py --renderer diffvg_jax.svg:render_svg --json ours.json
  python ../shared/conformance/run.py --renderer resvg --json resvg.json      # peers (bench extra)
  python ../shared/conformance/run.py --renderer skia --json skia.json
  python bench/conformance_table.py ours.json --peer resvg=resvg.json --peer skia=skia.json
  python bench/conformance_table.py ours.json --record tests/conformance/recorded.json

``--record`` writes each case's status (pass / fail / error) for the CI's per-case
conformance tests (tests/conformance/): a recorded pass must keep passing.

An area is a case's folder (``resvg/painting/marker`` -> ``painting/marker``). Prints one row
per area (passed / cases, then each peer's passes), totals without text and for text.
"""
from __future__ import annotations

import argparse
import collections
import json


def area_of(case: str) -> str:
    """'resvg/painting/marker/with-viewBox-1' -> 'painting/marker'; text cases keep 'text/<area>'."""
    parts = case.split("/")
    if parts[0] == "resvg":
        parts = parts[1:]
    return "/".join(parts[:2])


def tally(results: dict):
    """{area: (passed, cases)} of one run's JSON (case -> {'status': ...})."""
    out = collections.defaultdict(lambda: [0, 0])
    for case, r in results.items():
        row = out[area_of(case)]
        row[0] += r["status"] == "pass"
        row[1] += 1
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ours")
    ap.add_argument("--peer", action="append", default=[], help="NAME=results.json")
    ap.add_argument("--record", metavar="FILE", help="write {case: status} for tests/conformance/")
    args = ap.parse_args()
    results = json.load(open(args.ours))
    if args.record:
        with open(args.record, "w") as f:
            json.dump({case: r["status"] for case, r in sorted(results.items())}, f, indent=0, sort_keys=True)
            f.write("\n")
    ours = tally(results)
    peers = [(name, tally(json.load(open(path)))) for name, path in (p.split("=", 1) for p in args.peer)]
    print("| area | diffvg_jax | " + " | ".join(name for name, _ in peers) + " |")
    print("|---|---|" + "---|" * len(peers))
    totals = {False: [0, 0] + [0] * len(peers), True: [0, 0] + [0] * len(peers)}
    for area in sorted(ours):
        p, n = ours[area]
        text = area.startswith("text/")
        peer_passes = [t.get(area, (0, 0))[0] for _, t in peers]
        print(f"| {area} | {p} / {n} | " + " | ".join(str(x) for x in peer_passes) + " |")
        row = totals[text]
        row[0] += p
        row[1] += n
        for k, x in enumerate(peer_passes):
            row[2 + k] += x
    for text, label in ((False, "**all without text**"), (True, "**text**")):
        row = totals[text]
        if row[1]:
            print(f"| {label} | **{row[0]} / {row[1]}** | " + " | ".join(f"**{x}**" for x in row[2:]) + " |")


if __name__ == "__main__":
    main()
