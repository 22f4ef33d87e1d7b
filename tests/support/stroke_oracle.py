"""Reference geometry for stroke tests (float64 NumPy, written from the stroke definition).

The stroke of a polyline centre line is the union of
  * one trapezoid per piece: v_k +- w_k n_k, v_{k+1} +- w_{k+1} n_k (n_k the piece normal),
  * one join region per join vertex, on the side the path turns away from:
      bevel: triangle (v, p_in, p_out); miter: quadrilateral (v, p_in, tip, p_out) when
      1 / cos(turn / 2) <= miter_limit (else the bevel); round: the circular sector of radius
      w between p_in and p_out; flattening vertices (joint_mask False): the round sector,
  * caps at the ends of open subpaths: butt nothing; square the half-width rectangle beyond
    the end; round the half disc.
Zero-length pieces take the direction of the previous real piece, else of the next one,
else +x. Rounded parts are drawn by the stroker as inscribed polygons with a known angular
step, so points between that polygon and the true circle are "don't care" (skipped).

Also: winding numbers of edge lists at points, and the signed (shoelace) area of edges.
"""
from __future__ import annotations

import math

import numpy as np

MIN_PIECE_LENGTH = 1e-6


def _cross(a, b):
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def _left(t):
    return np.array([-t[1], t[0]])


def _rot(u, a):
    c, s = math.cos(a), math.sin(a)
    return np.array([u[0] * c - u[1] * s, u[0] * s + u[1] * c])


def piece_tangents(v):
    """Unit tangents (P, 2) of the pieces of v (V, 2), with the inheritance rule above."""
    d = np.diff(v, axis=0)
    lens = np.hypot(d[:, 0], d[:, 1])
    ok = lens > MIN_PIECE_LENGTH
    t = np.zeros_like(d)
    for k in range(len(d)):
        if ok[k]:
            t[k] = d[k] / lens[k]
            continue
        before = [j for j in range(k) if ok[j]]
        after = [j for j in range(k + 1, len(d)) if ok[j]]
        j = before[-1] if before else (after[0] if after else None)
        t[k] = np.array([1.0, 0.0]) if j is None else d[j] / lens[j]
    return t


class StrokeRegion:
    """The stroke region of one subpath; see the module docstring."""

    def __init__(self, vertices, half_widths, *, closed, joint_mask, join, cap, miter_limit, round_points=8):
        v = np.asarray(vertices, np.float64)
        w = np.asarray(half_widths, np.float64)
        mask = np.asarray(joint_mask, bool)
        if len(v) == 1:
            v, w, mask = np.concatenate([v, v]), np.concatenate([w, w]), np.ones(2, bool)
        self.polygons = []   # convex polygons (k, 2)
        self.sectors = []    # (centre, radius, start unit vector, signed sweep, angular step)
        t = piece_tangents(v)
        P = len(t)
        for k in range(P):
            n = _left(t[k])
            self.polygons.append(np.array([v[k] + w[k] * n, v[k + 1] + w[k + 1] * n,
                                           v[k + 1] - w[k + 1] * n, v[k] - w[k] * n]))
        joins = range(0, P) if closed else range(1, P)
        for j in joins:
            t_in, t_out = t[j - 1], t[j]        # j - 1 = -1 wraps for the closing vertex
            turn = math.atan2(_cross(t_in, t_out), float(t_in @ t_out))
            if turn == 0.0:
                continue
            side = -1.0 if turn > 0 else 1.0    # turning left, the right (-left normal) is outside
            o_in, o_out = side * _left(t_in), side * _left(t_out)
            c, r = v[j], w[j]
            p_in, p_out = c + r * o_in, c + r * o_out
            is_joint = closed and j == 0 or mask[j]
            if not is_joint:
                self.sectors.append((c, r, o_in, turn, abs(turn) / 2))
            elif join == "round":
                self.sectors.append((c, r, o_in, turn, abs(turn) / (round_points + 1)))
            elif join == "miter" and 1.0 / math.cos(turn / 2) <= miter_limit:
                # tip: where the outer offset lines (through p_in along t_in, through p_out
                # along t_out) meet
                ab = np.linalg.solve(np.stack([t_in, -t_out], axis=1), p_out - p_in)
                self.polygons.append(np.array([c, p_in, p_in + ab[0] * t_in, p_out]))
            else:
                self.polygons.append(np.array([c, p_in, p_out]))
        if not closed:
            for c, r, tan, sweep in ((v[-1], w[-1], t[-1], -math.pi), (v[0], w[0], -t[0], math.pi)):
                n = _left(t[-1]) if sweep < 0 else _left(t[0])
                if cap == "square":
                    self.polygons.append(np.array([c + r * n, c + r * n + r * tan, c - r * n + r * tan, c - r * n]))
                elif cap == "round":
                    # from the left normal, sweeping through the outward tangent
                    self.sectors.append((c, r, n, sweep, math.pi / (round_points + 1)))

    def boundary_segments(self):
        """Every edge of every region (an over-estimate of the union's boundary), (M, 2, 2)."""
        segs = []
        for poly in self.polygons:
            segs += [(poly[i], poly[(i + 1) % len(poly)]) for i in range(len(poly))]
        for c, r, u, sweep, _ in self.sectors:
            segs += [(c, c + r * u), (c, c + r * _rot(u, sweep))]
        return np.array(segs).reshape(-1, 2, 2)

    def classify(self, points, tol=1e-4):
        """(inside, skip) bool (N,) for points (N, 2): skip marks points within tol of a
        region edge or in the band between a rounded part and its inscribed polygon."""
        q = np.asarray(points, np.float64)
        inside = np.zeros(len(q), bool)
        skip = distance_to_segments(q, self.boundary_segments()) < tol
        for poly in self.polygons:
            area2 = np.sum(_cross(poly, np.roll(poly, -1, axis=0)))
            if abs(area2) < 1e-12:
                continue
            near = np.flatnonzero(np.all((q >= poly.min(0)) & (q <= poly.max(0)), axis=1))
            e = np.roll(poly, -1, axis=0) - poly
            s = np.sign(area2) * _cross(e[None], q[near, None] - poly[None])  # (n, k)
            inside[near[np.all(s > 0, axis=1)]] = True
        for c, r, u, sweep, step in self.sectors:
            near = np.flatnonzero(np.all(np.abs(q - c) <= r + tol, axis=1))
            d = q[near] - c
            dist = np.hypot(d[:, 0], d[:, 1])
            ang = np.arctan2(_cross(u, d), d @ u) * np.sign(sweep)
            in_cone = (ang >= 0) & (ang <= abs(sweep))
            core = r * math.cos(step / 2)
            inside[near[in_cone & (dist < core)]] = True
            skip[near[in_cone & (dist >= core - tol) & (dist <= r + tol)]] = True
        return inside, skip


