"""A slow, independent reference rasteriser for the renderer's tests (NumPy, float64).

Nothing here uses diffvg_jax's geometry code: shapes are read from the scene dataclasses and
rebuilt from the SVG definitions.

Sampling. Each pixel row is cut into ``rows_per_pixel`` scanlines at stratified centres
y = i + (k + 1/2) / S. Along a scanline the region is known EXACTLY: we compute every
crossing of the scanline with the true boundary curves (Bezier segments, elliptic arcs,
stroke offset curves, join and cap polygons), which gives the winding number w(x) as a
step function of x; the fill rule maps it to an indicator, and its length inside each
pixel column [j, j+1] is integrated exactly. The only approximation is the midpoint rule
over the S scanlines of a pixel (error <= 1 / (2 S) for a horizontal edge, O(1 / S^2) for
slanted ones), i.e. this is an S x infinity sub-sample grid.

Crossings. Every boundary piece is a parametric curve p(t) in canvas space (shape
transforms are applied to control points of Bezier curves, which is exact, and composed
with the parametric forms of arcs and offset curves). It is split where y(t) has extrema
(analytic roots for Bezier curves and arcs; a dense uniform split for stroke offset curves,
whose monotone pieces are then found to within a sliver of height ~1e-6 px), and on each
monotone piece the crossing with each scanline is found by bisection to float64 precision.
Crossings use the half-open rule y in [min, max) so chained pieces count a vertex once.

Strokes (SVG semantics, in user space before the shape transform): the union of
  * per segment, the region swept by the normal segment of length ``stroke_width``
    centred on the curve (a polygon bounded by the two offset curves c(t) +- h n(t));
  * joins at interior vertices (and at every vertex of a closed subpath): miter (tip at
    the offset lines' intersection, bevel when 1 / cos(turn / 2) > miter_limit), bevel
    (triangle on the outer side), round (disc of radius h);
  * caps at the ends of open subpaths: butt (nothing), square (h x 2h box), round (disc).
Each piece is a positively oriented closed contour, so the union is {sum of windings > 0}.
A curved segment whose curvature radius drops below h makes its offset curve fold back;
the oracle refuses such strokes (ValueError) rather than return a wrong region.

``unsure`` pixels: the renderer maps the box-filtered winding INTEGRAL through the fill
rule, which equals the filtered coverage exactly when the fill-rule map is affine on the
range of winding values inside the pixel, i.e. when max(w) - min(w) <= 1 there. Pixels where
the sampled winding numbers span 2 or more (self-intersections, overlapping subpaths,
overlapping stroke pieces) are flagged; tests exclude them from per-pixel maxima only.
"""
from __future__ import annotations

import math
from typing import Callable, List, NamedTuple, Sequence

import numpy as np

import diffvg_jax as dv

_BISECT_STEPS = 60
_OFFSET_SPLITS = 1024     # dense monotone split of a stroke offset curve
_BIG = 1e30


# ----------------------------------------------------------------------------------------
# Parametric pieces (canvas space) and their scanline crossings
# ----------------------------------------------------------------------------------------


class Piece(NamedTuple):
    """A parametric curve t in [0, 1] -> canvas point. ``fn`` maps t (n,) to (n, 2);
    ``breaks`` are sorted parameters containing 0 and 1 between which y(t) is monotone."""
    fn: Callable[[np.ndarray], np.ndarray]
    breaks: np.ndarray


def _affine(m, pts):
    return pts @ m[:2, :2].T + m[:2, 2]


def _bernstein(ctrl, t):
    """Bezier of any degree: ctrl (d+1, 2), t (n,) -> (n, 2)."""
    d = len(ctrl) - 1
    t = np.asarray(t, np.float64)[:, None]
    out = np.zeros((t.shape[0], 2))
    for k in range(d + 1):
        out += math.comb(d, k) * (1 - t) ** (d - k) * t ** k * ctrl[k]
    return out


def _bezier_deriv(ctrl, t):
    d = len(ctrl) - 1
    return d * _bernstein(np.diff(ctrl, axis=0), t) if d >= 1 else np.zeros((len(t), 2))


