"""Text conformance (resvg's text cases in ../shared/conformance/resvg/text, drawn with the
fonts in ../shared/conformance/fonts, passed as font_dirs): a small subset that CI renders
(two compilations). The full text figure is in README.md (run.py --only text/ with
DIFFVG_FONT_DIRS set to the fonts folder)."""
import os
import warnings

import pytest

from diffvg_jax.svg import render_svg
from support.conformance_suite import ROOT, fonts_dir, runner

SUBSET = ["text/text/simple-case", "text/writing-mode/tb"]


@pytest.mark.parametrize("case", SUBSET)
def test_text_subset_case_passes(case):
    run = runner()
    path = os.path.join(ROOT, "resvg", case + ".svg")
    svg = open(path, encoding="utf-8").read()
    ref = run.to_premul_float(run._png_to_rgba(open(path[:-4] + ".png", "rb").read()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = run.to_premul_float(render_svg(svg, run.SIZE, run.SIZE, font_dirs=fonts_dir()))
    ok, info = run.compare(out, ref)
    assert ok, f"{case}: {info}"
