"""stroke-dasharray on float64 subpaths: dashes follow arc length (Gauss-Legendre tables,
Newton steps), user units. The pattern restarts at each subpath, as in SVG."""
from __future__ import annotations

import math
from typing import List

import numpy as np

from ..values.paths import Subpath
from .curves import bezier_points

_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)
_TABLE = 32  # arc-length table resolution per segment


def _speed(ctrl, t):
    k = len(ctrl) - 1
    deriv = k * (ctrl[1:] - ctrl[:-1])
    return np.linalg.norm(bezier_points(deriv, t), axis=-1) if k > 1 else np.full(len(t), np.linalg.norm(deriv[0]))


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
    zero-length line) only when ``keep_zero`` (round / square caps draw them).

    The work is bounded before it is done: the number of dashes each subpath needs is
    computed arithmetically (periods x dashes per period, however short the dashes are)
    and ValueError is raised when the total would pass ``max_dashes``. Dash positions are
    computed from the period index, never accumulated, so tiny entries cannot stall."""
    total = float(sum(pattern))
    starts_in_period = np.concatenate([[0.0], np.cumsum(pattern)[:-1]])
    drawn = [j for j in range(0, len(pattern), 2) if pattern[j] > 0 or keep_zero]
    if not drawn:
        return []   # only zero-length dashes, with butt caps: nothing to draw
    phase = offset % total
    out: List[Subpath] = []
    planned = 0
    tables = []
    for sp in subpaths:
        # segments with their control points and arc-length tables
        p0, segs = sp.start, []
        for seg in sp.segments:
            ctrl = np.concatenate([p0[None], seg])
            segs.append((ctrl, _length_table(ctrl)))
            p0 = seg[-1]
        starts = np.concatenate([[0.0], np.cumsum([t[-1] for _, t in segs])])
        periods = math.ceil((starts[-1] + phase) / total) if math.isfinite(starts[-1]) else math.inf
        planned += periods * len(drawn)
        if planned > max_dashes:
            raise ValueError(f"stroke-dasharray produces more than {max_dashes} dashes "
                             f"(the path is {starts[-1]:.6g} long, the pattern {total:.6g})")
        tables.append((segs, starts, periods))
    for segs, starts, periods in tables:
        length = starts[-1]
        for k in range(int(periods)):
            base = k * total - phase
            if base >= length:
                break
            for j in drawn:
                s, seg_len = base + starts_in_period[j], pattern[j]
                if s >= length:
                    break
                a, b = max(s, 0.0), min(s + seg_len, length)
                clipped = a != s or b != s + seg_len
                if b > a + 1e-7 * max(1.0, length) or (b > a and not clipped) or (seg_len == 0 and s >= 0):
                    out.append(_extract(segs, starts, a, b))
    if len(out) > max_dashes:
        raise ValueError(f"stroke-dasharray produces more than {max_dashes} dashes")
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