def distance_to_segments(q, segs):
    """Minimum distance (N,) from points q (N, 2) to segments (M, 2, 2)."""
    best = np.full(len(q), np.inf)
    for a, b in np.asarray(segs, np.float64):
        ab = b - a
        s = np.clip(((q - a) @ ab) / max(ab @ ab, 1e-300), 0.0, 1.0)
        d = q - (a + s[:, None] * ab)
        np.minimum(best, d[:, 0] ** 2 + d[:, 1] ** 2, out=best)
    return np.sqrt(best)


def winding_numbers(edges, points):
    """Winding numbers (N,) int of the closed edge set (E, 2, 2) around points (N, 2)
    (counter-clockwise with y up counts +1)."""
    q = np.asarray(points, np.float64)
    px, py = q[:, 0], q[:, 1]
    wn = np.zeros(len(q), np.int64)
    for (x0, y0), (x1, y1) in np.asarray(edges, np.float64):
        if y0 == y1:
            continue
        lo, hi = (y0, y1) if y0 < y1 else (y1, y0)
        idx = np.flatnonzero((py >= lo) & (py < hi))   # half-open: y0 <= py < y1 (or reversed)
        side = (x1 - x0) * (py[idx] - y0) - (px[idx] - x0) * (y1 - y0)
        if y1 > y0:
            wn[idx[side > 0]] += 1
        else:
            wn[idx[side < 0]] -= 1
    return wn


def signed_area(edges):
    """Shoelace area of closed contours given as edges (E, 2, 2) = integral of the winding."""
    e = np.asarray(edges, np.float64)
    return 0.5 * float(np.sum(e[:, 0, 0] * e[:, 1, 1] - e[:, 1, 0] * e[:, 0, 1]))


def sample_grid(lo, hi, n):
    """n x n points over the box [lo, hi]^2 at an irrational offset (no exact alignments)."""
    g = np.linspace(0.0, 1.0, n, endpoint=False) + 0.5 / n
    xs = lo[0] + (hi[0] - lo[0]) * (g + 0.0137)
    ys = lo[1] + (hi[1] - lo[1]) * (g + 0.0291)
    X, Y = np.meshgrid(xs, ys)
    return np.stack([X.ravel(), Y.ravel()], axis=1)