def _poly_roots_in_unit(coeffs_power):
    """Real roots in (0, 1) of a polynomial given lowest-order-first."""
    c = np.trim_zeros(np.asarray(coeffs_power, np.float64), "b")
    if len(c) <= 1:
        return []
    r = np.roots(c[::-1])
    return [z.real for z in r if abs(z.imag) < 1e-12 and 0.0 < z.real < 1.0]


def _bezier_power_y(ctrl):
    """y(t) of a Bezier as power-basis coefficients, lowest first."""
    d = len(ctrl) - 1
    y = ctrl[:, 1]
    coeffs = np.zeros(d + 1)
    for k in range(d + 1):  # C(d,k) t^k (1-t)^(d-k) = sum_j C(d,k) C(d-k,j) (-1)^j t^(k+j)
        for j in range(d - k + 1):
            coeffs[k + j] += math.comb(d, k) * math.comb(d - k, j) * (-1) ** j * y[k]
    return coeffs


def bezier_piece(ctrl_canvas) -> Piece:
    ctrl = np.asarray(ctrl_canvas, np.float64)
    c = _bezier_power_y(ctrl)
    dc = np.array([k * c[k] for k in range(1, len(c))])
    breaks = np.unique(np.concatenate([[0.0, 1.0], _poly_roots_in_unit(dc)]))
    return Piece(lambda t, ctrl=ctrl: _bernstein(ctrl, t), breaks)


def line_piece(a, b) -> Piece:
    return bezier_piece(np.array([a, b], np.float64))


def arc_piece(m, centre, rx, ry, th0, th1) -> Piece:
    """Elliptic arc centre + (rx cos th, ry sin th), th from th0 to th1 (user space), mapped
    through the affine m (3, 3) to the canvas."""
    centre = np.asarray(centre, np.float64)

    def fn(t):
        th = th0 + np.asarray(t) * (th1 - th0)
        pts = centre + np.stack([rx * np.cos(th), ry * np.sin(th)], -1)
        return _affine(m, pts)

    # canvas y(th) = const + alpha cos th + beta sin th; extrema where tan th = beta / alpha
    alpha, beta = m[1, 0] * rx, m[1, 1] * ry
    base = math.atan2(beta, alpha)
    ts = []
    for k in range(-4, 5):
        th = base + k * math.pi
        t = (th - th0) / (th1 - th0)
        if 0.0 < t < 1.0:
            ts.append(t)
    return Piece(fn, np.unique(np.concatenate([[0.0, 1.0], ts])))


def dense_piece(fn, splits=_OFFSET_SPLITS) -> Piece:
    return Piece(fn, np.linspace(0.0, 1.0, splits + 1))


