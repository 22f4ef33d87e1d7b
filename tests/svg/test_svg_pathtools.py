"""svgpathtools as an independent reference for path data (arcs included), arc length
(dash positions) and bounding boxes: its parser, its arc geometry and its length / bbox
code share nothing with values/paths.py and outlines/.

Our arcs are cubics within ARC_TOLERANCE (1e-3 user units) of the true arc, so positions
on arcs agree to that tolerance; lines and Beziers agree to rounding."""
import numpy as np
import pytest
import svgpathtools

from diffvg_jax.svg.outlines import bbox_subpaths, dash_subpaths
from diffvg_jax.svg.values.paths import ARC_TOLERANCE, parse_path_data

PATHS = [
    "M10 20 L30 40 H50 V10 Z",
    "m5 5 l10 0 l0 10 z m20 0 h5 v5 h-5 z",
    "M0 0 C10 -10 20 30 30 0 S50 -20 60 0",
    "M0 0 Q10 20 20 0 T40 0 T60 10",
    "M10 10 A 20 10 30 1 1 50 40",
    "M10 10 a 20 10 -45 0 0 30 10 a5 5 0 1 0 10 0",
    "M0 0 A 5 5 0 0 1 100 0",                       # radii scaled up (too small for the chord)
    "M0,0 L1e1,2e1 1.5.5 -3-4 c1 2 3 4 5 6",        # compact number syntax, implicit repetition
    "M20 20 A 30 15 90 1 0 20 20.0001",             # nearly full ellipse
]


def reference(d):
    return svgpathtools.parse_path(d)


@pytest.mark.parametrize("d", PATHS)
def test_segment_end_points_match_svgpathtools(d):
    ours = parse_path_data(d)
    ref = [seg for seg in reference(d) if abs(seg.end - seg.start) > 0 or not isinstance(seg, svgpathtools.Arc)]
    ends_ref = np.array([[seg.end.real, seg.end.imag] for seg in ref])
    ends_ours = []
    for sp in ours:
        k = 0
        for n in (sp.commands or [1] * len(sp.segments)):
            k += n
            ends_ours.append(sp.segments[k - 1][-1])
    # svgpathtools drops a zero-length closing line; we keep Z's line only when it has length
    assert len(ends_ours) == len(ends_ref)
    np.testing.assert_allclose(np.array(ends_ours), ends_ref, atol=1e-9)


@pytest.mark.parametrize("d", PATHS)
def test_bounding_boxes_match_svgpathtools(d):
    x0, x1, y0, y1 = reference(d).bbox()
    ours = bbox_subpaths(parse_path_data(d))
    np.testing.assert_allclose(ours, (x0, y0, x1, y1), atol=2 * ARC_TOLERANCE)


@pytest.mark.parametrize("d", [p for p in PATHS if "z" not in p.lower()])
def test_dash_positions_follow_svgpathtools_arc_length(d):
    ref = reference(d)
    total = ref.length()
    step = total / 7.3
    dashes = dash_subpaths(parse_path_data(d), [step / 2, step / 2], 0.0, False, 1000)
    assert len(dashes) == int(np.ceil(total / step))
    for k, dash in enumerate(dashes):
        want = ref.point(ref.ilength(k * step, s_tol=1e-9))
        np.testing.assert_allclose(dash.start, [want.real, want.imag], atol=4 * ARC_TOLERANCE)
        end = ref.point(ref.ilength(min(k * step + step / 2, total), s_tol=1e-9))
        np.testing.assert_allclose(dash.end(), [end.real, end.imag], atol=4 * ARC_TOLERANCE)
