"""Distance along a path for <textPath>: the path's segments with their arc lengths, and
the frame (point, tangent) at a distance (user units): the Bezier parameter at that arc
length (from 256 chords per curve), the tangent the curve's derivative there."""
from __future__ import annotations

from typing import List, Optional

import numpy as np

from ..outlines import bezier_points
from ..values.paths import Subpath

SAMPLES_PER_SEGMENT = 256   # chords per curve for its arc length
MAX_SAMPLES = 1_000_000      # chords of one path in all (huge paths get fewer per curve)


def _derivative(ctrl: np.ndarray, t: float) -> np.ndarray:
    """Derivative (2,) of the Bezier with control points ctrl (k+1, 2) at t."""
    k = len(ctrl) - 1
    return k * bezier_points(np.diff(ctrl, axis=0), np.array([t]))[0] if k > 1 else ctrl[1] - ctrl[0]


class PathSampler:
    """The segments (float64 control points, user units, mapped by ``matrix``) of a path's
    subpaths with their cumulative lengths; the jump between subpaths adds no length."""

    def __init__(self, subpaths: List[Subpath], matrix: np.ndarray):
        self.segments, starts = [], []
        total = 0.0
        n_curves = sum(len(sp.segments) for sp in subpaths)
        per = int(min(SAMPLES_PER_SEGMENT, max(8, MAX_SAMPLES // max(n_curves, 1))))
        t = np.linspace(0.0, 1.0, per + 1)
        for sp in subpaths:
            p0 = sp.start
            for seg in sp.segments:
                ctrl = np.concatenate([p0[None], seg]) @ matrix[:2, :2].T + matrix[:2, 2]
                p0 = seg[-1]
                dense = bezier_points(ctrl, t) if len(ctrl) > 2 else ctrl
                cum = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(dense, axis=0), axis=1))])
                length = float(cum[-1])
                if length <= 0:
                    continue
                self.segments.append((ctrl, cum, t if len(ctrl) > 2 else np.array([0.0, 1.0])))
                starts.append(total)
                total += length
        self.starts = np.array(starts)
        self.length = total

    def frame(self, d: float) -> Optional[np.ndarray]:
        """float64 (3, 3) frame at distance ``d``: local (u, v) -> point + u * tangent +
        v * normal (normal = tangent turned +90 degrees, y down); None off the path."""
        if self.length <= 0 or d < 0 or d > self.length:
            return None
        i = int(np.clip(np.searchsorted(self.starts, d, side="right") - 1, 0, len(self.segments) - 1))
        ctrl, cum, ts = self.segments[i]
        t = float(np.interp(d - self.starts[i], cum, ts))
        p = bezier_points(ctrl, np.array([t]))[0]
        tangent = _derivative(ctrl, t)
        n = np.linalg.norm(tangent)
        tx, ty = (tangent / n) if n > 0 else (1.0, 0.0)
        return np.array([[tx, -ty, p[0]], [ty, tx, p[1]], [0.0, 0.0, 1.0]])