def _crossings(piece: Piece, rows_y: np.ndarray):
    """Crossings of a piece with the scanlines rows_y (sorted): (row index, x, sign)."""
    tb = piece.breaks
    yb = piece.fn(tb)[:, 1]
    ya, yz = yb[:-1], yb[1:]
    lo, hi = np.minimum(ya, yz), np.maximum(ya, yz)
    r0 = np.searchsorted(rows_y, lo, side="left")   # first row >= lo
    r1 = np.searchsorted(rows_y, hi, side="left")   # first row >= hi  (half-open [lo, hi))
    counts = np.where(yz != ya, np.maximum(r1 - r0, 0), 0)
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    k = np.repeat(np.arange(len(counts)), counts)
    first = np.repeat(r0, counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    rows = first + offsets
    target = rows_y[rows]
    increasing = yz[k] > ya[k]
    t_lo, t_hi = tb[k].copy(), tb[k + 1].copy()   # invariant: y on the t_lo side is "below"
    # for decreasing pieces swap so that y(t_lo) <= target < y(t_hi) holds in both cases
    t_lo2 = np.where(increasing, t_lo, t_hi)
    t_hi2 = np.where(increasing, t_hi, t_lo)
    for _ in range(_BISECT_STEPS):
        mid = 0.5 * (t_lo2 + t_hi2)
        below = piece.fn(mid)[:, 1] <= target
        t_lo2 = np.where(below, mid, t_lo2)
        t_hi2 = np.where(below, t_hi2, mid)
    x = piece.fn(0.5 * (t_lo2 + t_hi2))[:, 0]
    return rows, x, np.where(increasing, 1.0, -1.0)


# ----------------------------------------------------------------------------------------
# Scanline integration of a winding function
# ----------------------------------------------------------------------------------------


class Coverage(NamedTuple):
    """coverage: float64 (H, W) in [0, 1]. unsure: bool (H, W), winding span >= 2 in the
    pixel (the renderer's integral-then-fill-rule is inexact there)."""
    coverage: np.ndarray
    unsure: np.ndarray
    wmin: np.ndarray
    wmax: np.ndarray


def _rows(height, rows_per_pixel):
    return (np.arange(height * rows_per_pixel) + 0.5) / rows_per_pixel


def integrate(contours: Sequence[Sequence[Piece]], width, height, rows_per_pixel, rule) -> Coverage:
    S = rows_per_pixel
    rows_y = _rows(height, S)
    R = len(rows_y)
    rr, xx, ss = [np.zeros(0, np.int64)], [np.zeros(0)], [np.zeros(0)]
    for contour in contours:
        for piece in contour:
            r, x, s = _crossings(piece, rows_y)
            rr.append(r), xx.append(x), ss.append(s)
    # w(x) = sum of signs of crossings right of x = -(sum of signs at or left of x): each
    # closed contour's crossings on a scanline sum to 0. Sentinels bound every scanline.
    rows = np.concatenate(rr + [np.arange(R), np.arange(R)])
    xs = np.concatenate(xx + [np.full(R, -_BIG), np.full(R, _BIG)])
    ds = -np.concatenate(ss + [np.zeros(R), np.zeros(R)])
    order = np.lexsort((xs, rows))
    rows, xs, ds = rows[order], xs[order], ds[order]
    w = np.cumsum(ds)
    last = np.r_[rows[1:] != rows[:-1], True]
    if np.any(np.abs(w[last]) > 0.5):
        raise ValueError("oracle: crossings do not balance on a scanline (open contour or a "
                         "vertex exactly on a scanline)")
    w = np.rint(w).astype(np.int64)
    same = rows[:-1] == rows[1:]
    r = rows[:-1][same]
    a = np.clip(xs[:-1][same], 0.0, width)
    b = np.clip(xs[1:][same], 0.0, width)
    wv = w[:-1][same]
    if rule == "nonzero":
        inside = wv != 0
    elif rule == "evenodd":
        inside = (wv % 2) != 0
    else:
        raise ValueError(rule)
    # exact length of [a, b] inside each column, for intervals that are inside
    cov = np.zeros((R, width + 2))
    full = np.zeros((R, width + 2))
    m = inside & (b > a)
    ra, aa, bb = r[m], a[m], b[m]
    ja = np.minimum(np.floor(aa).astype(np.int64), width - 1)
    jb = np.minimum(np.floor(bb).astype(np.int64), width)
    one = ja == jb
    np.add.at(cov, (ra[one], ja[one]), (bb - aa)[one])
    two = ~one
    np.add.at(cov, (ra[two], ja[two]), (ja + 1 - aa)[two])
    np.add.at(cov, (ra[two], jb[two]), (bb - jb)[two])
    np.add.at(full, (ra[two], ja[two] + 1), 1.0)
    np.add.at(full, (ra[two], jb[two]), -1.0)
    cov = (cov + np.cumsum(full, axis=1))[:, :width]
    coverage = cov.reshape(height, S, width).mean(axis=1)
    # winding range per (scanline, column): every interval of positive length in a column
    m = b > a
    ra, aa, bb, wm = r[m], a[m], b[m], wv[m]
    j0 = np.floor(aa).astype(np.int64)
    j1 = np.minimum(np.ceil(bb).astype(np.int64) - 1, width - 1)
    n = np.maximum(j1 - j0 + 1, 0)
    rep_r = np.repeat(ra, n)
    rep_w = np.repeat(wm, n)
    rep_j = np.repeat(j0, n) + (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))
    wmin = np.full((R, width), np.iinfo(np.int64).max)
    wmax = np.full((R, width), np.iinfo(np.int64).min)
    np.minimum.at(wmin, (rep_r, rep_j), rep_w)
    np.maximum.at(wmax, (rep_r, rep_j), rep_w)
    wmin = wmin.reshape(height, S, width).min(axis=1)
    wmax = wmax.reshape(height, S, width).max(axis=1)
    return Coverage(np.clip(coverage, 0.0, 1.0), (wmax - wmin) >= 2, wmin, wmax)


