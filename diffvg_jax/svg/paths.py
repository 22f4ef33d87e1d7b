"""Path geometry in float64 NumPy: SVG path data, arcs, basic shapes as paths, dashing.

A *subpath* here is ``Subpath(start, segments, closed)``: ``start`` a (2,) point,
``segments`` a list of (k, 2) arrays holding each segment's control points and end point
(k = 1 line, 2 quadratic, 3 cubic), ``closed`` a bool. A closed subpath's last segment
ends exactly at ``start`` (the diffvg_jax Path omits that point). Markers need the path
data's own segments, which ``commands`` and ``close_added`` keep (see ``Subpath``).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from .units import NUMBER

ARC_TOLERANCE = 1e-3  # max distance (user units) between an arc and its cubics


@dataclass
class Subpath:
    """One subpath (see the module docstring).

    ``commands``: segments per path-data command, summing to ``len(segments)`` (an arc
    becomes several cubics); None means one segment per command. ``close_added``: the
    last segment is the line that closepath added (False on a closed subpath means the
    data was already back at ``start`` when it closed: the closepath is zero-length).
    ``marker_arcs``: {command index: list of float64 (3, 2) cubics} for arc commands, the
    arc split as resvg splits it (``arc_marker_cubics``): resvg puts marker-mid on the
    joins between those pieces, and its renderings are our conformance reference.
    """

    start: np.ndarray
    segments: List[np.ndarray] = field(default_factory=list)
    closed: bool = False
    commands: Optional[List[int]] = None
    close_added: bool = False
    marker_arcs: Optional[dict] = None

    def end(self) -> np.ndarray:
        return self.segments[-1][-1] if self.segments else self.start


# ---------------------------------------------------------------------------------------
# path data
# ---------------------------------------------------------------------------------------

_ARGS = {"M": 2, "L": 2, "H": 1, "V": 1, "C": 6, "S": 4, "Q": 4, "T": 2, "A": 7, "Z": 0}
_NUM = re.compile(NUMBER)
_SEP = re.compile(r"[\s,]*")
_WS = re.compile(r"\s*")


class PathDataError(ValueError):
    """Broken path data; ``subpaths`` holds what was read before the error."""

    def __init__(self, message, subpaths):
        super().__init__(message)
        self.subpaths = subpaths


def parse_path_data(d: str, max_points: int = 2_000_000) -> List[Subpath]:
    """Parse SVG path data. On an error, raises PathDataError carrying the subpaths read
    up to the error (SVG: render up to the first error)."""
    subpaths: List[Subpath] = []
    cur: Optional[Subpath] = None
    pos, n = 0, len(d)
    point = np.zeros(2)
    last_ctrl = None      # reflected control point for S / T
    last_cmd = ""
    cmd = None
    npts = 0

    def fail(msg):
        done = subpaths + ([cur] if cur is not None and cur not in subpaths else [])
        raise PathDataError(f"path data: {msg} at character {pos}", [s for s in done if s.segments])

    def read_number():
        nonlocal pos
        pos = _SEP.match(d, pos).end()
        m = _NUM.match(d, pos)
        if not m:
            fail(f"expected a number, found {d[pos:pos + 10]!r}" if pos < n else "missing number")
        v = float(m.group(0))
        if not math.isfinite(v):
            fail("non-finite number")
        pos = m.end()
        return v

    def read_flag():
        nonlocal pos
        pos = _SEP.match(d, pos).end()
        if pos < n and d[pos] in "01":
            pos += 1
            return d[pos - 1] == "1"
        fail("expected an arc flag 0 or 1")

    first = True
    while True:
        pos = _WS.match(d, pos).end()
        if pos >= n:
            break
        c = d[pos]
        if c.upper() in _ARGS and c.isalpha():
            cmd = c
            pos += 1
        else:
            if cmd is None or cmd.upper() == "Z":
                fail(f"expected a command letter, found {c!r}")
            # implicit repetition: a comma may separate the argument groups
            pos = _SEP.match(d, pos).end()
        if first and cmd.upper() != "M":
            fail("path data must start with M")
        first = False
        up, rel = cmd.upper(), cmd.islower()
        if up == "Z":
            if cur is not None and cur.segments:
                if np.any(cur.end() != cur.start):
                    cur.segments.append(cur.start[None].copy())
                    cur.commands.append(1)
                    cur.close_added = True
                cur.closed = True
                point = cur.start.copy()
                subpaths.append(cur)
                cur = Subpath(point.copy(), commands=[])
            elif cur is not None:
                point = cur.start.copy()
            last_ctrl, last_cmd = None, "Z"
            continue
        base = point if rel else np.zeros(2)
        if up == "M":
            x, y = read_number(), read_number()
            point = base + (x, y)
            if cur is not None and cur.segments:
                subpaths.append(cur)
            cur = Subpath(point.copy(), commands=[])
            cmd = "l" if rel else "L"   # following pairs are implicit line-tos
            last_ctrl, last_cmd = None, "M"
            continue
        if cur is None or cur.closed:
            cur = Subpath(point.copy(), commands=[])
        if up == "L":
            p = base + (read_number(), read_number())
            seg = p[None]
        elif up == "H":
            x = read_number()
            p = np.array([point[0] + x if rel else x, point[1]])
            seg = p[None]
        elif up == "V":
            y = read_number()
            p = np.array([point[0], point[1] + y if rel else y])
            seg = p[None]
        elif up == "C":
            c1 = base + (read_number(), read_number())
            c2 = base + (read_number(), read_number())
            p = base + (read_number(), read_number())
            seg = np.stack([c1, c2, p])
        elif up == "S":
            c1 = 2 * point - last_ctrl if last_cmd in "CS" and last_ctrl is not None else point.copy()
            c2 = base + (read_number(), read_number())
            p = base + (read_number(), read_number())
            seg = np.stack([c1, c2, p])
        elif up == "Q":
            c1 = base + (read_number(), read_number())
            p = base + (read_number(), read_number())
            seg = np.stack([c1, p])
        elif up == "T":
            c1 = 2 * point - last_ctrl if last_cmd in "QT" and last_ctrl is not None else point.copy()
            p = base + (read_number(), read_number())
            seg = np.stack([c1, p])
        else:  # A
            rx, ry, rot = read_number(), read_number(), read_number()
            large, sweep = read_flag(), read_flag()
            p = base + (read_number(), read_number())
            arc = arc_to_cubics(point, rx, ry, rot, large, sweep, p)
            cur.segments += arc
            if arc:
                if len(arc[0]) == 3:   # a true arc (not the straight line of a zero radius)
                    cur.marker_arcs = cur.marker_arcs or {}
                    cur.marker_arcs[len(cur.commands)] = arc_marker_cubics(point, rx, ry, rot, large, sweep, p)
                cur.commands.append(len(arc))
            npts += 3 * 4
            point, last_ctrl, last_cmd = p, None, "A"
            continue
        cur.segments.append(seg)
        cur.commands.append(1)
        npts += len(seg)
        if npts > max_points:
            fail(f"more than {max_points} points")
        last_ctrl = seg[-2] if len(seg) > 1 else None
        last_cmd = up
        point = p
    if cur is not None and cur.segments:
        subpaths.append(cur)
    return [s for s in subpaths if s.segments]


# ---------------------------------------------------------------------------------------
# arcs
# ---------------------------------------------------------------------------------------


def _arc_pieces(radius: float, sweep: float) -> int:
    """Cubic pieces so that the radial error of each (Goldapp's bound) is <= ARC_TOLERANCE."""
    n = max(1, math.ceil(abs(sweep) / (math.pi / 2) - 1e-9))
    while n < 256:
        q = abs(sweep) / n / 4.0
        err = radius * 2.0 / 27.0 * math.sin(q) ** 6 / max(math.cos(q) ** 2, 1e-12)
        if err <= ARC_TOLERANCE:
            break
        n += 1
    return n


def _resvg_arc_pieces(radius: float, sweep: float) -> int:
    """Cubic pieces resvg uses for an arc (kurbo's rule at tolerance 0.1 user units): about
    one per quarter turn at common sizes."""
    n_err = max((1.1163 * radius / 0.1) ** (1.0 / 6.0), 3.999_999)
    return max(1, math.ceil(n_err * abs(sweep) / (2.0 * math.pi)))


def ellipse_arc_cubics(center, rx, ry, phi, theta0, dtheta, pieces=None) -> List[np.ndarray]:
    """Cubics along the ellipse (center, rx, ry, x-axis rotation phi) from angle theta0
    through dtheta (radians; positive goes from +x towards +y); ``pieces``: how many
    (default: enough for ARC_TOLERANCE)."""
    n = pieces or _arc_pieces(max(abs(rx), abs(ry)), dtheta)
    d = dtheta / n
    k = 4.0 / 3.0 * math.tan(d / 4.0)
    cp, sp = math.cos(phi), math.sin(phi)
    rot = np.array([[cp, -sp], [sp, cp]])

    def pt(t):
        return center + rot @ np.array([rx * math.cos(t), ry * math.sin(t)])

    def tangent(t):
        return rot @ np.array([-rx * math.sin(t), ry * math.cos(t)])

    out = []
    for i in range(n):
        a, b = theta0 + i * d, theta0 + (i + 1) * d
        p0, p3 = pt(a), pt(b)
        out.append(np.stack([p0 + k * tangent(a), p3 - k * tangent(b), p3]))
    return out


def arc_marker_cubics(p0, rx, ry, rot_deg, large, sweep, p1) -> List[np.ndarray]:
    """The same arc as :func:`arc_to_cubics`, in resvg's number of pieces (for markers)."""
    return arc_to_cubics(p0, rx, ry, rot_deg, large, sweep, p1, resvg_pieces=True)


def arc_to_cubics(p0, rx, ry, rot_deg, large, sweep, p1, resvg_pieces=False) -> List[np.ndarray]:
    """SVG endpoint arc -> cubic segments (SVG 1.1 implementation notes F.6.5 / F.6.6)."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    if np.all(p0 == p1):
        return []
    rx, ry = abs(rx), abs(ry)
    if rx == 0 or ry == 0:
        return [p1[None].copy()]
    phi = math.radians(rot_deg % 360.0)
    cp, sp = math.cos(phi), math.sin(phi)
    dx, dy = (p0 - p1) / 2.0
    x1 = cp * dx + sp * dy
    y1 = -sp * dx + cp * dy
    lam = (x1 / rx) ** 2 + (y1 / ry) ** 2
    if lam > 1:
        s = math.sqrt(lam)
        rx, ry = rx * s, ry * s
    num = rx * rx * ry * ry - rx * rx * y1 * y1 - ry * ry * x1 * x1
    den = rx * rx * y1 * y1 + ry * ry * x1 * x1
    coef = math.sqrt(max(num, 0.0) / den) if den > 0 else 0.0
    if large == sweep:
        coef = -coef
    cxp, cyp = coef * rx * y1 / ry, -coef * ry * x1 / rx
    center = np.array([cp * cxp - sp * cyp, sp * cxp + cp * cyp]) + (p0 + p1) / 2.0

    def angle(ux, uy, vx, vy):
        return math.atan2(ux * vy - uy * vx, ux * vx + uy * vy)

    ux, uy = (x1 - cxp) / rx, (y1 - cyp) / ry
    vx, vy = (-x1 - cxp) / rx, (-y1 - cyp) / ry
    theta0 = angle(1.0, 0.0, ux, uy)
    dtheta = angle(ux, uy, vx, vy)
    if not sweep and dtheta > 0:
        dtheta -= 2 * math.pi
    elif sweep and dtheta < 0:
        dtheta += 2 * math.pi
    pieces = _resvg_arc_pieces(max(rx, ry), dtheta) if resvg_pieces else None
    segs = ellipse_arc_cubics(center, rx, ry, phi, theta0, dtheta, pieces)
    segs[-1][-1] = p1  # land exactly on the endpoint
    return segs


# ---------------------------------------------------------------------------------------
# basic shapes as subpaths (dashing needs their outlines, starting where SVG says)
# ---------------------------------------------------------------------------------------


def ellipse_subpath(cx, cy, rx, ry) -> Subpath:
    """Closed ellipse from (cx + rx, cy), clockwise on screen (towards +y)."""
    segs = ellipse_arc_cubics(np.array([cx, cy], float), rx, ry, 0.0, 0.0, 2 * math.pi)
    start = np.array([cx + rx, cy], float)
    segs[-1][-1] = start
    return Subpath(start, segs, True)


def rect_subpath(x, y, w, h, rx, ry) -> Subpath:
    """Closed (rounded) rectangle from (x + rx, y) clockwise, corner radii already clamped."""
    def line(px, py):
        return np.array([[px, py]], float)

    start = np.array([x + rx, y], float)
    round_ = rx > 0 and ry > 0
    segs = [line(x + w - rx, y)] if w > 2 * rx else []
    if round_:
        segs += ellipse_arc_cubics(np.array([x + w - rx, y + ry]), rx, ry, 0, -math.pi / 2, math.pi / 2)
    if h > 2 * ry:
        segs.append(line(x + w, y + h - ry))
    if round_:
        segs += ellipse_arc_cubics(np.array([x + w - rx, y + h - ry]), rx, ry, 0, 0, math.pi / 2)
    if w > 2 * rx:
        segs.append(line(x + rx, y + h))
    if round_:
        segs += ellipse_arc_cubics(np.array([x + rx, y + h - ry]), rx, ry, 0, math.pi / 2, math.pi / 2)
    if h > 2 * ry or not round_:
        segs.append(line(x, y + ry))
    if round_:
        segs += ellipse_arc_cubics(np.array([x + rx, y + ry]), rx, ry, 0, math.pi, math.pi / 2)
    segs[-1][-1] = start
    return Subpath(start, segs, True)


def poly_subpath(points: np.ndarray, closed: bool) -> Subpath:
    segs = [p[None].copy() for p in points[1:]]
    added = closed and (len(points) < 2 or bool(np.any(points[-1] != points[0])))
    if added:
        segs.append(points[0][None].copy())
    return Subpath(points[0].copy(), segs, closed, close_added=added)


# ---------------------------------------------------------------------------------------
# dashing
# ---------------------------------------------------------------------------------------

_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)
_TABLE = 32  # arc-length table resolution per segment


def _as_cubic(p0, seg):
    if len(seg) == 1:
        return np.stack([p0, p0 + (seg[0] - p0) / 3, p0 + 2 * (seg[0] - p0) / 3, seg[0]])
    if len(seg) == 2:
        return np.stack([p0, p0 + 2 / 3 * (seg[0] - p0), seg[1] + 2 / 3 * (seg[0] - seg[1]), seg[1]])
    return np.concatenate([p0[None], seg])


def _bezier(ctrl, t):
    """Point of the Bezier with control points ctrl (k+1, 2) at parameters t (m,)."""
    pts = np.repeat(ctrl[None], len(t), 0)
    t = t[:, None, None]
    while pts.shape[1] > 1:
        pts = (1 - t) * pts[:, :-1] + t * pts[:, 1:]
    return pts[:, 0]


def _speed(ctrl, t):
    k = len(ctrl) - 1
    deriv = k * (ctrl[1:] - ctrl[:-1])
    return np.linalg.norm(_bezier(deriv, t), axis=-1) if k > 1 else np.full(len(t), np.linalg.norm(deriv[0]))


def _length_table(ctrl):
    """Cumulative arc length at t = k / _TABLE, (TABLE + 1,)."""
    a = np.arange(_TABLE)[:, None] / _TABLE
    t = a + (_GL_X[None] + 1) / (2 * _TABLE)
    w = _GL_W[None] / (2 * _TABLE)
    piece = (_speed(ctrl, t.ravel()).reshape(t.shape) * w).sum(1)
    return np.concatenate([[0.0], np.cumsum(piece)])


def _t_at(ctrl, table, s):
    """Parameter at arc length s along one segment (table lookup + Newton steps)."""
    if s <= 0:
        return 0.0
    if s >= table[-1]:
        return 1.0
    k = int(np.searchsorted(table, s) - 1)
    k = min(max(k, 0), _TABLE - 1)
    seg_len = table[k + 1] - table[k]
    t = (k + (s - table[k]) / seg_len) / _TABLE if seg_len > 0 else k / _TABLE
    lo, hi = k / _TABLE, (k + 1) / _TABLE
    for _ in range(4):
        # length from t_k to t by Gauss-Legendre, then a Newton step on it
        tt = lo + (t - lo) * (_GL_X + 1) / 2
        part = table[k] + (_speed(ctrl, tt) * _GL_W).sum() * (t - lo) / 2
        v = _speed(ctrl, np.array([t]))[0]
        if v <= 1e-12:
            break
        t = min(max(t - (part - s) / v, lo), hi)
    return t


def _split(ctrl, t0, t1):
    """The piece of a Bezier between parameters t0 < t1, as control points."""
    def left(c, t):  # de Casteljau: control points of [0, t]
        out, pts = [c[0]], c
        while len(pts) > 1:
            pts = (1 - t) * pts[:-1] + t * pts[1:]
            out.append(pts[0])
        return np.array(out)

    def right(c, t):
        return left(c[::-1], 1 - t)[::-1]

    if t1 < 1:
        c = left(ctrl, t1)
        t0 = t0 / t1 if t1 > 0 else 0.0
    else:
        c = ctrl
    return right(c, t0) if t0 > 0 else c


def dash_subpaths(subpaths: List[Subpath], pattern: List[float], offset: float,
                  keep_zero: bool, max_dashes: int) -> List[Subpath]:
    """Split subpaths into open dash subpaths. ``pattern``: even-length, non-negative,
    positive sum. The pattern restarts at each subpath. Zero-length dashes are kept (as a
    zero-length line) only when ``keep_zero`` (round / square caps draw them)."""
    total = float(sum(pattern))
    out: List[Subpath] = []
    for sp in subpaths:
        # segments with their control points and arc-length tables
        p0, segs = sp.start, []
        for seg in sp.segments:
            ctrl = np.concatenate([p0[None], seg])
            table = _length_table(ctrl)
            segs.append((ctrl, table))
            p0 = seg[-1]
        starts = np.concatenate([[0.0], np.cumsum([t[-1] for _, t in segs])])
        length = starts[-1]
        # dash intervals [a, b] along this subpath
        phase = offset % total
        s = -phase
        i = 0
        intervals = []
        while s < length:
            seg_len = pattern[i % len(pattern)]
            if i % 2 == 0:
                a, b = max(s, 0.0), min(s + seg_len, length)
                if b > a + 1e-7 * max(1.0, length) or (keep_zero and seg_len == 0 and 0 <= s <= length):
                    intervals.append((a, b))
            s += seg_len
            i += 1
            if len(intervals) + len(out) > max_dashes:
                raise ValueError(f"stroke-dasharray produces more than {max_dashes} dashes")
        for a, b in intervals:
            out.append(_extract(segs, starts, a, b))
    return out


def _extract(segs, starts, a, b) -> Subpath:
    n = len(segs)
    ia = min(int(np.searchsorted(starts, a, side="right") - 1), n - 1)
    ib = min(int(np.searchsorted(starts, b, side="left") - 1), n - 1)
    ia, ib = max(ia, 0), max(ib, ia)
    pieces = []
    eps = 1e-9 * max(1.0, abs(b))
    for i in range(ia, ib + 1):
        ctrl, table = segs[i]
        if ia < ib and min(b, starts[i + 1]) - max(a, starts[i]) <= eps:
            continue  # touches this segment only at a float-rounding sliver
        t0 = _t_at(ctrl, table, a - starts[i]) if i == ia else 0.0
        t1 = _t_at(ctrl, table, b - starts[i]) if i == ib else 1.0
        if t1 < t0:
            t1 = t0
        pieces.append(_split(ctrl, t0, t1) if (t0 > 0 or t1 < 1) else ctrl)
    start = pieces[0][0].copy()
    return Subpath(start, [p[1:].copy() for p in pieces], False)
