"""Marker vertices of float64 subpaths and their auto-orient directions, as resvg places
them (our conformance reference): points in user units, angles in degrees (y down, so
positive angles turn clockwise on screen).

The vertices are those of the path data: each subpath's moveto, the end of every command
(an arc is one segment although it becomes several cubics; resvg's split of it, see
``Subpath.marker_arcs``, adds its joins) and each closepath (zero-length when the data is
already back at the subpath's start).
"""
from __future__ import annotations

import math
from typing import Iterator, List, Optional, Tuple

import numpy as np

from ..values.paths import Subpath

_COINCIDENT = 1e-9  # control points closer than this x (1 + |coordinates|) coincide


def _segment_count(sp: Subpath) -> int:
    """Marker segments of a subpath: one per path-data command (an arc: one per piece of
    resvg's split, see ``Subpath.marker_arcs``), plus a zero-length closepath."""
    n = len(sp.commands) if sp.commands is not None else len(sp.segments)
    if sp.marker_arcs:
        n += sum(len(pieces) - 1 for pieces in sp.marker_arcs.values())
    return n + (1 if sp.closed and not sp.close_added else 0)


def vertex_count(subpaths: List[Subpath]) -> int:
    """Number of marker vertices of a path (int): per subpath, its start + one per segment."""
    return sum(1 + _segment_count(sp) for sp in subpaths)


class _Segments:
    """The path-data segments of one subpath, built on demand (a path may hold 2M points).

    ``self[k]``: float64 (m, 2) control polygon of segment k, its start point first and its
    end point last (an arc's cubics concatenated; a zero-length closepath is [start, start]).
    """

    def __init__(self, sp: Subpath):
        self.sp = sp
        sizes = sp.commands if sp.commands is not None else [1] * len(sp.segments)
        self.offsets = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
        self.count = _segment_count(sp)
        # marker segment -> (command, piece of an arc's marker split or -1); only built
        # when the subpath has arcs (a path may hold 2M points)
        self.index = None
        if sp.marker_arcs:
            self.index = [(c, j) for c in range(len(sizes))
                          for j in (range(len(sp.marker_arcs[c])) if c in sp.marker_arcs else (-1,))]

    def __len__(self):
        return self.count

    def __getitem__(self, k: int) -> np.ndarray:
        sp = self.sp
        c, piece = self.index[k] if self.index is not None and k < len(self.index) else (k, -1)
        if c >= len(self.offsets) - 1:          # the zero-length closepath
            return np.stack([sp.start, sp.start])
        lo, hi = self.offsets[c], self.offsets[c + 1]
        first = sp.start if lo == 0 else sp.segments[lo - 1][-1]
        if piece >= 0:
            pieces = sp.marker_arcs[c]
            start = first if piece == 0 else pieces[piece - 1][-1]
            return np.concatenate([start[None], pieces[piece]])
        return np.concatenate([first[None]] + [np.asarray(s, np.float64) for s in sp.segments[lo:hi]])


def _leaving(ctrl: np.ndarray) -> Optional[np.ndarray]:
    """Unit (2,) direction from ctrl[0] to the first control point distinct from it (the
    tangent at the start of a Bezier), None for a zero-length segment.

    Exception, as resvg: a cubic whose first control point coincides with its start points
    at its end point (not at its second control point, the true tangent)."""
    tol = _COINCIDENT * (1.0 + float(np.abs(ctrl).max()))
    if len(ctrl) == 4 and np.all(np.abs(ctrl[1] - ctrl[0]) <= tol):
        ctrl = ctrl[[0, 3, 2]]
    for q in ctrl[1:]:
        d = q - ctrl[0]
        if abs(d[0]) > tol or abs(d[1]) > tol:
            return d / math.hypot(d[0], d[1])
    return None


def _arriving(ctrl: np.ndarray) -> Optional[np.ndarray]:
    """Unit (2,) tangent direction at the end of a segment (into its end point), or None."""
    d = _leaving(ctrl[::-1])
    return None if d is None else -d


def _angle(d: Optional[np.ndarray]) -> float:
    """Degrees of a direction; 0 (the +x axis) when there is none (a zero-length path)."""
    return 0.0 if d is None else math.degrees(math.atan2(d[1], d[0]))