# ----------------------------------------------------------------------------------------
# Shapes -> user-space segments
# ----------------------------------------------------------------------------------------


class Seg(NamedTuple):
    """A user-space segment: kind 'bezier' (ctrl (d+1, 2)) or 'arc' (centre, rx, ry, th0, th1)."""
    kind: str
    data: tuple

    def point(self, t):
        if self.kind == "bezier":
            return _bernstein(self.data[0], t)
        c, rx, ry, a0, a1 = self.data
        th = a0 + np.asarray(t) * (a1 - a0)
        return np.asarray(c) + np.stack([rx * np.cos(th), ry * np.sin(th)], -1)

    def deriv(self, t):
        if self.kind == "bezier":
            return _bezier_deriv(self.data[0], t)
        c, rx, ry, a0, a1 = self.data
        th = a0 + np.asarray(t) * (a1 - a0)
        return (a1 - a0) * np.stack([-rx * np.sin(th), ry * np.cos(th)], -1)

    def start(self):
        return self.point(np.array([0.0]))[0]

    def end(self):
        return self.point(np.array([1.0]))[0]

    def end_tangents(self):
        """(direction at t=0, direction at t=1), unit; SVG: from the nearest distinct
        control point when a derivative vanishes. None for a zero-length segment."""
        if self.kind == "arc":
            d = self.deriv(np.array([0.0, 1.0]))
            return d[0] / np.linalg.norm(d[0]), d[1] / np.linalg.norm(d[1])
        ctrl = self.data[0]
        d0 = next((p - ctrl[0] for p in ctrl[1:] if np.linalg.norm(p - ctrl[0]) > 1e-12), None)
        d1 = next((ctrl[-1] - p for p in ctrl[-2::-1] if np.linalg.norm(ctrl[-1] - p) > 1e-12), None)
        if d0 is None:
            return None
        return d0 / np.linalg.norm(d0), d1 / np.linalg.norm(d1)

    def is_line(self):
        if self.kind != "bezier":
            return False
        ctrl = self.data[0]
        d = ctrl[-1] - ctrl[0]
        return all(abs(d[0] * (p - ctrl[0])[1] - d[1] * (p - ctrl[0])[0]) < 1e-12 and np.dot(d, p - ctrl[0]) >= -1e-12
                   and np.dot(d, p - ctrl[0]) <= np.dot(d, d) + 1e-12 for p in ctrl[1:-1])

    def to_piece(self, m) -> Piece:
        if self.kind == "bezier":
            return bezier_piece(_affine(m, self.data[0]))
        c, rx, ry, a0, a1 = self.data
        return arc_piece(m, c, rx, ry, a0, a1)


class Subpath(NamedTuple):
    segs: List[Seg]
    closed: bool


def _np(x):
    return np.asarray(x, np.float64)


def _line(a, b):
    return Seg("bezier", (np.array([a, b], np.float64),))


def _ellipse_segs(c, rx, ry):
    """Four quarter arcs from angle 0, clockwise on screen (as SVG draws a circle)."""
    return [Seg("arc", (c, rx, ry, k * math.pi / 2, (k + 1) * math.pi / 2)) for k in range(4)]


