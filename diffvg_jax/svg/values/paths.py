"""SVG path data -> float64 NumPy subpaths (arcs become cubics within ARC_TOLERANCE).

A *subpath* here is ``Subpath(start, segments, closed)``: ``start`` a (2,) point,
``segments`` a list of (k, 2) arrays holding each segment's control points and end point
(k = 1 line, 2 quadratic, 3 cubic), ``closed`` a bool. A closed subpath's last segment
ends exactly at ``start`` (the diffvg_jax Path omits that point). Markers need the path
data's own segments, which ``commands`` and ``close_added`` keep (see ``Subpath``).
Geometry on subpaths (basic shapes, bounding boxes, dashing, marker vertices) is in
:mod:`diffvg_jax.svg.outlines`.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np
import regex

from ..errors import FLOAT32_MAX
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
_NUM = regex.compile(NUMBER)
_SEP = re.compile(r"[\s,]*")
_WS = re.compile(r"\s*")


class PathDataError(ValueError):
    """Broken path data; ``subpaths`` holds what was read before the error."""

    def __init__(self, message, subpaths):
        super().__init__(message)
        self.subpaths = subpaths


# One pass of a state machine (position, current point and subpath, reflected control
# point, previous command, point count) that every command reads and updates.
# long-function: split up, all of that state would be threaded through each piece.
def parse_path_data(d: str, max_points: int = 2_000_000, max_segments: int = 100_000) -> List[Subpath]:
    """Parse SVG path data. On an error, raises PathDataError carrying the subpaths read
    up to the error (SVG: render up to the first error). More than ``max_points`` control
    points or ``max_segments`` segments (arcs counted as their cubics) is such an error."""
    subpaths: List[Subpath] = []
    cur: Optional[Subpath] = None
    pos, n = 0, len(d)
    point = np.zeros(2)
    last_ctrl = None      # reflected control point for S / T
    last_cmd = ""
    cmd = None
    npts = nsegs = 0

    def fail(msg):
        # identity, not ==: a Subpath holds arrays, whose == has no truth value
        done = subpaths + ([cur] if cur is not None and all(cur is not s for s in subpaths) else [])
        raise PathDataError(f"path data: {msg} at character {pos}", [s for s in done if s.segments])

    def read_number():
        nonlocal pos
        pos = _SEP.match(d, pos).end()
        m = _NUM.match(d, pos)
        if not m:
            fail(f"expected a number, found {d[pos:pos + 10]!r}" if pos < n else "missing number")
        v = float(m.group(0))
        if not abs(v) <= FLOAT32_MAX:
            fail("number not finite in float32")
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
            if not np.all(np.abs(base + (x, y)) <= FLOAT32_MAX):
                fail("relative coordinates add up past float32")
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
            got = _checked_arc(point, rx, ry, rot, large, sweep, p)
            if got is None:
                fail("arc not computable in float32 (radii or end point too large)")
            arc, marker_arc = got
            if nsegs + len(arc) > max_segments:
                fail(f"more than {max_segments} segments")
            nsegs += len(arc)
            cur.segments += arc
            if arc:
                if len(arc[0]) == 3:   # a true arc (not the straight line of a zero radius)
                    cur.marker_arcs = cur.marker_arcs or {}
                    cur.marker_arcs[len(cur.commands)] = marker_arc
                cur.commands.append(len(arc))
            npts += 3 * len(arc)
            if npts > max_points:
                fail(f"more than {max_points} points")
            point, last_ctrl, last_cmd = p, None, "A"
            continue
        if not np.all(np.abs(seg) <= FLOAT32_MAX):
            fail("relative coordinates add up past float32")
        if nsegs >= max_segments:
            fail(f"more than {max_segments} segments")
        nsegs += 1
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


def _checked_arc(p0, rx, ry, rot, large, sweep, p1):
    """(arc_to_cubics, arc_marker_cubics) of an arc, or None when its numbers are not
    finite in float32 (huge radii overflow the endpoint-to-centre conversion)."""
    try:
        with np.errstate(all="ignore"):   # overflow shows as inf / nan: checked below
            arc = arc_to_cubics(p0, rx, ry, rot, large, sweep, p1)
            marker = arc_marker_cubics(p0, rx, ry, rot, large, sweep, p1) if arc and len(arc[0]) == 3 else None
    except (OverflowError, ValueError, ZeroDivisionError):
        return None
    if not all(np.all(np.abs(seg) <= FLOAT32_MAX) for seg in arc + (marker or [])):
        return None
    return arc, marker


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
    return min(256, max(1, math.ceil(n_err * abs(sweep) / (2.0 * math.pi))))   # (as _arc_pieces: bounded)


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