def _bisect(d_in: Optional[np.ndarray], d_out: Optional[np.ndarray]) -> float:
    """Degrees of the bisector of an incoming and an outgoing direction.

    resvg's rule: half-way from the incoming angle to the outgoing one, turned by 180
    degrees when that half-turn exceeds 90 (so a reversal points across, to one side)."""
    if d_in is None or d_out is None:
        return _angle(d_out if d_in is None else d_in)
    a_in, a_out = _angle(d_in) % 360.0, _angle(d_out) % 360.0
    half = (a_out - a_in) / 2.0
    angle = a_in + half
    if abs(half) > 90.0:
        angle -= 180.0
    return angle % 360.0


def _first_leaving(segs: _Segments, k: int = 0) -> Optional[np.ndarray]:
    """Start direction of the first non-zero segment at index >= k (None if none)."""
    for j in range(k, len(segs)):
        d = _leaving(segs[j])
        if d is not None:
            return d
    return None


def _last_arriving(segs: _Segments) -> Optional[np.ndarray]:
    """End direction of the last non-zero segment (None if the subpath has no length)."""
    for j in range(len(segs) - 1, -1, -1):
        d = _arriving(segs[j])
        if d is not None:
            return d
    return None


def _end_vertex(sp: Subpath) -> Tuple[np.ndarray, float]:
    """The last vertex of a subpath, without walking the others (a path may be huge)."""
    segs = _Segments(sp)
    return segs[len(segs) - 1][-1], _angle(_last_arriving(segs))


def _subpath_vertices(sp: Subpath) -> Iterator[Tuple[np.ndarray, float]]:
    """(point float64 (2,), auto angle in degrees) of each vertex of one subpath, lazily.

    Zero-length segments take their directions from the nearest non-zero segments (SVG
    1.1 F.5): the start direction from the preceding one, else the following one; the end
    direction from the following one, else the preceding one. As resvg renders them (our
    conformance reference; SVG 2 would bisect both with the closing segment), a closed
    subpath's start vertex points along its first segment and its closing vertex along
    the closing segment.
    """
    segs = _Segments(sp)
    n = len(segs)
    ahead = [-1, None]   # (index, start direction) of the next non-zero segment, memoised

    def next_start(k):
        """_first_leaving(segs, k), remembering where it found it (amortised linear)."""
        if ahead[0] < k:
            j = k
            while j < n and _leaving(segs[j]) is None:
                j += 1
            ahead[0], ahead[1] = j, (_leaving(segs[j]) if j < n else None)
        return ahead[1]

    yield np.asarray(sp.start, np.float64), _angle(next_start(0))
    prev_end = None   # end direction of the nearest non-zero segment before the vertex
    for k in range(1, n + 1):      # vertex k: the end of segment k - 1
        seg = segs[k - 1]
        d_in = _arriving(seg)
        if d_in is not None:
            prev_end = d_in
        else:
            d_in = next_start(k)
            d_in = prev_end if d_in is None else d_in
        if k == n:
            angle = _angle(d_in)
        else:
            d_out = _leaving(segs[k])
            if d_out is None:
                d_out = prev_end if prev_end is not None else next_start(k + 1)
            angle = _bisect(d_in, d_out)
        yield seg[-1], angle


def vertices(subpaths: List[Subpath], which: str) -> Iterator[Tuple[np.ndarray, float]]:
    """(point (2,), auto angle in degrees) of the vertices one marker property decorates.

    which: 'start' (the path's first vertex), 'mid' (all but the first and last), 'end'
    (the last). Lazy: a 'mid' consumer that stops early costs only what it used.
    """
    if not subpaths:
        return
    if which == "start":
        yield next(_subpath_vertices(subpaths[0]))
        return
    if which == "end":
        yield _end_vertex(subpaths[-1])
        return
    total, index = vertex_count(subpaths), 0
    for sp in subpaths:
        last = index + _segment_count(sp)
        for v in _subpath_vertices(sp):
            # A closed subpath's closing vertex takes no marker-mid (resvg; it coincides
            # with the subpath's start, which has one).
            if 0 < index < total - 1 and not (sp.closed and index == last):
                yield v
            index += 1