def shape_subpaths(shape) -> List[Subpath]:
    """User-space subpaths of a diffvg_jax shape, from the SVG definitions."""
    if isinstance(shape, dv.Path):
        pts = _np(shape.points)
        out = []
        for start, degs, closed, n in shape.subpath_layout():
            local = pts[start:start + n]
            segs, i = [], 0
            for d in degs:
                idx = [(i + j) % n for j in range(d + 1)]
                segs.append(Seg("bezier", (local[idx],)))
                i += d
            out.append(Subpath(segs, closed))
        return out
    if isinstance(shape, (dv.Polygon, dv.Polyline)):
        pts = _np(shape.points)
        closed = isinstance(shape, dv.Polygon)
        n = len(pts)
        segs = [_line(pts[i], pts[(i + 1) % n]) for i in range(n if closed else n - 1)]
        return [Subpath(segs, closed)] if segs else []
    if isinstance(shape, dv.Circle):
        r = abs(float(shape.radius))
        return [Subpath(_ellipse_segs(_np(shape.center), r, r), True)]
    if isinstance(shape, dv.Ellipse):
        rx, ry = np.abs(_np(shape.radius))
        return [Subpath(_ellipse_segs(_np(shape.center), rx, ry), True)]
    if isinstance(shape, dv.Rect):
        lo = np.minimum(_np(shape.p_min), _np(shape.p_max))
        hi = np.maximum(_np(shape.p_min), _np(shape.p_max))
        rx, ry = np.minimum(np.abs(_np(shape.corner_radius)), 0.5 * (hi - lo))
        x0, y0 = lo
        x1, y1 = hi
        if rx <= 0 or ry <= 0:
            c = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
            return [Subpath([_line(c[i], c[(i + 1) % 4]) for i in range(4)], True)]
        segs = []
        def side(a, b):
            if np.linalg.norm(np.subtract(b, a)) > 1e-12:
                segs.append(_line(a, b))
        pi = math.pi
        side((x0 + rx, y0), (x1 - rx, y0))
        segs.append(Seg("arc", ((x1 - rx, y0 + ry), rx, ry, 1.5 * pi, 2 * pi)))
        side((x1, y0 + ry), (x1, y1 - ry))
        segs.append(Seg("arc", ((x1 - rx, y1 - ry), rx, ry, 0.0, 0.5 * pi)))
        side((x1 - rx, y1), (x0 + rx, y1))
        segs.append(Seg("arc", ((x0 + rx, y1 - ry), rx, ry, 0.5 * pi, pi)))
        side((x0, y1 - ry), (x0, y0 + ry))
        segs.append(Seg("arc", ((x0 + rx, y0 + ry), rx, ry, pi, 1.5 * pi)))
        return [Subpath(segs, True)]
    raise TypeError(type(shape).__name__)


# ----------------------------------------------------------------------------------------
# Fill and stroke regions
# ----------------------------------------------------------------------------------------


def _total_transform(shape, transform):
    m = _np(shape.transform)
    if transform is not None:
        m = _np(transform) @ m
    return m


def fill_contours(shape, transform=None) -> List[List[Piece]]:
    """Canvas-space closed contours of a shape's fill (open subpaths closed by a line)."""
    m = _total_transform(shape, transform)
    out = []
    for sub in shape_subpaths(shape):
        pieces = [s.to_piece(m) for s in sub.segs]
        a, b = sub.segs[0].start(), sub.segs[-1].end()
        if np.linalg.norm(a - b) > 0:
            pieces.append(line_piece(_affine(m, b[None])[0], _affine(m, a[None])[0]))
        out.append(pieces)
    return out


def fill_coverage(shape, width, height, *, transform=None, rows_per_pixel=64) -> Coverage:
    """Exact-per-scanline coverage of the shape's fill region with its fill rule."""
    return integrate(fill_contours(shape, transform), width, height, rows_per_pixel, shape.fill_rule)


def _perp(d):
    return np.array([-d[1], d[0]])


