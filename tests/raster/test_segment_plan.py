"""The host-side segment plan (``raster.segments.plan_segments``) against a plan written
segment by segment from the definition: each segment's control points are its d + 1 points
of the subpath (the closing segment wraps to the subpath's start), elevated to a cubic by
``geometry.ELEVATION``; stroke widths per point or one for the shape."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import diffvg_jax as dv
from diffvg_jax.geometry import ELEVATION
from diffvg_jax.raster.leaves import LeafTable
from diffvg_jax.raster.segments import plan_segments, register_shape


def _reference_segments(shape, index):
    """(theta indices (n, 4, 2), weights (n, 4, 4), widths (n, 4), scalar (n,)) of one shape,
    one segment at a time."""
    pts, w = index["points"], index["stroke_width"]
    rows = []

    def segment(points, degree):
        src = np.zeros(4, np.int64)
        src[:degree + 1] = points
        weights = np.zeros((4, 4))
        weights[:, :degree + 1] = ELEVATION[degree]
        rows.append((pts[src], weights, w[src] if w.ndim == 1 else np.full(4, int(w)), w.ndim != 1))

    if isinstance(shape, dv.Path):
        start = 0
        k_seg = 0
        for size, closed in zip(shape.subpath_sizes, shape.closed):
            degs = shape.degrees[k_seg:k_seg + size]
            k_seg += size
            if size == 0:
                continue
            n = 1 + sum(degs) - (1 if closed else 0)
            k = 0
            for d in degs:
                segment([start + (k + i) % n for i in range(d + 1)], d)
                k += d
            start += n
    else:
        n = len(shape.points)
        closed = isinstance(shape, dv.Polygon)
        if n == 1:
            segment([0, 0], 1)
        elif n:
            for s in range(n if closed else n - 1):
                segment([s, (s + 1) % n], 1)
    return rows


@st.composite
def _shapes(draw):
    shapes = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["path", "polygon", "polyline", "circle"]))
        per_point = draw(st.booleans())
        if kind == "path":
            sizes = draw(st.lists(st.integers(0, 4), min_size=1, max_size=3).filter(lambda s: sum(s) > 0))
            degrees = tuple(draw(st.lists(st.integers(1, 3), min_size=sum(sizes), max_size=sum(sizes))))
            closed = tuple(draw(st.lists(st.booleans(), min_size=len(sizes), max_size=len(sizes))))
            n, k = 0, 0
            for size, c in zip(sizes, closed):
                if size:
                    n += 1 + sum(degrees[k:k + size]) - (1 if c else 0)
                k += size
            points = np.arange(2 * n, dtype=np.float32).reshape(n, 2)
            width = np.linspace(1, 2, n).astype(np.float32) if per_point else 1.5
            shapes.append(dv.Path(points=points, degrees=degrees, subpath_sizes=tuple(sizes), closed=closed,
                                  stroke_width=width))
        elif kind in ("polygon", "polyline"):
            n = draw(st.integers(1, 6))
            width = np.linspace(1, 2, n).astype(np.float32) if per_point else 2.0
            cls = dv.Polygon if kind == "polygon" else dv.Polyline
            shapes.append(cls(points=np.arange(2 * n, dtype=np.float32).reshape(n, 2), stroke_width=width))
        else:
            shapes.append(dv.Circle(center=np.zeros(2, np.float32), radius=3.0))
    return shapes


@settings(max_examples=40, deadline=None)
@given(shapes=_shapes())
def test_segment_plan_matches_the_segment_by_segment_definition(shapes):
    table = LeafTable()
    index = [register_shape(s, table) for s in shapes]
    plan, layout = plan_segments(shapes, index, lambda n: n)
    rows, items = [], []
    for i, (shape, ix) in enumerate(zip(shapes, index)):
        if not isinstance(shape, dv.Circle):
            segs = _reference_segments(shape, ix)
            rows += segs
            items += [i] * len(segs)
    n = len(rows)
    if n:
        np.testing.assert_array_equal(plan.points[:n], np.stack([r[0] for r in rows]))
        np.testing.assert_allclose(plan.weights[:n], np.stack([r[1] for r in rows]), atol=1e-7)
        np.testing.assert_array_equal(plan.widths[:n], np.stack([r[2] for r in rows]))
        np.testing.assert_array_equal(plan.scalar_width[:n], [r[3] for r in rows])
        np.testing.assert_array_equal(layout.seg_item[:n], items)
    # Padding rows read nothing (index -1) and carry no weight.
    assert (plan.points[n:] == -1).all() and (plan.weights[n:] == 0).all()
    assert (layout.seg_item[n:plan.points.shape[0]] == -1).all()
