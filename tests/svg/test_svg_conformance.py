"""The conformance comparison itself (../shared/conformance/run.py's ``compare``).

The cases are checked one by one in tests/conformance/ (every resvg case, against the
recorded full run); this module checks that the comparison they rely on can fail.
"""
import os

from support.conformance_suite import ROOT, runner as _runner

CASE = "painting/fill/#RGB-color"


def test_a_wrong_rendering_fails_the_comparison():
    """A colour-shifted reference does not pass; the reference itself does."""
    run = _runner()
    path = os.path.join(ROOT, "resvg", CASE + ".png")
    ref = run.to_premul_float(run._png_to_rgba(open(path, "rb").read()))
    shifted = ref.copy()
    shifted[..., 1] *= 0.5
    assert not run.compare(shifted, ref)[0]
    assert run.compare(ref.copy(), ref)[0]