def _polygon_contour(m, pts):
    """A closed polygon (user space) as a contour of canvas lines."""
    q = _affine(m, np.asarray(pts, np.float64))
    return [line_piece(q[i], q[(i + 1) % len(q)]) for i in range(len(q))]


def positive(contour):
    """The contour, reversed if needed so that its canvas-space signed area is positive
    (winding +1 inside): stroke pieces are then united by summing windings."""
    t = np.linspace(0.0, 1.0, 65)[:-1]
    poly = np.concatenate([p.fn(t) for p in contour])
    return contour if _signed_area(poly) > 0 else _reverse(contour)


def _signed_area(pts):
    x, y = pts[:, 0], pts[:, 1]
    return 0.5 * np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)


def _disc_contour(m, c, r):
    return [arc_piece(m, c, r, r, k * math.pi / 2, (k + 1) * math.pi / 2) for k in range(4)]


def _swept_contour(seg: Seg, h, m):
    """Region swept by the normal segment of half-length h along seg, as one positively
    oriented contour: + offset forward, end normal, - offset backward, start normal."""
    tang = seg.end_tangents()
    if tang is None:
        return None
    if seg.is_line():
        a, b = seg.start(), seg.end()
        n = _perp(tang[0]) * h
        return _polygon_contour(m, [a + n, b + n, b - n, a - n])

    def normal(t):
        d = seg.deriv(t)
        ln = np.linalg.norm(d, axis=1, keepdims=True)
        if np.any(ln < 1e-9):
            raise ValueError("oracle: stroke of a curve with a cusp (zero derivative) inside a segment")
        return np.stack([-d[:, 1], d[:, 0]], -1) / ln

    ts = np.linspace(0.0, 1.0, 4097)
    c = seg.point(ts)
    for sgn in (1.0, -1.0):
        o = c + sgn * h * normal(ts)
        if np.any(np.sum(np.diff(o, axis=0) * np.diff(c, axis=0), axis=1) <= 0):
            raise ValueError("oracle: stroke half-width exceeds a curvature radius (offset curve folds)")
    plus = lambda t: _affine(m, seg.point(t) + h * normal(np.asarray(t)))
    minus = lambda t: _affine(m, seg.point(1.0 - np.asarray(t)) - h * normal(1.0 - np.asarray(t)))
    p1, m1 = plus(np.array([1.0]))[0], minus(np.array([0.0]))[0]
    m0, p0 = minus(np.array([1.0]))[0], plus(np.array([0.0]))[0]
    return [dense_piece(plus), line_piece(p1, m1), dense_piece(minus), line_piece(m0, p0)]


def _reverse(contour):
    return [Piece(lambda t, f=p.fn: f(1.0 - np.asarray(t)), np.sort(1.0 - p.breaks)) for p in contour[::-1]]


def _join_contour(p, d_in, d_out, h, join, miter_limit, m):
    cross = d_in[0] * d_out[1] - d_in[1] * d_out[0]
    dot = float(np.dot(d_in, d_out))
    if join == "round":
        return _disc_contour(m, p, h)
    if abs(cross) < 1e-12:
        return None  # straight on (nothing to fill) or a reversal (a zero-area bevel)
    s = -np.sign(cross)           # the outer side: offsets s * n separate there
    n_in, n_out = s * _perp(d_in), s * _perp(d_out)
    a, b = p + h * n_in, p + h * n_out
    ratio = 1.0 / math.sqrt(max((1.0 + dot) / 2.0, 1e-300))   # 1 / cos(turn / 2)
    if join == "miter" and ratio <= miter_limit:
        tip = p + h * (n_in + n_out) / (1.0 + dot)
        return _polygon_contour(m, [p, a, tip, b])
    return _polygon_contour(m, [p, a, b])


def _cap_contour(p, outward, h, cap, m):
    if cap == "butt":
        return None
    if cap == "round":
        return _disc_contour(m, p, h)
    n = _perp(outward) * h
    e = outward * h
    return _polygon_contour(m, [p + n, p + n + e, p - n + e, p - n])


