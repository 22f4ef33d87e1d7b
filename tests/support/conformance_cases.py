"""The shared resvg conformance cases as pytest parameters, checked against a recorded run.

Every case of ``../shared/conformance/resvg`` is one test item. ``tests/conformance/
recorded.json`` holds each case's status from the last full run (``python
bench/conformance_table.py ours.json --record tests/conformance/recorded.json``): a case
recorded as passing must still pass, with run.py's own tolerances; a case recorded as
failing is an expected failure (it reports XPASS when it starts passing: record again).
"""
import json
import os
import warnings

import pytest

from support.conformance_suite import FONTS, ROOT, runner

RECORDED_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "conformance",
                             "recorded.json")


def _recorded() -> dict:
    with open(RECORDED_FILE, encoding="utf-8") as f:
        return json.load(f)


def case_params(prefix: str):
    """pytest params of the cases whose path (relative to resvg/) starts with ``prefix``;
    cases recorded as failing are marked xfail. Empty when the suite is absent."""
    if ROOT is None:
        return [pytest.param(None, marks=pytest.mark.skip(reason="../shared/conformance is not available"))]
    recorded = _recorded()
    out = []
    base = os.path.join(ROOT, "resvg")
    for dirpath, _, files in sorted(os.walk(os.path.join(base, prefix))):
        for f in sorted(files):
            if not f.endswith(".svg") or not os.path.exists(os.path.join(dirpath, f[:-4] + ".png")):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), base)[:-4]
            status = recorded.get(rel)
            marks = []
            if status is None:
                marks = [pytest.mark.xfail(reason="not in recorded.json: a new case (record the run again)")]
            elif status != "pass":
                marks = [pytest.mark.xfail(reason=f"recorded as {status}")]
            out.append(pytest.param(rel, marks=marks, id=rel))
    return out


_RUN = None


def check_case(rel: str):
    """Render one case with ``render_svg`` at run.py's size and compare as run.py does."""
    global _RUN
    if _RUN is None:
        _RUN = runner()
    from diffvg_jax.svg import render_svg
    path = os.path.join(ROOT, "resvg", rel + ".svg")
    data = open(path, "rb").read()
    try:
        svg = data.decode("utf-8")
    except UnicodeDecodeError:      # run.py hands such documents over as bytes
        svg = data
    ref = _RUN.to_premul_float(_RUN._png_to_rgba(open(path[:-4] + ".png", "rb").read()))
    font_dirs = [FONTS] if FONTS and os.path.isdir(FONTS) else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = _RUN.to_premul_float(render_svg(svg, _RUN.SIZE, _RUN.SIZE, font_dirs=font_dirs))
    ok, info = _RUN.compare(out, ref)
    assert ok, f"{rel}: {info}"