def stroke_contours(shape, transform=None) -> List[List[Piece]]:
    """Canvas-space positively oriented contours whose union is the stroke region."""
    width = _np(shape.stroke_width)
    if width.ndim != 0:
        raise ValueError("oracle: per-point stroke widths are not supported")
    h = 0.5 * float(width)
    m = _total_transform(shape, transform)
    out = []
    if h <= 0:
        return out
    for sub in shape_subpaths(shape):
        segs = [s for s in sub.segs if s.end_tangents() is not None]
        if not segs:
            continue
        for s in segs:
            out.append(positive(_swept_contour(s, h, m)))
        pairs = list(zip(segs[:-1], segs[1:]))
        if sub.closed:
            pairs.append((segs[-1], segs[0]))
        for s0, s1 in pairs:
            c = _join_contour(s0.end(), s0.end_tangents()[1], s1.end_tangents()[0], h, shape.line_join,
                              shape.miter_limit, m)
            if c is not None:
                out.append(positive(c))
        if not sub.closed:
            for p, outward in ((segs[0].start(), -segs[0].end_tangents()[0]),
                               (segs[-1].end(), segs[-1].end_tangents()[1])):
                c = _cap_contour(p, outward, h, shape.line_cap, m)
                if c is not None:
                    out.append(positive(c))
    return out


def stroke_coverage(shape, width, height, *, transform=None, rows_per_pixel=64) -> Coverage:
    """Coverage of the stroke region (union of swept segments, joins and caps)."""
    return integrate(stroke_contours(shape, transform), width, height, rows_per_pixel, "nonzero")


# ----------------------------------------------------------------------------------------
# Compositing (solid paints)
# ----------------------------------------------------------------------------------------


def _solid(paint):
    if not isinstance(paint, dv.Solid):
        raise ValueError("oracle.composite supports Solid paints only")
    return _np(paint.color)


def _over(dst, src):
    """Premultiplied src over dst, both (H, W, 4)."""
    return src + dst * (1.0 - src[..., 3:4])


def _layer(cov, color, alpha):
    a = cov * color[3] * alpha
    return np.concatenate([color[:3] * a[..., None], a[..., None]], axis=-1)


def _draw(children, m, width, height, S):
    img = np.zeros((height, width, 4))
    for child in children:
        cm = m @ _np(child.transform)
        if isinstance(child, dv.Group):
            sub = _draw(child.children, cm, width, height, S)
            if child.opacity is not None:
                sub = sub * float(child.opacity)
            img = _over(img, sub)
            continue
        layers = []
        if child.fill is not None:
            cov = integrate(fill_contours(child, m), width, height, S, child.fill_rule).coverage
            layers.append(_layer(cov, _solid(child.fill), float(child.fill_opacity)))
        if child.stroke is not None:
            cov = integrate(stroke_contours(child, m), width, height, S, "nonzero").coverage
            layers.append(_layer(cov, _solid(child.stroke), float(child.stroke_opacity)))
        if child.paint_order == "stroke":
            layers.reverse()
        shape_img = np.zeros((height, width, 4))
        for layer in layers:
            shape_img = _over(shape_img, layer)
        if child.opacity is not None:
            shape_img = shape_img * float(child.opacity)
        img = _over(img, shape_img)
    return img


def composite(scene, width, height, *, premultiplied=False, rows_per_pixel=32) -> np.ndarray:
    """Reference image float64 (H, W, 4) of a scene with Solid paints: per-layer coverage,
    premultiplied "over" back to front, group / shape opacity as layers, background last.
    Straight alpha unless ``premultiplied`` (pixels with alpha 0 get rgb 0)."""
    img = _draw(scene.children, np.eye(3), width, height, rows_per_pixel)
    bg = _np(scene.background)
    img = _over(np.broadcast_to(np.concatenate([bg[:3] * bg[3], bg[3:]]), img.shape), img)
    if premultiplied:
        return img
    a = img[..., 3:4]
    return np.concatenate([np.where(a > 0, img[..., :3] / np.where(a > 0, a, 1.0), 0.0), a], axis=-1)
